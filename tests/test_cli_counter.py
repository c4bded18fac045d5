"""The counter's ``ecard verify``, ``inspect`` and ``audit``: what scanners send, exit statuses
that tell "card invalid" (1) from "verifier cannot run" (3), hints for trust files people get
wrong, and reports that name their source, region and time zone without leaking the holder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.proc import explain

from ecard.cli import main
from ecard.cli.verify import split_lines
from ecard.verify.regions import region_label, region_name

ROOT = Path(__file__).resolve().parents[1]
ECARD = [sys.executable, "-m", "ecard.cli"]
NOW = ["--now", "2027-01-01T08:00:00+08:00"]
FULL_ID, FULL_NAME = "11010519491231002X", "张三丰"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("counter-demo")
    assert main(["demo", "--out", str(out)]) == 0
    return out


def _text(demo: Path) -> str:
    return (demo / "card.txt").read_text().strip()


def _run(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*ECARD, *args], input=stdin, capture_output=True, timeout=120, cwd=ROOT)


def test_lines_end_at_cr_lf_or_crlf_and_blank_lines_are_skipped() -> None:
    chunks = ["A\r", "\nB\rC", "\n\n\r\nD\r", "E"]
    assert list(split_lines(chunks)) == [(1, "A"), (2, "B"), (3, "C"), (6, "D"), (7, "E")]


def test_cr_only_scanner_input_verifies_with_cleaning(demo: Path) -> None:
    text = _text(demo)
    stdin = f"\ufeff{text} \r {text}\r\r{text}\r\nEC1:abc\r".encode()
    proc = _run(["verify", "--json", "--trust", str(demo / "issuer-cert.pem"), *NOW], stdin)
    assert proc.returncode == 1, explain(proc)
    results = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r["code"] for r in results] == ["OK", "OK", "OK", "BAD_BASE45"]
    assert [r["source"] for r in results] == ["stdin:1", "stdin:2", "stdin:4", "stdin:5"]
    assert any("byte-order mark" in w for w in results[0]["warnings"])
    assert results[0]["region_name"] == "北京市 朝阳区"
    assert "summary: 3 OK, 1 BAD_BASE45" in proc.stderr.decode()


def test_a_single_cr_terminated_code_is_answered_before_eof(demo: Path) -> None:
    proc = subprocess.Popen(
        [*ECARD, "verify", "--oneline", "--trust", str(demo / "issuer-cert.pem"), *NOW],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdin and proc.stdout
    try:
        proc.stdin.write(_text(demo).encode() + b"\r")
        proc.stdin.flush()  # stdin stays open: the answer must come without EOF
        line = proc.stdout.readline().decode()
        assert line == "OK 张*丰 A1*****78 110105 stdin:1\n"
        assert FULL_NAME not in line
    finally:
        proc.kill()
        proc.wait()


def test_exit_3_when_the_verifier_cannot_run(demo: Path, tmp_path: Path) -> None:
    text = _text(demo)
    missing = str(tmp_path / "none.pem")
    assert main(["verify", "--trust", missing, text]) == 3
    assert main(["audit", "--trust", str(demo / "issuer-cert.pem"), missing]) == 3
    assert main(["verify", "--trust", str(demo / "issuer-cert.pem"), "EC1:abc"]) == 1
    for option in ("--trust", "--root", "--state"):
        args = ["verify", "--trust", str(demo), option, "", text]
        if option == "--trust":
            args = ["verify", "--trust", "", text]
        assert main(args) == 2, option


def test_audit_of_a_missing_file_is_not_a_finding(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "--trust", str(demo / "issuer-cert.pem"), str(tmp_path / "x.txt")]) == 3
    captured = capsys.readouterr()
    assert "Art. 13" not in captured.out and "No such file" in captured.err


def test_trust_file_hints(demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = _text(demo)
    assert main(["verify", "--trust", str(demo / "issuer-key.pem"), text]) == 3
    err = capsys.readouterr().err
    assert "this is a private key; --trust takes the issuer's certificate" in err
    assert "cryptography.io" not in err
    empty = tmp_path / "empty.pem"
    empty.write_bytes(b"")
    assert main(["verify", "--trust", str(empty), text]) == 3
    err = capsys.readouterr().err
    assert "the file is empty" in err and "ParseError" not in err
    assert main(["verify", "--trust", str(demo / "root-cert.pem"), *NOW, text]) == 1
    captured = capsys.readouterr()
    assert "is a CA certificate" in captured.err and "--root" in captured.err
    assert "UNKNOWN_KID" in captured.out
    assert main(["verify", "--lang", "zh", "--trust", str(demo / "root-cert.pem"), text]) == 1
    assert "是 CA 证书" in capsys.readouterr().err


def test_text_report_china_time_region_source_and_zh_colon(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trust = ["--trust", str(demo / "issuer-cert.pem"), *NOW]
    assert main(["verify", *trust, _text(demo)]) == 0
    out = capsys.readouterr().out
    assert "(China time, UTC+08:00)" in out and "110105 (北京市 朝阳区)" in out
    assert "Source" in out and FULL_ID not in out
    assert main(["verify", "--lang", "zh", *trust, "EC1:abc"]) == 1
    out = capsys.readouterr().out
    assert "代码：BAD_BASE45" in out and "来源：argument" in out


def test_unknown_region_is_shown_not_refused() -> None:
    assert region_name("110105") == "北京市 朝阳区"
    assert region_name("999999") is None
    assert region_label("999999") == "999999 (unknown region)"
    assert region_label("999999", "zh") == "999999（未知地区）"


def test_inspect_is_readable_masked_and_reads_stdin(demo: Path) -> None:
    proc = _run(["inspect"], (demo / "card.txt").read_bytes())
    assert proc.returncode == 0, explain(proc)
    info = json.loads(proc.stdout)
    card = info["claims"]["card"]
    assert card["name"] == "张*丰" and card["region_name"] == "北京市 朝阳区"
    assert info["claims"]["exp"].endswith("+08:00")
    assert FULL_ID not in proc.stdout.decode() and FULL_NAME not in proc.stdout.decode()
    revealed = json.loads(_run(["inspect", "--reveal", _text(demo)]).stdout)
    assert revealed["claims"]["card"]["ssn"] == FULL_ID


def test_every_option_has_help_and_statuses_are_documented() -> None:
    for command in ("verify", "audit", "inspect"):
        proc = _run([command, "--help"])
        assert b"exit status:" in proc.stdout, command
    verify_help = " ".join(_run(["verify", "--help"]).stdout.decode().split())
    assert "3 the verifier cannot run" in verify_help
    assert "(default: en)" in verify_help
