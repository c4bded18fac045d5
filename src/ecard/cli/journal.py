"""``ecard journal verify|sign-head|show``, and recording what the signing commands release
(with their ``--journal`` options, a card or list is recorded before it is released)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from ecard._files import read_file
from ecard.cli.common import (
    Subcommands,
    certificates,
    force_option,
    hsm_options,
    lang_option,
    say,
    signer,
    write_output,
)
from ecard.cli.errors import READ_EPILOG, STATUS_EPILOG, WRITE_EPILOG, Parser, setting_up
from ecard.crypto.x509 import load_certificate_file
from ecard.errors import BadInputError
from ecard.formats.credential import IssuedCard
from ecard.journal import Journal, pseudonym_key_from_hex, verify_journal


def _operator(args: argparse.Namespace) -> str:
    if not args.operator:
        raise BadInputError(
            "--journal needs --operator ID (who issued)",
            detail_zh="--journal 需要 --operator ID（签发操作员）",
        )
    return str(args.operator)


#: The command that makes a holder-pseudonym key, as the messages name it.
MAKE_KEY = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def pseudonym_key(option: str, env: str | None) -> bytes:
    """The holder-pseudonym key in the environment variable ``env`` (named by
    ``--pseudonym-key-env``, needed by ``option``); a :class:`BadInputError` saying which is
    missing, the option or the variable, and how to make a key."""
    if not env:
        raise BadInputError(
            f"{option} needs --pseudonym-key-env VAR (a hex key in VAR)",
            detail_zh=f"{option} 需要 --pseudonym-key-env VAR（VAR 中为十六进制密钥）",
        )
    if env not in os.environ:
        raise BadInputError(
            f"the environment variable {env} (--pseudonym-key-env) is unset: set it to the "
            f"journal's hex pseudonym key; a new key is made with: {MAKE_KEY}",
            detail_zh=f"环境变量 {env}（--pseudonym-key-env）未设置：请设为日志的十六进制假名密钥；"
            f"新密钥可用以下命令生成：{MAKE_KEY}",
        )
    return pseudonym_key_from_hex(os.environ[env])


def record_card(args: argparse.Namespace, issued: IssuedCard) -> None:
    """Record an issued card in the journal, if one is named, before it is released."""
    if not args.journal:
        return
    key = pseudonym_key("--journal", args.pseudonym_key_env)
    with Journal.open(args.journal, pseudonym_key=key) as journal:
        journal.append_card(issued, operator=_operator(args))


def record_list(args: argparse.Namespace, data: bytes) -> None:
    """Record a signed list in the journal, if one is named, before it is released."""
    if args.journal:
        with Journal.open(args.journal) as journal:
            journal.append_list(data, operator=_operator(args))


def _existing(db: str) -> None:
    if not Path(db).is_file():
        raise BadInputError(f"no journal at {db!r}", detail_zh=f"{db!r} 处没有日志")


def cmd_journal_verify(args: argparse.Namespace) -> bool:
    """Check the chain and the signed heads; whether the journal is intact."""
    with setting_up():  # the journal, head certificates or heads unusable: exit 3
        _existing(args.db)
        certs = certificates(args.key_cert)
        heads = [read_file(path, BadInputError, max_size=8192) for path in (args.head or [])]
    report = verify_journal(args.db, head_certificates=certs, heads=heads)
    print(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else report.render())
    return report.ok


def cmd_journal_sign_head(args: argparse.Namespace) -> bool:
    """Sign the journal's current head (and write it to ``--out``, refusing to replace a head
    file of the same record and key without ``--force``)."""
    _existing(args.db)
    key = signer(args)
    cert = load_certificate_file(args.cert)[0]
    with Journal.open(args.db) as journal:
        head = journal.sign_head(key, cert)
    if args.out:
        path = Path(args.out) / f"head-{head.seq:012d}-{head.kid.hex()}.cose"
        write_output(path, head.cose, args)
    print(
        say(
            args,
            f"signed journal head at record {head.seq}",
            f"已签署日志头，位于第 {head.seq} 条记录",
        )
    )
    return True


def cmd_journal_show(args: argparse.Namespace) -> bool:
    """Print the records of a holder or a credential, one JSON object a line."""
    _existing(args.db)
    key = None
    if args.holder:
        key = pseudonym_key("--holder", args.pseudonym_key_env)
    with Journal.open(args.db, pseudonym_key=key) as journal:
        records = (
            journal.records_for(args.holder)
            if args.holder
            else journal.records(credential_id=args.credential)
        )
    for record in records:
        print(json.dumps(record.to_dict(), ensure_ascii=False))
    return True


def add_journal(sub: Subcommands) -> None:
    """Register ``ecard journal``."""
    j = sub.add_parser(
        "journal",
        help="the hash-chained issuance journal",
        epilog="exit status: see the help of each subcommand (ecard journal verify --help ...)",
    )
    jsub = j.add_subparsers(dest="journal_cmd", required=True, parser_class=Parser)
    jv = jsub.add_parser(
        "verify",
        help="check the chain and signed heads (auditors)",
        epilog=STATUS_EPILOG[0].replace("every input valid", "the journal is intact"),
    )
    jv.add_argument("db", metavar="DB", help="the journal (SQLite)")
    jv.add_argument(
        "--key-cert",
        action="append",
        metavar="CERT",
        help="head-signing certificate (repeatable; default: none)",
    )
    jv.add_argument(
        "--head",
        action="append",
        metavar="FILE",
        help="signed head kept elsewhere (repeatable; default: none)",
    )
    jv.add_argument("--json", action="store_true", help="machine-readable report")
    lang_option(jv)
    jv.set_defaults(func=cmd_journal_verify)
    jh = jsub.add_parser("sign-head", help="sign the journal's current head", epilog=WRITE_EPILOG)
    jh.add_argument("db", metavar="DB", help="the journal (SQLite)")
    jh.add_argument("--key", help="head-signing private key (PEM), or use --pkcs11-module")
    jh.add_argument(
        "--key-password-env", metavar="VAR", help="environment variable holding the key password"
    )
    hsm_options(jh)
    jh.add_argument("--cert", required=True, help="head-signing certificate")
    jh.add_argument(
        "--out",
        metavar="DIR",
        help="also write the signed head to a file in this folder (default: none)",
    )
    force_option(jh)
    lang_option(jh)
    jh.set_defaults(func=cmd_journal_sign_head)
    js = jsub.add_parser(
        "show", help="print records (by holder or credential id)", epilog=READ_EPILOG
    )
    js.add_argument("db", metavar="DB", help="the journal (SQLite)")
    js.add_argument("--holder", metavar="ID", help="citizen ID (needs --pseudonym-key-env)")
    js.add_argument(
        "--pseudonym-key-env",
        metavar="VAR",
        help="environment variable holding the journal's hex pseudonym key",
    )
    js.add_argument(
        "--credential", metavar="CTI_HEX", help="credential id (hex; default: every record)"
    )
    lang_option(js)
    js.set_defaults(func=cmd_journal_show)


__all__ = [
    "MAKE_KEY",
    "add_journal",
    "cmd_journal_show",
    "cmd_journal_sign_head",
    "cmd_journal_verify",
    "pseudonym_key",
    "record_card",
    "record_list",
]
