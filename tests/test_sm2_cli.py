"""SM2 with SM3 end to end from the command line: demo, hierarchy, CRLs, trust and revocation
lists signed with SM2, issuing, verifying (text and QR picture), revoking and auditing, with a
mixed trust list (an SM2 and an ES256 document signer under one SM2 CA)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509

from ecard.cli import main
from ecard.crypto.algorithms import SM2_WITH_SM3_OID


def ecard(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out + err


def test_demo_with_sm2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = ecard(capsys, "demo", "--alg", "SM2", "--out", tmp_path)
    assert code == 0, out
    assert "SM2 (sm2p256v1) with SM3" in out
    assert "[VALID]" in out and "SM2: SM2 with SM3" in out
    for name in ("issuer-cert.pem", "root-cert.pem"):
        cert = x509.load_pem_x509_certificate((tmp_path / name).read_bytes())
        assert cert.signature_algorithm_oid.dotted_string == SM2_WITH_SM3_OID
    assert b"BEGIN PRIVATE KEY" in (tmp_path / "issuer-key.pem").read_bytes()
    # the QR picture read back by zxing-cpp verifies
    code, out = ecard(
        capsys, "verify", "--image", tmp_path / "card.png", "--trust", tmp_path / "issuer-cert.pem"
    )
    assert code == 0 and "[VALID]" in out, out
    # the demo's SM2 card against an unrelated trust anchor is not accepted
    other = tmp_path / "other"
    assert ecard(capsys, "demo", "--alg", "SM2", "--out", other)[0] == 0
    code, out = ecard(
        capsys,
        "verify",
        "--trust",
        other / "issuer-cert.pem",
        (tmp_path / "card.txt").read_text().strip(),
    )
    assert code != 0 and "UNKNOWN_KID" in out


def test_sm2_trust_lifecycle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOT_PW", "root key pass 根密钥")
    pki, pub = tmp_path / "pki", tmp_path / "publish"

    def ok(*args: str | Path) -> str:
        code, out = ecard(capsys, *args)
        assert code == 0, f"{args}: {out}"
        return out

    ok("demo", "--out", tmp_path / "demo")
    ok("pki", "root", "--out", pki, "--cn", "SM2 Root CA", "--alg", "SM2",
       "--key-password-env", "ROOT_PW")  # fmt: skip
    ca_args = ("--ca-cert", pki / "root-cert.pem", "--ca-key", pki / "root-key.pem",
               "--ca-key-password-env", "ROOT_PW")  # fmt: skip
    ok("pki", "ca", "--out", pki, "--name", "ca", "--cn", "SM2 Beijing CA", "--alg", "SM2",
       *ca_args)  # fmt: skip
    ok("pki", "list-signer", "--out", pki, "--name", "lists", "--cn", "SM2 List Signer",
       "--alg", "SM2", *ca_args)  # fmt: skip
    signer_ca = ("--ca-cert", pki / "ca-cert.pem", "--ca-key", pki / "ca-key.pem")
    ok("pki", "signer", "--out", pki, "--name", "sm2", "--cn", "Beijing SM2 Signer",
       "--alg", "SM2", *signer_ca)  # fmt: skip
    ok("pki", "signer", "--out", pki, "--name", "es", "--cn", "Beijing ES256 Signer",
       "--alg", "ES256", *signer_ca)  # fmt: skip
    assert b"ENCRYPTED PRIVATE KEY" in (pki / "root-key.pem").read_bytes()
    pub.mkdir()
    ok("pki", "crl", "--out", pub / "root.crl", *ca_args[:4], "--ca-key-password-env", "ROOT_PW")
    ok("pki", "crl", "--out", pub / "ca.crl", *signer_ca)
    ok("trust", "build", "--out", tmp_path / "manifest.json", "--chain", pki / "ca-cert.pem",
       "--region", "110000", "--sequence", "1", pki / "sm2-cert.pem", pki / "es-cert.pem")  # fmt: skip
    lists = ("--key", pki / "lists-key.pem", "--cert", pki / "lists-cert.pem")
    ok("trust", "sign", tmp_path / "manifest.json", *lists, "--out", pub / "trust.ectl")
    ok("revoke", "--out", pub / "revoked.ecrl", *lists)
    texts = {}
    for name in ("sm2", "es"):
        out = ok("issue", "--key", pki / f"{name}-key.pem", "--cert", pki / f"{name}-cert.pem",
                 tmp_path / "demo" / "card.json")  # fmt: skip
        texts[name] = out.strip().splitlines()[-1]
        assert texts[name].startswith("EC1:")
    verify = ("verify", "--trust-list", pub / "trust.ectl", "--revocation-list",
              pub / "revoked.ecrl", "--root", pki / "root-cert.pem", "--crl", pub / "root.crl",
              "--crl", pub / "ca.crl", "--state", tmp_path / "state.json", "--json")  # fmt: skip
    for name, alg in (("sm2", "SM2"), ("es", "ES256")):
        result = json.loads(ok(*verify, texts[name]))
        assert (result["code"], result["alg"]) == ("OK", alg)
    # revoke the SM2 card with an SM2-signed revocation list
    ok("revoke", "--list", pub / "revoked.ecrl", "--text", texts["sm2"], *lists,
       "--out", pub / "revoked.ecrl")  # fmt: skip
    code, out = ecard(capsys, *verify, texts["sm2"])
    assert code != 0 and json.loads(out)["code"] == "REVOKED"
    assert json.loads(ok(*verify, texts["es"]))["code"] == "OK"
    # a national-algorithms-only counter: SM2 cards and SM2-signed lists only
    sm2_only = (*verify, "--allow-alg", "SM2")
    code, out = ecard(capsys, *sm2_only, texts["sm2"])  # lists accepted, card checked
    assert code != 0 and json.loads(out)["code"] == "REVOKED", out
    code, out = ecard(capsys, *sm2_only, texts["es"])
    assert code != 0 and json.loads(out)["code"] == "UNSUPPORTED_ALG", out
    code, out = ecard(capsys, *verify, "--allow-alg", "ES256", texts["es"])
    assert code != 0 and "BAD_LIST" in out and "signed with SM2" in out, out
    # one changed signature byte of the SM2 trust list: refused before anything is read
    raw = bytearray((pub / "trust.ectl").read_bytes())
    raw[-5] ^= 0x01
    (tmp_path / "bad.ectl").write_bytes(bytes(raw))
    code, out = ecard(capsys, *verify[:2], tmp_path / "bad.ectl", *verify[3:], texts["es"])
    assert code != 0 and "BAD_LIST" in out, out
    # the audit names the algorithms and passes every SM2 signature
    (tmp_path / "sm2.txt").write_text(texts["sm2"] + "\n")
    code, out = ecard(capsys, "audit", "--json", "--root", pki / "root-cert.pem",
                      "--crl", pub / "root.crl", "--crl", pub / "ca.crl",
                      "--trust-list", pub / "trust.ectl", pub / "trust.ectl",
                      pub / "revoked.ecrl", tmp_path / "sm2.txt")  # fmt: skip
    findings = json.loads(out)["findings"]
    assert [f["kind"] for f in findings] == ["trust-list", "revocation-list", "qr-text"], findings
    assert all(f["indication"] == "TOTAL-PASSED" for f in findings), findings
    assert all(f["algorithm"].startswith("SM2: SM2 with SM3") for f in findings), findings


def test_issuance_journal_with_an_sm2_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal records SM2 issuances and its head is signed and checked with SM2."""
    monkeypatch.setenv("PSEUDO", "11" * 32)
    demo, db = tmp_path / "demo", tmp_path / "journal.db"
    assert ecard(capsys, "demo", "--alg", "SM2", "--out", demo)[0] == 0
    key, cert = demo / "issuer-key.pem", demo / "issuer-cert.pem"
    for _ in range(2):
        code, out = ecard(capsys, "issue", "--key", key, "--cert", cert, "--journal", db,
                          "--operator", "window-3", "--pseudonym-key-env", "PSEUDO",
                          demo / "card.json")  # fmt: skip
        assert code == 0, out
    code, out = ecard(capsys, "journal", "sign-head", db, "--key", key, "--cert", cert)
    assert code == 0, out
    code, out = ecard(capsys, "journal", "verify", "--json", "--key-cert", cert, db)
    assert code == 0 and json.loads(out)["ok"] is True, out
    # a head "signed" by another SM2 key under the same name is not accepted
    other = tmp_path / "other"
    assert ecard(capsys, "demo", "--alg", "SM2", "--out", other)[0] == 0
    code, out = ecard(capsys, "journal", "verify", "--json", "--key-cert",
                      other / "issuer-cert.pem", db)  # fmt: skip
    assert code != 0 and json.loads(out)["ok"] is False, out
