"""``ecard revoke``: the next signed revocation list, with credentials added or taken off
(named by QR text or by ``KID:CTI``), saying what changed: added, already listed, removed.
The list written is never an existing file unless ``--force`` (or it is the ``--list`` read).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ecard._files import write_atomic
from ecard.cli.common import (
    Subcommands,
    certificates,
    days,
    force_option,
    lang_option,
    list_signer_options,
    read_input,
    refuse_overwrite,
    say,
    signer,
)
from ecard.cli.errors import WRITE_EPILOG
from ecard.cli.journal import record_list
from ecard.crypto.x509 import load_certificate_file
from ecard.errors import BadInputError
from ecard.formats.revocation import entry_from_hex, entry_from_text
from ecard.publish.revocation import next_revocation_list


def _entries(texts: list[str] | None, pairs: list[str] | None) -> list[tuple[bytes, bytes]]:
    entries = [entry_from_text(text) for text in texts or []]
    for pair in pairs or []:
        try:
            entries.append(entry_from_hex(pair))
        except BadInputError:
            raise BadInputError(
                f"--entry takes KID:CTI in hex, not {pair!r}",
                detail_zh=f"--entry 需要十六进制的 KID:CTI，而不是 {pair!r}",
            ) from None
    return entries


def cmd_revoke(args: argparse.Namespace) -> bool:
    """Sign the next revocation list and write it (recorded in the journal first)."""
    added = _entries(args.text, args.entry)
    removed = _entries(args.unrevoke_text, args.unrevoke_entry)
    if not added and not removed and args.list:
        print(
            say(
                args,
                "ecard: nothing to revoke: the list is re-signed with the next sequence number",
                "ecard: 没有要吊销的凭证：列表将以下一个序号重新签署",
            ),
            file=sys.stderr,
        )
    out = Path(args.out)
    if not (args.list and out.exists() and out.resolve() == Path(args.list).resolve()):
        refuse_overwrite(out, args)
    key = signer(args)
    certs = load_certificate_file(args.cert)
    chain = [*certs[1:], *certificates(args.chain)]
    now = datetime.now(UTC).replace(microsecond=0)
    existing = read_input(args.list) if args.list else None
    update = next_revocation_list(
        existing,
        added,
        unrevoke=removed,
        signer=key,
        certificate=certs[0],
        chain=chain,
        issued_at=now,
        next_update=now + timedelta(days=args.next_update_days),
    )
    record_list(args, update.data)
    write_atomic(out, update.data)
    print(
        say(
            args,
            f"wrote {args.out}: revocation list sequence {update.sequence}: {update.added} "
            f"added, {update.already} already listed, {update.removed} removed, "
            f"{update.total} in all, {len(update.data)} bytes",
            f"已写入 {args.out}：吊销列表序号 {update.sequence}：新增 {update.added} 个，"
            f"已在列表中 {update.already} 个，移除 {update.removed} 个，共 {update.total} 个，"
            f"{len(update.data)} 字节",
        )
    )
    return True


def add_revoke(sub: Subcommands) -> None:
    """Register ``ecard revoke``."""
    r = sub.add_parser(
        "revoke", help="add credentials to a signed revocation list", epilog=WRITE_EPILOG
    )
    r.add_argument(
        "--list", metavar="FILE", help="the current revocation list (default: none, a new list)"
    )
    r.add_argument("--out", required=True, help="the new revocation list to write")
    r.add_argument(
        "--text", action="append", metavar="QR", help="revoke this credential (repeatable)"
    )
    r.add_argument(
        "--entry", action="append", metavar="KID:CTI", help="revoke by ids (hex; repeatable)"
    )
    r.add_argument(
        "--unrevoke-text", action="append", metavar="QR", help="take this credential off"
    )
    r.add_argument(
        "--unrevoke-entry", action="append", metavar="KID:CTI", help="take one off by ids (hex)"
    )
    list_signer_options(r)
    r.add_argument(
        "--next-update-days",
        type=days,
        default=1,
        metavar="N",
        help="days until the next list is due",
    )
    force_option(r)
    lang_option(r)
    r.set_defaults(func=cmd_revoke)


__all__ = ["add_revoke", "cmd_revoke"]
