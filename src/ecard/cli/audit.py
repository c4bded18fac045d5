"""``ecard audit``: ETSI validation indications and Art. 13 evidence for QR texts and pictures,
PDFs and signed lists, against the same trust and lists ``ecard verify`` takes.

A file to audit that cannot be opened is not a finding (nothing was there to judge): like
unusable trust or lists, it means the auditor cannot run, exit status 3."""

from __future__ import annotations

import argparse
import os
import sys

from ecard.cli.common import (
    Subcommands,
    lang_option,
    list_config,
    list_options,
    load_lists,
    parse_now,
    say,
)
from ecard.cli.errors import STATUS_EPILOG, lang_of, setting_up
from ecard.cli.verify import check_list_options


def cmd_audit(args: argparse.Namespace) -> bool:
    """Audit every file and print the report; whether every finding passed."""
    from ecard.audit import audit

    check_list_options(args)
    with setting_up():
        for path in args.files:
            with open(path, "rb"):  # missing or unreadable: exit 3, not a failed finding
                pass
            if os.path.isdir(path):
                raise IsADirectoryError(21, "is a folder, not a file", path)
        lists = load_lists(list_config(args), lang_of(args))
    trust, revocations, roots, crls = lists.trust, lists.revocations, lists.roots, lists.crls
    if args.no_revocation_check:
        print(
            say(
                args,
                "ecard: WARNING: --no-revocation-check: a card whose signer was revoked can "
                "pass this audit",
                "ecard: 警告：--no-revocation-check：签名者已被吊销的卡也可能通过本次审计",
            ),
            file=sys.stderr,
        )
    report = audit(
        args.files,
        trust=trust,
        roots=roots,
        crls=crls,
        revocations=revocations,
        now=args.now,
        check_revocation=not args.no_revocation_check,
    )
    print(report.to_json() if args.json else report.render(args.lang))
    return report.all_passed


def add_audit(sub: Subcommands) -> None:
    """Register ``ecard audit``."""
    a = sub.add_parser(
        "audit",
        help="audit signatures (QR texts and pictures, PDFs, lists): ETSI indications, Art. 13",
        epilog=STATUS_EPILOG[0].replace("every input valid", "every finding passed"),
    )
    a.add_argument("files", nargs="+", metavar="FILE", help="QR text, picture, PDF or list files")
    a.add_argument(
        "--trust",
        action="append",
        metavar="PATH",
        help="trusted issuer certificates (repeatable; default: none)",
    )
    a.add_argument(
        "--trust-list", metavar="FILE", help="signed trust list (needs --root; default: none)"
    )
    a.add_argument(
        "--revocation-list", metavar="FILE", help="signed revocation list (default: none)"
    )
    list_options(a)
    a.add_argument("--json", action="store_true", help="machine-readable report")
    lang_option(a, "report language")
    a.add_argument(
        "--now", type=parse_now, metavar="ISO8601", help="validate as of this time (default: now)"
    )
    a.add_argument(
        "--no-revocation-check",
        action="store_true",
        help="DANGEROUS: let a QR card whose signer's path was validated without --crl pass "
        "(the report says revocation was not checked; a revoked signer passes too); "
        "default: such a card is INDETERMINATE / TRY_LATER",
    )
    a.set_defaults(func=cmd_audit)


__all__ = ["add_audit", "cmd_audit"]
