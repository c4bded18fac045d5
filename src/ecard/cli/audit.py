"""``ecard audit``: ETSI validation indications and Art. 13 evidence for QR texts and pictures,
PDFs and signed lists, against the same trust and lists ``ecard verify`` takes."""

from __future__ import annotations

import argparse

from ecard.cli.common import Subcommands, list_config, list_options, load_lists, parse_now
from ecard.cli.verify import check_list_options


def cmd_audit(args: argparse.Namespace) -> bool:
    """Audit every file and print the report; whether every finding passed."""
    from ecard.audit import audit

    check_list_options(args)
    lists = load_lists(list_config(args))
    trust, revocations, roots, crls = lists.trust, lists.revocations, lists.roots, lists.crls
    report = audit(
        args.files, trust=trust, roots=roots, crls=crls, revocations=revocations, now=args.now
    )
    print(report.to_json() if args.json else report.render(args.lang))
    return report.all_passed


def add_audit(sub: Subcommands) -> None:
    """Register ``ecard audit``."""
    a = sub.add_parser(
        "audit",
        help="audit signatures (QR texts and pictures, PDFs, lists): ETSI indications, Art. 13",
    )
    a.add_argument("files", nargs="+", metavar="FILE")
    a.add_argument("--trust", action="append", metavar="PATH", help="trusted issuer certificates")
    a.add_argument("--trust-list", metavar="FILE", help="signed trust list (needs --root)")
    a.add_argument("--revocation-list", metavar="FILE", help="signed revocation list")
    list_options(a)
    a.add_argument("--json", action="store_true", help="machine-readable report")
    a.add_argument("--lang", default="en", choices=["en", "zh"])
    a.add_argument("--now", type=parse_now, metavar="ISO8601", help="validate as of this time")
    a.set_defaults(func=cmd_audit)


__all__ = ["add_audit", "cmd_audit"]
