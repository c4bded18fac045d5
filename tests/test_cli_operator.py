"""The operator commands cannot hurt their operator: CRL refreshes keep revocations, nothing is
overwritten without --force, list sequences only go up, numbers and times out of range are
usage errors. Driven in-process through ``ecard.cli.main`` with real keys and certificates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecard.cli import main


def ecard(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        status = main([str(a) for a in args])
    except SystemExit as exc:  # argparse usage errors
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


@pytest.fixture
def pki(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    d = tmp_path
    assert ecard(["pki", "root", "--out", d, "--cn", "Pilot Root"], capsys)[0] == 0
    for kind, cn, ca in (("ca", "CA", "root"), ("signer", "Signer", "ca")):
        cmd = ["pki", kind, "--out", d, "--cn", cn]
        cmd += ["--ca-cert", d / f"{ca}-cert.pem", "--ca-key", d / f"{ca}-key.pem"]
        assert ecard(cmd, capsys)[0] == 0
    cmd = ["pki", "list-signer", "--out", d, "--cn", "Lists"]
    cmd += ["--ca-cert", d / "root-cert.pem", "--ca-key", d / "root-key.pem"]
    assert ecard(cmd, capsys)[0] == 0
    return d


def test_crl_refresh_keeps_the_revocation_and_its_date(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = pki
    ca = ["--ca-cert", d / "ca-cert.pem", "--ca-key", d / "ca-key.pem"]
    root = ["--ca-cert", d / "root-cert.pem", "--ca-key", d / "root-key.pem"]
    assert ecard(["pki", "crl", "--out", d / "root.crl", *root], capsys)[0] == 0
    revoke = f"{d / 'signer-cert.pem'}@2020-01-01T00:00:00+00:00:keyCompromise"
    status, out, _ = ecard(["pki", "crl", "--out", d / "ca.crl", "--revoke", revoke, *ca], capsys)
    assert status == 0 and "CRL number 1" in out and "1 newly revoked" in out
    # a card signed with the revoked key after the revocation
    card = tmp_path / "card.json"
    card.write_text(
        json.dumps(
            {
                "holder": {"name": "张三丰", "ssn": "11010519491231002X"},
                "card_number": "A12345678",
                "region": "110105",
                "issued": "2026-01-01",
                "expires": "2036-01-01",
            }
        )
    )
    status, text, _ = ecard(
        ["issue", "--key", d / "signer-key.pem", "--cert", d / "signer-cert.pem", card], capsys
    )
    assert status == 0
    # the refresh the docs describe: same --out, no certificate repeated, no --number
    status, out, _ = ecard(["pki", "crl", "--out", d / "ca.crl", *ca], capsys)
    assert status == 0 and "CRL number 2" in out and "1 kept" in out
    # repeated without its date: the earlier date stays
    cmd = ["pki", "crl", "--out", d / "ca.crl", "--revoke", d / "signer-cert.pem", *ca]
    status, out, _ = ecard(cmd, capsys)
    assert status == 0 and "CRL number 3" in out and "1 already revoked" in out
    verify = ["verify", "--json", "--trust", d / "signer-cert.pem", "--root", d / "root-cert.pem"]
    verify += ["--ca", d / "ca-cert.pem", "--crl", d / "root.crl", "--crl", d / "ca.crl"]
    status, out, _ = ecard([*verify, text.strip()], capsys)
    assert status == 1 and json.loads(out)["code"] == "ISSUER_CERT_INVALID", out
    # an explicit number must go up
    status, _, err = ecard(["pki", "crl", "--out", d / "ca.crl", "--number", "3", *ca], capsys)
    assert status == 1 and "higher than the previous" in err


def test_nothing_is_overwritten_without_force(
    pki: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = pki
    key = (d / "root-key.pem").read_bytes()
    status, _, err = ecard(["pki", "root", "--out", d, "--cn", "Again"], capsys)
    assert status == 2 and "already exists" in err and "--force" in err
    assert (d / "root-key.pem").read_bytes() == key
    manifest = d / "manifest.json"
    build = ["trust", "build", "--out", manifest, d / "signer-cert.pem"]
    assert ecard(build, capsys)[0] == 0
    assert json.loads(manifest.read_text())["sequence"] == 1
    status, _, err = ecard(build, capsys)
    assert status == 2 and "already exists" in err
    # with --force the rebuilt manifest continues the sequence instead of resetting it
    assert ecard([*build, "--force"], capsys)[0] == 0
    assert json.loads(manifest.read_text())["sequence"] == 2
    status, _, err = ecard([*build, "--force", "--sequence", "2"], capsys)
    assert status == 2 and "must be higher" in err
    sign = ["trust", "sign", manifest, "--key", d / "list-signer-key.pem"]
    sign += ["--cert", d / "list-signer-cert.pem", "--out", d / "v.ectl"]
    assert ecard(sign, capsys)[0] == 0
    status, _, err = ecard(sign, capsys)
    assert status == 2 and "already exists" in err
    # the next build continues from the signed list
    cmd = [*build, "--force", "--previous", d / "v.ectl"]
    cmd += ["--previous-cert", d / "list-signer-cert.pem"]
    assert ecard(cmd, capsys)[0] == 0
    assert json.loads(manifest.read_text())["sequence"] == 3


def test_trust_sign_with_a_document_signer_key_fails_clearly(
    pki: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = pki
    assert ecard(["trust", "build", "--out", d / "m.json", d / "signer-cert.pem"], capsys)[0] == 0
    sign = ["trust", "sign", d / "m.json", "--key", d / "signer-key.pem"]
    status, _, err = ecard([*sign, "--cert", d / "signer-cert.pem", "--out", d / "x.ectl"], capsys)
    assert status == 1 and "ecard: error [" in err and not (d / "x.ectl").exists(), err


def test_trust_sign_records_in_the_journal(pki: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = pki
    assert ecard(["trust", "build", "--out", d / "m.json", d / "signer-cert.pem"], capsys)[0] == 0
    sign = ["trust", "sign", d / "m.json", "--key", d / "list-signer-key.pem"]
    sign += ["--cert", d / "list-signer-cert.pem", "--out", d / "v.ectl"]
    sign += ["--journal", d / "j.db", "--operator", "desk-1"]
    assert ecard(sign, capsys)[0] == 0
    status, out, _ = ecard(["journal", "verify", d / "j.db", "--json"], capsys)
    assert status == 0 and json.loads(out)["records"] == 1, out


def test_revoke_says_already_listed(pki: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = pki
    signer = ["--key", d / "list-signer-key.pem", "--cert", d / "list-signer-cert.pem"]
    entry = ["--entry", "0011223344556677:00112233445566778899aabbccddeeff"]
    status, out, _ = ecard(["revoke", *entry, *signer, "--out", d / "r.ecrl"], capsys)
    assert status == 0 and "1 added" in out
    cmd = ["revoke", "--list", d / "r.ecrl", *entry, *signer, "--out", d / "r.ecrl"]
    status, out, _ = ecard(cmd, capsys)
    assert status == 0 and "0 added, 1 already listed" in out and "sequence 2" in out


@pytest.mark.parametrize(
    "args",
    [
        ["pki", "root", "--out", "x", "--cn", "R", "--days", "0"],
        ["pki", "root", "--out", "x", "--cn", "R", "--days", "99999999999"],
        ["pki", "crl", "--out", "x", "--ca-cert", "c", "--ca-key", "k", "--number", "0"],
        ["pki", "crl", "--out", "x", "--ca-cert", "c", "--ca-key", "k", "--next-update-days", "-1"],
        [
            "pki",
            "crl",
            "--out",
            "x",
            "--ca-cert",
            "c",
            "--ca-key",
            "k",
            "--revoked-at",
            "9999-12-31T23:00:00-14:00",
        ],
        ["trust", "build", "--out", "x", "c", "--sequence", "18446744073709551616"],
        ["revoke", "--out", "x", "--cert", "c", "--next-update-days", "100000"],
        ["verify", "--trust", "c", "--now", "0001-01-01T00:00:00+01:00", "EC1:X"],
    ],
)
def test_out_of_range_values_are_usage_errors(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = ecard(args, capsys)
    assert status == 2 and ("out of range" in err or "allowed" in err), err


def test_journal_names_the_unset_variable(
    pki: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("ECARD_NO_SUCH_KEY", raising=False)
    (tmp_path / "c.json").write_text(
        '{"holder": {"name": "张三丰", "ssn": "11010519491231002X"}, "card_number": "A12345678",'
        ' "region": "110105", "issued": "2026-01-01", "expires": "2036-01-01"}'
    )
    cmd = ["issue", tmp_path / "c.json", "--key", pki / "signer-key.pem"]
    cmd += ["--cert", pki / "signer-cert.pem", "--journal", tmp_path / "j.db"]
    cmd += ["--operator", "w", "--pseudonym-key-env", "ECARD_NO_SUCH_KEY"]
    status, _, err = ecard(cmd, capsys)
    assert status == 1 and "ECARD_NO_SUCH_KEY" in err and "is unset" in err
    assert "secrets.token_hex(32)" in err


def test_demo_writes_a_root_crl_and_zh_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = ecard(["demo", "--out", tmp_path, "--lang", "zh"], capsys)
    assert status == 0 and (tmp_path / "root.crl").read_bytes().startswith(b"-----BEGIN X509 CRL")
    assert "正在创建演示根 CA" in out and "audit" in out and "--crl" in out
