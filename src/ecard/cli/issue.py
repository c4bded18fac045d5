"""``ecard issue`` (a card record to its QR text, PNG, SVG) and ``ecard pdf`` (a printable,
PAdES-signed PDF card). Both record the card in the journal, if one is named, before release."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from ecard.cli.common import (
    ALG_NAMES,
    MAX_DAYS,
    Subcommands,
    bounded_int,
    card_record,
    certificates,
    force_option,
    hsm_options,
    journal_options,
    lang_option,
    parse_now,
    refuse_overwrite,
    signer,
    write_output,
)
from ecard.cli.errors import WRITE_EPILOG, UsageError
from ecard.cli.journal import record_card
from ecard.crypto.crl import load_crl_file
from ecard.crypto.x509 import load_certificate_file
from ecard.errors import BadInputError
from ecard.formats.qrimage import render_terminal
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey
from ecard.signing.signers import load_private_key_file


def _outputs(args: argparse.Namespace, *names: str) -> list[Path]:
    """The output files the options ``names`` give, each refused (before anything is signed
    or recorded) if it exists and ``--force`` was not given; the same file twice is a usage
    error."""
    paths = [Path(getattr(args, name)) for name in names if getattr(args, name, None)]
    if len({p.resolve() for p in paths}) != len(paths):
        raise UsageError("the same output file is named twice", "同一个输出文件被指定了两次")
    for path in paths:
        refuse_overwrite(path, args)
    return paths


def cmd_issue(args: argparse.Namespace) -> bool:
    """Sign the card record and print its QR text (and write the pictures asked for, never
    over an existing file without ``--force``)."""
    _outputs(args, "png", "svg")
    card = card_record(args.card)
    key = signer(args, algorithm=args.alg)
    certs = load_certificate_file(args.cert)
    validity = timedelta(days=args.validity_days) if args.validity_days is not None else None
    issued = Issuer(key, certs[0], iss=args.iss, validity=validity).issue(card, iat=args.now)
    record_card(args, issued)  # recorded before release: if recording fails, nothing is released
    if args.png:
        write_output(Path(args.png), issued.png(level=args.level), args)
    if args.svg:
        write_output(Path(args.svg), issued.svg(level=args.level), args)
    print(issued.text)
    if args.terminal:  # on stderr: stdout stays the QR text alone, for scripts
        print(render_terminal(issued.text, level=args.level, plain=args.ascii),
              file=sys.stderr)  # fmt: skip
    return True


def cmd_pdf(args: argparse.Namespace) -> bool:
    """Issue the card record and write it as a signed PDF (never over an existing file without
    ``--force``); print its QR text."""
    try:
        from ecard.pdf import http_timestamper, local_timestamper, signed_card_pdf
    except ImportError:
        raise BadInputError(
            "PDF cards need the optional extra: pip install 'ecard[pdf]'",
            detail_zh="PDF 卡片需要可选组件：pip install 'ecard[pdf]'",
        ) from None
    if args.tsa_url and (args.tsa_key or args.tsa_cert):
        raise UsageError(
            "give either --tsa-url or --tsa-key with --tsa-cert, not both",
            "--tsa-url 与 --tsa-key/--tsa-cert 只能给出一种",
        )
    if bool(args.tsa_key) != bool(args.tsa_cert):
        raise UsageError(
            "--tsa-key and --tsa-cert go together", "--tsa-key 与 --tsa-cert 需同时给出"
        )
    _outputs(args, "out")
    card = card_record(args.card)
    key = signer(args, algorithm=args.alg)
    certs = load_certificate_file(args.cert)
    chain = [*certs[1:], *certificates(args.chain)]
    issued = Issuer(key, certs[0], iss=args.iss).issue(card)
    timestamper = None
    if args.tsa_url:
        timestamper = http_timestamper(args.tsa_url)
    elif args.tsa_key:
        tsa_certs = load_certificate_file(args.tsa_cert)
        tsa = CertifiedKey(load_private_key_file(args.tsa_key), tsa_certs[0], tuple(tsa_certs[1:]))
        timestamper = local_timestamper(tsa)
    pdf = signed_card_pdf(
        issued,
        signer=key,
        certificate=certs[0],
        chain=chain,
        level=args.level,
        timestamper=timestamper,
        validation_crls=[crl for path in (args.crl or []) for crl in load_crl_file(path)],
        trust_roots=certificates(args.root),
        page=args.page,
        reveal=args.reveal,
        issuer_name=args.issuer_name,
    )
    record_card(args, issued)
    write_output(Path(args.out), pdf, args)
    print(issued.text)
    return True


def add_issue(sub: Subcommands) -> None:
    """Register ``ecard issue``."""
    i = sub.add_parser(
        "issue",
        help="sign a card record and print its QR text",
        description="Sign a card record and print its QR text (and write its pictures).",
        epilog=WRITE_EPILOG,
    )
    i.add_argument("card", metavar="CARD.json", help="card record (as written by `ecard demo`)")
    i.add_argument("--key", help="document signer private key (PEM), or use --pkcs11-module")
    hsm_options(i)
    journal_options(i)
    i.add_argument(
        "--pseudonym-key-env",
        metavar="VAR",
        help="environment variable holding the hex holder-pseudonym key (journal)",
    )
    i.add_argument(
        "--key-password-env", metavar="VAR", help="env variable holding the key password"
    )
    i.add_argument("--cert", required=True, help="document signer certificate (PEM or DER)")
    i.add_argument("--alg", choices=ALG_NAMES, help="algorithm (default: the key's natural one)")
    i.add_argument("--iss", default="CN", help="issuer claim (default: CN)")
    i.add_argument(
        "--validity-days",
        type=bounded_int(0, MAX_DAYS),
        metavar="N",
        help="credential lifetime cap in days (default: until the card expires)",
    )
    i.add_argument(
        "--now",
        type=parse_now,
        metavar="ISO8601",
        help="issue as of this instant (ISO 8601 with a zone; the credential's iat; default: now)",
    )
    i.add_argument("--png", metavar="FILE", help="also write the QR code as PNG (default: none)")
    i.add_argument("--svg", metavar="FILE", help="also write the QR code as SVG (default: none)")
    i.add_argument(
        "--level", default="Q", choices=["L", "M", "Q", "H"], help="QR error correction level"
    )
    i.add_argument(
        "--terminal",
        action="store_true",
        help="also print the QR code in the terminal, on stderr, black on white (reads on dark "
        "terminals too)",
    )
    i.add_argument(
        "--ascii",
        action="store_true",
        help="with --terminal: plain ASCII for terminals without colour (dark on light only)",
    )
    force_option(i)
    lang_option(i)
    i.set_defaults(func=cmd_issue)


def add_pdf(sub: Subcommands) -> None:
    """Register ``ecard pdf``."""
    f = sub.add_parser(
        "pdf",
        help="issue a card and write it as a printable PAdES-signed PDF",
        epilog=WRITE_EPILOG,
    )
    f.add_argument("card", metavar="CARD.json", help="card record (as written by `ecard demo`)")
    f.add_argument("out", metavar="OUT.pdf", help="the signed PDF to write")
    f.add_argument("--key", help="document signer private key (PEM), or use --pkcs11-module")
    hsm_options(f)
    f.add_argument("--key-password-env", metavar="VAR", help="env variable holding the password")
    f.add_argument("--cert", required=True, help="document signer certificate (PEM or DER)")
    f.add_argument(
        "--chain", action="append", metavar="CERT", help="CA certificates above it (repeatable)"
    )
    f.add_argument("--alg", choices=ALG_NAMES, help="algorithm (default: the key's natural one)")
    f.add_argument("--iss", default="CN", help="issuer claim (default: CN)")
    f.add_argument(
        "--level",
        default="B-B",
        choices=["B-B", "B-T", "B-LT", "B-LTA"],
        help="PAdES level (B-T and up need a TSA; B-LT and up --crl)",
    )
    f.add_argument("--tsa-url", metavar="URL", help="RFC 3161 time-stamp authority (default: none)")
    f.add_argument(
        "--tsa-key", metavar="KEY", help="in-process TSA key (PEM, RSA; demos/tests; default: none)"
    )
    f.add_argument("--tsa-cert", metavar="CERT", help="in-process TSA certificate (+ chain)")
    f.add_argument(
        "--crl", action="append", metavar="FILE", help="CRL to embed (B-LT, B-LTA; repeatable)"
    )
    f.add_argument(
        "--root",
        action="append",
        metavar="CERT",
        help="extra trust anchor (TSA root; repeatable; default: none)",
    )
    f.add_argument(
        "--page",
        default="both",
        choices=["card", "a4", "both"],
        help="pages: the card, an A4 sheet, or both",
    )
    f.add_argument("--reveal", action="store_true", help="print name and numbers unmasked")
    f.add_argument(
        "--issuer-name", metavar="NAME", help="issuing authority as printed (default: none)"
    )
    journal_options(f)
    f.add_argument(
        "--pseudonym-key-env",
        metavar="VAR",
        help="environment variable holding the hex holder-pseudonym key (journal)",
    )
    force_option(f)
    lang_option(f)
    f.set_defaults(func=cmd_pdf)


__all__ = ["add_issue", "add_pdf", "cmd_issue", "cmd_pdf"]
