"""The one mapping from a command's outcome to the exit status and message of ``ecard``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from ecard.cli import main
from ecard.cli.errors import EXIT_CANNOT_RUN, EXIT_FAIL, EXIT_OK, EXIT_USAGE, UsageError, run
from ecard.errors import ExpiredError


def _args(**values: object) -> argparse.Namespace:
    return argparse.Namespace(**values)


def test_outcomes_and_errors_map_to_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(lambda a: True, _args()) == EXIT_OK
    assert run(lambda a: False, _args()) == EXIT_FAIL
    assert capsys.readouterr().err == ""

    def expired(_: argparse.Namespace) -> bool:
        raise ExpiredError("at 2026-01-01")

    assert run(expired, _args()) == EXIT_FAIL
    summary = (
        "the code has expired: refresh the code in the app (the card itself may still be valid)"
    )
    assert capsys.readouterr().err == f"ecard: error [EXPIRED] {summary}: at 2026-01-01\n"
    assert run(expired, _args(lang="zh")) == EXIT_FAIL
    zh = "二维码已过期：请在应用中刷新二维码（卡片本身可能仍有效）"
    assert capsys.readouterr().err == f"ecard: error [EXPIRED] {zh}：at 2026-01-01\n"

    def usage(_: argparse.Namespace) -> bool:
        raise UsageError("give X", "请给出 X")

    assert run(usage, _args()) == EXIT_USAGE
    assert capsys.readouterr().err == "ecard: usage error: give X\n"
    assert run(usage, _args(lang="zh")) == EXIT_USAGE
    assert capsys.readouterr().err == "ecard: 用法错误：请给出 X\n"


def test_os_errors_are_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def unreadable(_: argparse.Namespace) -> bool:
        (tmp_path / "missing").read_bytes()
        return True

    assert run(unreadable, _args()) == EXIT_FAIL
    err = capsys.readouterr().err
    assert err.startswith("ecard: error [BAD_INPUT] the input is invalid: No such file")
    assert str(tmp_path / "missing") in err

    def broken_pipe(_: argparse.Namespace) -> bool:
        raise BrokenPipeError

    assert run(broken_pipe, _args()) == EXIT_OK


def test_command_errors_follow_lang(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "none.pem")
    assert main(["verify", "--lang", "zh", "--trust", missing, "EC1:X"]) == EXIT_CANNOT_RUN
    assert capsys.readouterr().err.startswith("ecard: error [BAD_CERTIFICATE] 证书不可用：")
    assert main(["verify", "--trust", missing, "--trust-list", missing, "EC1:X"]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        "ecard: usage error: give either --trust or --trust-list, not both\n"
    )
