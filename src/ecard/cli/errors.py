"""The one place that turns a command's outcome into the ``ecard`` exit status and message.

Exit status: 0 success (every input valid), 1 failure (any input invalid, or an unusable file),
2 usage error, 3 the verifier itself cannot run (its trust, lists, state or the files to check
are unusable: nothing was judged), 130 interrupted. A command returns ``True`` when every input
was valid and ``False`` when one was not; it raises :class:`UsageError` for options that do not
go together, an :class:`~ecard.errors.EcardError` for input it cannot use, and may let an
``OSError`` out; a command that verifies sets itself up inside :func:`setting_up`, so what goes
wrong there is status 3 rather than 1.
:func:`run` maps each of these to its status and prints its message on standard error, in the
language of ``--lang`` (English where a command has no such option); no other module of
:mod:`ecard.cli` decides an exit status. Bad input never produces a traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from ecard._files import os_reason
from ecard.errors import BadInputError, EcardError, ErrorCode, Lang, describe

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_CANNOT_RUN, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

#: The exit statuses of a command that verifies, for its help epilog (en, zh).
STATUS_EPILOG = (
    "exit status: 0 every input valid; 1 an input is invalid; 2 usage error; "
    "3 the verifier cannot run (trust, lists, state or input files unusable); 130 interrupted",
    "退出状态：0 全部有效；1 有输入无效；2 用法错误；3 验证程序无法运行（信任、列表、状态或输入文件不可用）；"
    "130 被中断",
)

#: The exit statuses of a command that writes (issues, signs, creates), for its help epilog.
WRITE_EPILOG = (
    "exit status: 0 done; 1 an input is unusable (a file, key, certificate or record) or the "
    "work failed; 2 usage error (also: an output file exists and --force was not given); "
    "130 interrupted"
)

#: The exit statuses of a command that only reads and prints (``inspect``, ``trust show``,
#: ``journal show``), for its help epilog.
READ_EPILOG = "exit status: 0 printed; 1 the input cannot be read or decoded; 2 usage error"

#: A command: parsed options in, "every input was valid" out.
Command = Callable[[argparse.Namespace], bool]


class UsageError(Exception):
    """Options that do not go together: exit status 2.

    ``en`` and ``zh`` are the message in both languages; ``labelled`` prints it after
    ``usage error:`` (else after ``ecard:`` alone).
    """

    def __init__(self, en: str, zh: str, *, labelled: bool = True) -> None:
        super().__init__(en)
        self.en, self.zh, self.labelled = en, zh, labelled

    def message(self, lang: Lang = "en") -> str:
        """The line printed for this error in ``lang``."""
        if lang == "zh":
            return f"ecard: 用法错误：{self.zh}" if self.labelled else f"ecard: {self.zh}"
        return f"ecard: usage error: {self.en}" if self.labelled else f"ecard: {self.en}"


class CannotRunError(Exception):
    """The verifier could not be set up (exit status 3); ``cause`` is what went wrong."""

    def __init__(self, cause: EcardError | OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


@contextmanager
def setting_up() -> Iterator[None]:
    """Run a verifying command's set-up (trust, lists, state): an unusable file raised inside
    becomes :class:`CannotRunError`, exit status 3."""
    try:
        yield
    except (EcardError, OSError) as exc:
        raise CannotRunError(exc) from exc


class InvalidRecordError(BadInputError):
    """A card record that does not validate: printed as its detail alone (the validation
    report spans lines and says what is wrong better than the summary)."""


class HelpFormatter(argparse.HelpFormatter):
    """Help that shows each option's default where it has one (and its help text does not
    already say it), like :class:`argparse.ArgumentDefaultsHelpFormatter` but never
    ``(default: None)``."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default is None
            or default is argparse.SUPPRESS
            or not action.option_strings
        ):
            return text
        return text + " (default: %(default)s)"


