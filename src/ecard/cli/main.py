"""The ``ecard`` argument parser, built from the command modules, and the entry point."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ecard.cli.application import add_application
from ecard.cli.audit import add_audit
from ecard.cli.batch import add_batch
from ecard.cli.demo import add_demo
from ecard.cli.errors import Parser, run
from ecard.cli.issue import add_issue, add_pdf
from ecard.cli.journal import add_journal
from ecard.cli.pki import add_pki
from ecard.cli.revoke import add_revoke
from ecard.cli.trust import add_trust
from ecard.cli.verify import add_inspect, add_verify
from ecard.cli.wallet import add_wallet
from ecard.crypto.algorithms import get_algorithm


def _version() -> str:
    from ecard import __version__

    return __version__


def build_parser() -> Parser:
    """The argument parser of the ``ecard`` command."""
    p = Parser(prog="ecard", description="Issue and verify electronic social security cards.")
    p.add_argument("--version", action="version", version=f"ecard {_version()}")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=Parser)
    # the order of the commands in `ecard --help`
    for add in (
        add_demo,
        add_issue,
        add_verify,
        add_audit,
        add_inspect,
        add_trust,
        add_journal,
        add_pdf,
        add_revoke,
        add_pki,
        add_wallet,
        add_batch,
        add_application,
    ):
        add(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ecard`` command; returns the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    asked = [w for i, w in enumerate(words) if i and words[i - 1] == "--lang"]
    asked += [w.removeprefix("--lang=") for w in words if w.startswith("--lang=")]
    Parser.lang = "zh" if asked and asked[-1] == "zh" else "en"  # usage errors, before parsing
    args = build_parser().parse_args(words)
    if getattr(args, "alg", None):
        args.alg = get_algorithm(args.alg).name
    return run(args.func, args)


__all__ = ["build_parser", "main"]
