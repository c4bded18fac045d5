"""Every command speaks the operator's language (``--lang zh``: typed errors and what was
written), says its defaults and exit statuses in ``--help``, never replaces a picture, PDF or
signed head without ``--force``, and ``ecard issue --now`` issues as of an explicit instant.
Driven in-process through ``ecard.cli.main`` with real keys and certificates; pictures are
read back by zxing-cpp."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from tests.conftest import T0

from ecard.cli import build_parser, main
from ecard.cli.errors import HelpFormatter
from ecard.formats.qrimage import read_texts
from ecard.signing.pki import CertifiedKey

#: Three English words in a row: what a Chinese message must not contain.
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){2,}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def ecard(args: list[object], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        status = main([str(a) for a in args])
    except SystemExit as exc:  # argparse usage errors
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


CARD = {
    "holder": {"name": "张三丰", "ssn": "11010519491231002X"},
    "card_number": "A12345678",
    "region": "110105",
    "issued": "2026-01-01",
    "expires": "2036-01-01",
}


@pytest.fixture
def pki(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A root and a document signer made by ``ecard pki`` (Chinese output), and a card record."""
    d = tmp_path
    status, out, _ = ecard(["pki", "root", "--out", d, "--cn", "Root", "--lang", "zh"], capsys)
    assert status == 0 and "已写入" in out and "主体：" in out and "有效期：" in out, out
    assert not ENGLISH_SENTENCE.search(out), out
    cmd = ["pki", "signer", "--out", d, "--cn", "Signer", "--lang", "zh"]
    status, out, _ = ecard(
        [*cmd, "--ca-cert", d / "root-cert.pem", "--ca-key", d / "root-key.pem"], capsys
    )
    assert status == 0 and "kid：" in out, out
    (d / "card.json").write_text(json.dumps(CARD), encoding="utf-8")
    return d


def _chinese_error(err: str, code: str) -> None:
    assert f"[{code}]" in err, err
    assert CJK.search(err), err
    assert not ENGLISH_SENTENCE.search(err), err