#: argparse's own usage errors, in Chinese: (pattern, replacement) tried in order.
_ARGPARSE_ZH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), zh)
    for pattern, zh in (
        (r"^the following arguments are required: (.*)$", r"缺少必需的参数：\1"),
        (r"^unrecognized arguments: (.*)$", r"无法识别的参数：\1"),
        (r"^argument (\S+): expected one argument$", r"参数 \1：需要一个值"),
        (r"^argument (\S+): not allowed with argument (\S+)$", r"参数 \1：不能与 \2 同时使用"),
        (
            r"^argument (\S+): invalid choice: (.*?) \(choose from (.*)\)$",
            r"参数 \1：无效的选项 \2（可选：\3）",
        ),
        (r"^argument (\S+): not an ISO 8601 time: (.*)$", r"参数 \1：不是 ISO 8601 时间：\2"),
        (r"^argument (\S+): --now needs a time zone, e\.g\. (.*)$", r"参数 \1：需要时区，例如 \2"),
        (
            r"^argument (\S+): time (.*) out of range: allowed (.*)$",
            r"参数 \1：时间 \2 超出范围：允许 \3",
        ),
        (r"^argument (\S+): not an integer: (.*)$", r"参数 \1：不是整数：\2"),
        (r"^argument (\S+): (\S+) out of range: allowed (.*)$", r"参数 \1：\2 超出范围：允许 \3"),
        (r"^argument (\S+): invalid (\S+) value: (.*)$", r"参数 \1：无效的值：\3"),
    )
)


def usage_zh(message: str) -> str:
    """An argparse usage error in Chinese (the message as it is where no rule matches)."""
    for pattern, zh in _ARGPARSE_ZH:
        if pattern.match(message):
            return pattern.sub(zh, message)
    return message


class Parser(argparse.ArgumentParser):
    """The argument parser of ``ecard`` and its subcommands: a usage error exits with 2, in
    the language :attr:`lang` (set from ``--lang`` before parsing), and the help shows
    defaults (:class:`HelpFormatter`)."""

    #: The language of usage errors, set by :func:`ecard.cli.main.main` from the arguments.
    lang: Lang = "en"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Print the usage and the message, and exit with the usage status."""
        self.print_usage(sys.stderr)
        if Parser.lang == "zh":
            self.exit(EXIT_USAGE, f"{self.prog}: 用法错误：{usage_zh(message)}\n")
        self.exit(EXIT_USAGE, f"{self.prog}: usage error: {message}\n")


def _error_line(err: EcardError, lang: Lang) -> str:
    if isinstance(err, InvalidRecordError):
        text = err.detail_zh if lang == "zh" and err.detail_zh else err.detail
    else:
        text = err.message(lang)
    return f"ecard: error [{err.code.value}] {text}"


def _os_error_line(exc: OSError, lang: Lang) -> str:
    what = os_reason(exc, lang)
    where = f" ({exc.filename!s})" if exc.filename is not None else ""
    sep = "：" if lang == "zh" else ": "
    return f"ecard: error [{ErrorCode.BAD_INPUT.value}] {describe(ErrorCode.BAD_INPUT, lang)}{sep}{what}{where}"


def lang_of(args: argparse.Namespace) -> Lang:
    """The language of a command's messages: its ``--lang``, English where it has none."""
    return "zh" if getattr(args, "lang", "en") == "zh" else "en"


def run(command: Command, args: argparse.Namespace) -> int:
    """Run ``command`` on ``args``; its exit status (see the module docstring)."""
    lang = lang_of(args)
    try:
        ok = command(args)
    except UsageError as err:
        print(err.message(lang), file=sys.stderr)
        return EXIT_USAGE
    except CannotRunError as err:
        cause = err.cause
        if isinstance(cause, EcardError):
            print(_error_line(cause, lang), file=sys.stderr)
        else:
            print(_os_error_line(cause, lang), file=sys.stderr)
        return EXIT_CANNOT_RUN
    except EcardError as err:
        print(_error_line(err, lang), file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `ecard verify ... | head`
        return EXIT_OK
    except OSError as exc:
        print(_os_error_line(exc, lang), file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK if ok else EXIT_FAIL


__all__ = [
    "EXIT_CANNOT_RUN",
    "EXIT_FAIL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "READ_EPILOG",
    "STATUS_EPILOG",
    "WRITE_EPILOG",
    "CannotRunError",
    "Command",
    "HelpFormatter",
    "InvalidRecordError",
    "Parser",
    "UsageError",
    "lang_of",
    "run",
    "setting_up",
    "usage_zh",
]
