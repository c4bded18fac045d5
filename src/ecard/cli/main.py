"""The ``ecard`` argument parser, built from the command modules, and the entry point.

Command modules are imported only when their command runs: :data:`COMMANDS` names, per
command, the module that registers it (with ``add_<command>``) and its one-line help, so
``ecard verify`` loads what verifying needs and nothing of issuing, PDFs or the journal, while
``ecard --help`` still lists every command (``tests/test_cli_lazy.py`` holds the help lines
equal to the modules' own).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import NamedTuple

from ecard.cli.errors import Parser, run


class Command(NamedTuple):
    """Where a command is registered (``module.add_<name>``) and its line in ``ecard --help``."""

    module: str
    help: str


#: Every command, in the order of ``ecard --help``: one line per command.
COMMANDS: dict[str, Command] = {
    "demo": Command("ecard.cli.demo", "issue a sample card with a demo issuer and verify it"),
    "issue": Command("ecard.cli.issue", "sign a card record and print its QR text"),
    "verify": Command("ecard.cli.verify", "verify QR texts offline"),
    "audit": Command(
        "ecard.cli.audit",
        "audit signatures (QR texts and pictures, PDFs, lists): ETSI indications, Art. 13",
    ),
    "inspect": Command("ecard.cli.verify", "decode a QR text WITHOUT verifying it"),
    "trust": Command("ecard.cli.trust", "build, sign, show and verify signed trust lists"),
    "journal": Command("ecard.cli.journal", "the hash-chained issuance journal"),
    "pdf": Command("ecard.cli.issue", "issue a card and write it as a printable PAdES-signed PDF"),
    "revoke": Command("ecard.cli.revoke", "add credentials to a signed revocation list"),
    "pki": Command("ecard.cli.pki", "self-managed CA for pilots: root, issuing CA, signer"),
    "wallet": Command(
        "ecard.cli.wallet", "the holder's device: key, enrolment, live EC2: codes (pilots, demo)"
    ),
    "batch": Command("ecard.cli.batch", "bulk issuance and verification (all cores or Dask)"),
    "application": Command(
        "ecard.cli.application", "the application workflow: submit, review, issue, card statuses"
    ),
    "serve": Command(
        "ecard.cli.serve", "run the web service: apply, review, wallet, counter, JSON API"
    ),
}


def _version() -> str:
    from ecard import __version__

    return __version__


def build_parser(only: str | None = None) -> Parser:
    """The argument parser of the ``ecard`` command.

    With ``only``, just that command is registered in full (its module imported); the others
    appear in ``ecard --help`` by their help line alone. Without it, every command is.
    """
    p = Parser(prog="ecard", description="Issue and verify electronic social security cards.")
    p.add_argument("--version", action="version", version=f"ecard {_version()}")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=Parser)
    for name, command in COMMANDS.items():
        if only is None or name == only:
            getattr(importlib.import_module(command.module), f"add_{name}")(sub)
        else:
            sub.add_parser(name, help=command.help)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ecard`` command; returns the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    asked = [w for i, w in enumerate(words) if i and words[i - 1] == "--lang"]
    asked += [w.removeprefix("--lang=") for w in words if w.startswith("--lang=")]
    Parser.lang = "zh" if asked and asked[-1] == "zh" else "en"  # usage errors, before parsing
    # the top level has no option taking a value: the first other word names the command
    command = next((w for w in words if not w.startswith("-")), None)
    args = build_parser(command if command in COMMANDS else None).parse_args(words)
    if getattr(args, "alg", None):
        from ecard.crypto.algorithms import get_algorithm

        args.alg = get_algorithm(args.alg).name
    return run(args.func, args)


__all__ = ["COMMANDS", "Command", "build_parser", "main"]