def test_a_typed_error_of_every_command_group_is_chinese(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d, missing = pki, tmp_path / "none.pem"
    key, cert = ["--key", d / "signer-key.pem"], ["--cert", d / "signer-cert.pem"]
    zh = ["--lang", "zh"]
    cases: list[tuple[list[object], int, str]] = [
        # pki: the CA certificate cannot be read
        (
            ["pki", "signer", "--out", d / "x", "--cn", "X", "--ca-cert", missing,
             "--ca-key", missing, *zh],
            1, "BAD_CERTIFICATE",
        ),
        (["pki", "crl", "--out", d / "c.crl", "--ca-cert", missing, "--ca-key", missing, *zh],
         1, "BAD_CERTIFICATE"),
        # trust: the manifest cannot be read
        (["trust", "sign", missing, *key, *cert, "--out", d / "t.ectl", *zh], 1, "BAD_INPUT"),
        (["trust", "build", missing, "--out", d / "m.json", *zh], 1, "BAD_CERTIFICATE"),
        # revoke: an entry that is not KID:CTI
        (["revoke", "--entry", "zz", "--out", d / "r.ecrl", *key, *cert, *zh], 1, "BAD_INPUT"),
        # issue: a journal without an operator's pseudonym key
        (["issue", d / "card.json", *key, *cert, "--journal", d / "j.db", *zh], 1, "BAD_INPUT"),
        # pdf: the card record cannot be read
        (["pdf", missing, d / "card.pdf", *key, *cert, *zh], 1, "BAD_INPUT"),
        # journal: no journal there (the verifier cannot run)
        (["journal", "verify", d / "none.db", *zh], 3, "BAD_INPUT"),
        (["journal", "show", d / "none.db", *zh], 1, "BAD_INPUT"),
        # verify and audit: the trust file cannot be read
        (["verify", "--trust", missing, "EC1:X", *zh], 3, "BAD_CERTIFICATE"),
        (["audit", "--trust", missing, d / "card.json", *zh], 3, "BAD_CERTIFICATE"),
    ]  # fmt: skip
    for args, status, code in cases:
        got, out, err = ecard(args, capsys)
        assert got == status, (args, err)
        _chinese_error(err, code)
        assert not out
    # the same error in English by default
    status, _, err = ecard(["revoke", "--entry", "zz", "--out", d / "r.ecrl", *key, *cert], capsys)
    assert status == 1 and "--entry takes KID:CTI in hex" in err


def test_success_output_is_chinese(pki: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = pki
    cmd = ["pki", "list-signer", "--out", d, "--cn", "Lists", "--lang", "zh"]
    cmd += ["--ca-cert", d / "root-cert.pem", "--ca-key", d / "root-key.pem"]
    assert ecard(cmd, capsys)[0] == 0
    lists = ["--key", d / "list-signer-key.pem", "--cert", d / "list-signer-cert.pem"]
    status, out, _ = ecard(
        ["trust", "build", d / "signer-cert.pem", "--out", d / "m.json", "--lang", "zh"], capsys
    )
    assert status == 0 and "已写入" in out and "序号 1" in out, out
    status, out, _ = ecard(
        ["trust", "sign", d / "m.json", *lists, "--out", d / "t.ectl", "--lang", "zh"], capsys
    )
    assert status == 0 and "信任列表序号 1" in out and "下次更新" in out, out
    status, out, err = ecard(
        ["trust", "verify", d / "t.ectl", "--root", d / "root-cert.pem", "--lang", "zh"], capsys
    )
    assert status == 0 and "信任列表有效：序号 1" in out and "可用" in out, out
    assert "未给出 --crl" in err
    status, out, _ = ecard(
        ["revoke", "--entry", "00" * 8 + ":" + "11" * 16, "--out", d / "r.ecrl", *lists,
         "--lang", "zh"],
        capsys,
    )  # fmt: skip
    assert status == 0 and "吊销列表序号 1：新增 1 个" in out, out
    ca = ["--ca-cert", d / "root-cert.pem", "--ca-key", d / "root-key.pem"]
    status, out, _ = ecard(["pki", "crl", "--out", d / "root.crl", *ca, "--lang", "zh"], capsys)
    assert status == 0 and "CRL 编号 1" in out and "下次更新" in out, out
    for text in (out,):
        assert "：" in text and not ENGLISH_SENTENCE.search(text.split("CN=")[0]), text


# -- help -------------------------------------------------------------------------------------


def _parsers(p: argparse.ArgumentParser, name: str = "ecard"):  # type: ignore[no-untyped-def]
    yield name, p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_option_has_help_and_shows_its_default() -> None:
    seen = 0
    for name, p in _parsers(build_parser()):
        formatter = p._get_formatter()
        assert isinstance(formatter, HelpFormatter), name
        for action in p._actions:
            if isinstance(action, argparse._HelpAction | argparse._VersionAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                continue
            label = f"{name} {'/'.join(action.option_strings) or action.dest}"
            assert action.help, f"{label} has no help"
            shown = " ".join(formatter._expand_help(action).split())
            seen += 1
            if action.default is None or not action.option_strings:
                continue
            if isinstance(action.default, bool):  # a flag may say what "off" means instead
                assert "default: " in shown, f"{label}: {shown!r}"
            else:
                assert f"default: {action.default}" in shown, f"{label}: {shown!r}"
    assert seen > 150


def test_every_command_help_lists_its_exit_statuses() -> None:
    leaves = 0
    for name, p in _parsers(build_parser()):
        if name == "ecard":
            continue
        epilog = p.epilog or ""
        assert "exit status" in epilog, f"{name}: no exit statuses in its help"
        if not any(isinstance(a, argparse._SubParsersAction) for a in p._actions):
            leaves += 1
            for status in ("0 ", "1 ", "2 "):
                assert status in epilog, f"{name}: {epilog}"
        if name in ("ecard verify", "ecard audit", "ecard trust verify", "ecard journal verify"):
            assert "3 " in epilog, f"{name}: {epilog}"
    assert leaves >= 15


# -- refusing to overwrite --------------------------------------------------------------------


def test_issue_pictures_are_not_replaced_without_force(
    pki: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = pki
    png, svg = d / "card.png", d / "card.svg"
    png.write_bytes(b"keep me")
    svg.write_bytes(b"keep me too")
    issue = ["issue", d / "card.json", "--key", d / "signer-key.pem"]
    issue += ["--cert", d / "signer-cert.pem", "--png", png, "--svg", svg]
    status, out, err = ecard(issue, capsys)
    assert status == 2 and str(png) in err and "--force" in err and not out, err
    assert png.read_bytes() == b"keep me" and svg.read_bytes() == b"keep me too"
    status, out, err = ecard([*issue, "--lang", "zh"], capsys)
    assert status == 2 and "已存在" in err and "--force" in err
    status, out, err = ecard([*issue, "--force"], capsys)
    assert status == 0, err
    assert read_texts(png.read_bytes()) == [out.strip()]
    assert b"<svg" in svg.read_bytes()
    # the same file for both pictures is a usage error, not one picture lost
    status, _, err = ecard([*issue[:6], "--png", png, "--svg", png, "--force"], capsys)
    assert status == 2 and "twice" in err


def test_pdf_is_not_replaced_without_force(pki: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = pki
    out_pdf = d / "card.pdf"
    out_pdf.write_bytes(b"%PDF-1.7 an earlier card")
    cmd = ["pdf", d / "card.json", out_pdf, "--key", d / "signer-key.pem"]
    cmd += ["--cert", d / "signer-cert.pem"]
    status, out, err = ecard(cmd, capsys)
    assert status == 2 and str(out_pdf) in err and "--force" in err and not out
    assert out_pdf.read_bytes() == b"%PDF-1.7 an earlier card"
    status, out, err = ecard([*cmd, "--force"], capsys)
    assert status == 0, err
    assert out_pdf.read_bytes().startswith(b"%PDF") and out.startswith("EC1:")
    assert out_pdf.read_bytes() != b"%PDF-1.7 an earlier card"


def test_signed_head_is_not_replaced_without_force(
    pki: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d = pki
    monkeypatch.setenv("H10_PSEUDONYM", "ab" * 32)
    key, cert = ["--key", d / "signer-key.pem"], ["--cert", d / "signer-cert.pem"]
    journal = [
        "--journal",
        d / "j.db",
        "--operator",
        "op-1",
        "--pseudonym-key-env",
        "H10_PSEUDONYM",
    ]
    assert ecard(["issue", d / "card.json", *key, *cert, *journal], capsys)[0] == 0
    heads = d / "heads"
    sign = ["journal", "sign-head", d / "j.db", *key, *cert, "--out", heads]
    status, out, _ = ecard([*sign, "--lang", "zh"], capsys)
    assert status == 0 and "已签署日志头，位于第 1 条记录" in out
    (head,) = heads.iterdir()
    original = head.read_bytes()
    head.write_bytes(b"a head kept elsewhere")
    status, _, err = ecard(sign, capsys)
    assert status == 2 and str(head) in err and "--force" in err
    assert head.read_bytes() == b"a head kept elsewhere"
    status, _, err = ecard([*sign, "--force"], capsys)
    assert status == 0, err
    assert head.read_bytes() == original


# -- issue --now ------------------------------------------------------------------------------


@pytest.fixture
def fixed_signer(ds: CertifiedKey, tmp_path: Path) -> list[object]:
    (tmp_path / "ds-key.pem").write_bytes(ds.key_pem())
    (tmp_path / "ds-cert.pem").write_bytes(ds.certificate_pem())
    (tmp_path / "card.json").write_text(json.dumps(CARD), encoding="utf-8")
    return [
        tmp_path / "card.json",
        "--key",
        tmp_path / "ds-key.pem",
        "--cert",
        tmp_path / "ds-cert.pem",
    ]


def test_issue_now_is_the_credentials_iat(
    fixed_signer: list[object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    when = T0 + dt.timedelta(hours=2)
    at = when.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()
    status, out, err = ecard(["issue", *fixed_signer, "--now", at], capsys)
    assert status == 0, err
    text = out.strip()
    (tmp_path / "card.txt").write_text(text + "\n")
    status, out, _ = ecard(["inspect", text], capsys)
    assert status == 0
    iat = dt.datetime.fromisoformat(json.loads(out)["claims"]["iat"])
    assert iat == when
    verify = ["verify", "--json", "--trust", tmp_path / "ds-cert.pem"]
    status, out, _ = ecard(
        [*verify, "--now", (when + dt.timedelta(minutes=1)).isoformat(), text], capsys
    )
    assert status == 0 and json.loads(out)["code"] == "OK"
    # before the credential's own iat: not yet valid, proving --now was used
    status, out, _ = ecard(
        [*verify, "--now", (when - dt.timedelta(days=2)).isoformat(), text], capsys
    )
    assert status == 1 and json.loads(out)["code"] == "NOT_YET_VALID"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2026-03-01T10:00:00", "time zone"),
        ("yesterday", "not an ISO 8601 time"),
        ("0001-01-01T00:00:00+14:00", "out of range"),
        ("9999-12-31T23:59:59-14:00", "out of range"),
        ("1969-12-31T23:59:59+00:00", "out of range"),
    ],
)
def test_issue_now_at_the_edges_of_the_calendar_is_a_usage_error(
    fixed_signer: list[object], value: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = ecard(["issue", *fixed_signer, f"--now={value}"], capsys)
    assert status == 2 and says in err and not out, err


def test_issue_now_outside_the_signer_certificate_is_a_typed_error(
    fixed_signer: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = ecard(["issue", *fixed_signer, "--now", "2040-01-01T00:00:00+00:00"], capsys)
    assert status == 1 and "[BAD_CERTIFICATE]" in err and not out, err


# -- verify --file ----------------------------------------------------------------------------


def test_verify_file_gives_each_result_its_file_and_line(
    fixed_signer: list[object],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = ["--now", T0.isoformat()]
    codes = []
    for _ in range(2):
        status, out, _ = ecard(["issue", *fixed_signer, *at], capsys)
        assert status == 0
        codes.append(out.strip())
    first = tmp_path / "codes.txt"
    # a BOM, a blank line, a damaged line, CR LF endings: cleaned as a scanner's input is
    first.write_bytes(f"\ufeff{codes[0]}\r\n\r\nEC1:NOPE\r\n  {codes[1]}  \r\n".encode())
    second = tmp_path / "more.txt"
    second.write_text(codes[1])  # no line end at the end
    verify = ["verify", "--json", "--trust", tmp_path / "ds-cert.pem", "--now"]
    verify.append((T0 + dt.timedelta(hours=1)).isoformat())
    status, out, err = ecard([*verify, "--file", first, "--file", second], capsys)
    assert status == 1
    results = [json.loads(line) for line in out.splitlines()]
    assert [(r["source"], r["code"]) for r in results] == [
        (f"{first}:1", "OK"),
        (f"{first}:3", "TRUNCATED"),
        (f"{first}:4", "OK"),
        (f"{second}:1", "OK"),
    ]
    assert {"valid", "code", "message", "card", "kid"} <= set(results[0])
    assert err.strip().endswith("summary: 3 OK, 1 TRUNCATED")
    # text output names the source too; "-" is standard input
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(f"{codes[0]}\n"))
    status, out, _ = ecard([a for a in verify if a != "--json"] + ["--file", "-"], capsys)
    assert status == 0 and "stdin:1" in out
    # a file that cannot be opened: nothing was judged (exit 3), in the language asked
    status, out, err = ecard([*verify, "--file", tmp_path / "none.txt", "--lang", "zh"], capsys)
    assert status == 3 and not out and "不存在" in err
    status, out, err = ecard([*verify, "--file", tmp_path, codes[0]], capsys)
    assert status == 2 and "one of TEXT, --image or --file" in err


def test_a_line_without_end_is_cut_not_held(
    fixed_signer: list[object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ecard.cli.verify import MAX_LINE

    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"EC1:" + b"A" * (4 * MAX_LINE))
    verify = ["verify", "--json", "--trust", tmp_path / "ds-cert.pem", "--file", huge]
    status, out, _ = ecard(verify, capsys)
    (result,) = [json.loads(line) for line in out.splitlines()]
    assert status == 1 and result["source"] == f"{huge}:1" and not result["valid"]


# -- why the issuer's certificate is invalid --------------------------------------------------


def test_issuer_cert_invalid_carries_the_typed_path_failure(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = pki
    status, text, _ = ecard(
        ["issue", d / "card.json", "--key", d / "signer-key.pem", "--cert", d / "signer-cert.pem"],
        capsys,
    )
    assert status == 0
    root = ["--ca-cert", d / "root-cert.pem", "--ca-key", d / "root-key.pem"]
    revoke = f"{d / 'signer-cert.pem'}@2020-01-01T00:00:00+00:00:keyCompromise"
    assert ecard(["pki", "crl", "--out", d / "root.crl", "--revoke", revoke, *root], capsys)[0] == 0
    verify = ["verify", "--trust", d / "signer-cert.pem", "--root", d / "root-cert.pem"]
    verify += ["--crl", d / "root.crl"]
    status, out, _ = ecard([*verify, "--json", text.strip()], capsys)
    result = json.loads(out)
    assert status == 1 and result["code"] == "ISSUER_CERT_INVALID"
    assert result["reason"] == "revoked"
    assert {"valid", "code", "message", "card", "kid"} <= set(result)
    status, out, _ = ecard([*verify, text.strip()], capsys)
    assert status == 1 and "reason: revoked" in out
    status, out, _ = ecard([*verify, "--lang", "zh", text.strip()], capsys)
    assert status == 1 and "原因：已吊销（revoked）" in out
    # another root: no chain leads from the signer to that anchor
    other = tmp_path / "other"
    assert ecard(["pki", "root", "--out", other, "--cn", "Other"], capsys)[0] == 0
    verify = ["verify", "--json", "--trust", d / "signer-cert.pem"]
    status, out, _ = ecard([*verify, "--root", other / "root-cert.pem", text.strip()], capsys)
    assert status == 1 and json.loads(out)["reason"] == "broken chain"
    # a failure that is not about the path has no reason
    status, out, _ = ecard([*verify, "EC1:NOPE"], capsys)
    assert json.loads(out)["reason"] is None


def test_several_path_failures_are_chosen_by_their_typed_reason() -> None:
    from ecard.errors import IssuerCertInvalidError, PathFailure
    from ecard.verify.paths import FAILURE_PRECEDENCE, most_telling

    assert set(FAILURE_PRECEDENCE) == set(PathFailure)

    def fail(reason: PathFailure | None, detail: str) -> IssuerCertInvalidError:
        return IssuerCertInvalidError(detail, reason=reason)

    # the text says "signature" but the reason is what counts, and the reverse
    broken = fail(PathFailure.BROKEN_CHAIN, "broken chain: path ok, no word to match")
    expired = fail(PathFailure.EXPIRED, "expired: signature of the CA checked")
    assert most_telling([broken, expired]) is expired
    revoked = fail(PathFailure.REVOKED, "revoked: ...")
    assert most_telling([expired, broken, revoked]) is revoked
    untrusted = fail(PathFailure.UNTRUSTED_ROOT, "untrusted root: ...")
    assert most_telling([broken, untrusted]) is untrusted
    # ties keep the first; a failure without a reason comes last
    second_broken = fail(PathFailure.BROKEN_CHAIN, "broken chain: another")
    assert most_telling([broken, second_broken]) is broken
    assert most_telling([fail(None, "?"), broken]) is broken
    with pytest.raises(ValueError, match="no failures"):
        most_telling([])


# -- byte caps --------------------------------------------------------------------------------


def test_pictures_are_capped_in_bytes_before_decoding(
    fixed_signer: list[object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ecard._files import MAX_IMAGE_FILE

    # a real, small PNG of a code followed by padding past the cap: refused unread
    status, _, _ = ecard(
        ["issue", *fixed_signer, "--now", T0.isoformat(), "--png", tmp_path / "c.png"], capsys
    )
    assert status == 0
    small = (tmp_path / "c.png").read_bytes()
    big = tmp_path / "big.png"
    big.write_bytes(small + b"\0" * (MAX_IMAGE_FILE + 1 - len(small)))
    verify = ["verify", "--json", "--trust", tmp_path / "ds-cert.pem"]
    status, out, _ = ecard([*verify, "--image", big], capsys)
    (result,) = [json.loads(line) for line in out.splitlines()]
    assert status == 1 and result["code"] == "BAD_IMAGE" and "too large" in result["message"]
    # the same picture under the cap is read (the cap, not the padding, refused it)
    status, out, _ = ecard(
        [*verify, "--now", T0.isoformat(), "--image", tmp_path / "c.png"], capsys
    )
    assert status == 0 and json.loads(out)["code"] == "OK"
    status, out, _ = ecard(["audit", "--json", "--trust", tmp_path / "ds-cert.pem", big], capsys)
    (finding,) = json.loads(out)["findings"]
    assert status == 1 and "too large" in finding["detail"]


def test_a_journal_value_past_the_cap_is_a_typed_error(
    pki: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from ecard.journal.verify import MAX_JOURNAL_VALUE

    d = pki
    monkeypatch.setenv("H10_PSEUDONYM", "cd" * 32)
    key, cert = ["--key", d / "signer-key.pem"], ["--cert", d / "signer-cert.pem"]
    journal = ["--journal", d / "j.db", "--operator", "op", "--pseudonym-key-env", "H10_PSEUDONYM"]
    assert ecard(["issue", d / "card.json", *key, *cert, *journal], capsys)[0] == 0
    assert ecard(["journal", "verify", d / "j.db"], capsys)[0] == 0
    conn = sqlite3.connect(d / "j.db")
    with conn:  # a record whose operator is larger than any real value
        conn.execute(
            "INSERT INTO journal_records (seq, kind, credential_id, holder, kid, recorded_at, "
            "operator, content_hash, prev_hash, record_hash) VALUES (2, 'card', 'aa', NULL, "
            "'bb', '2026-01-01T00:00:00Z', ?, 'cc', 'dd', 'ee')",
            ("x" * (MAX_JOURNAL_VALUE + 1),),
        )
    conn.close()
    status, out, err = ecard(["journal", "verify", d / "j.db", "--lang", "zh"], capsys)
    assert status == 1 and "[BAD_INPUT]" in err and "too big" in err and not out


def test_usage_errors_follow_lang_too(pki: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = pki
    cases = [
        (["issue", "--lang", "zh"], "缺少必需的参数：CARD.json, --cert"),
        (["pki", "root", "--out", d, "--cn", "X", "--days", "0", "--lang=zh"], "超出范围：允许 1 .. 36500"),
        (["issue", d / "card.json", "--cert", "c", "--now", "yesterday", "--lang", "zh"], "不是 ISO 8601 时间"),
        (["revoke", "--out", "o", "--cert", "c", "--bogus", "--lang", "zh"], "无法识别的参数：--bogus"),
    ]  # fmt: skip
    for args, says in cases:
        status, out, err = ecard(args, capsys)
        assert status == 2 and "用法错误：" in err and says in err and not out, err
        assert not ENGLISH_SENTENCE.search(err.splitlines()[-1].partition(":")[2]), err
    status, _, err = ecard(["issue"], capsys)  # English without --lang zh
    assert status == 2 and "the following arguments are required" in err
