"""``ecard verify`` (QR texts, stdin lines or pictures, against trust certificates or a signed
trust list, with revocation list, CRLs and rollback state) and ``ecard inspect`` (decode a QR
text without verifying it, for support)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TextIO

from ecard.cli.common import (
    ALG_NAMES,
    Subcommands,
    list_config,
    list_options,
    load_lists,
    parse_now,
)
from ecard.cli.errors import UsageError
from ecard.crypto.algorithms import describe_algorithm
from ecard.formats import cbor, qrtext
from ecard.formats.cose import parse_sign1
from ecard.verify.report import render_text
from ecard.verify.verifier import VerificationResult


def check_list_options(args: argparse.Namespace) -> None:
    """The option rules ``verify`` and ``audit`` share; :class:`UsageError` if broken."""
    if args.trust and args.trust_list:
        raise UsageError(
            "give either --trust or --trust-list, not both",
            "--trust 与 --trust-list 只能给出一个",
        )
    if (args.trust_list or args.revocation_list or args.crl or args.ca) and not args.root:
        raise UsageError(
            "--trust-list, --revocation-list, --crl and --ca need --root",
            "--trust-list、--revocation-list、--crl 和 --ca 需要 --root",
        )


def _emit(result: VerificationResult, args: argparse.Namespace, out: TextIO) -> None:
    if args.json:
        out.write(result.to_json(args.lang) + "\n")
    else:
        out.write(render_text(result, args.lang, reveal=args.reveal) + "\n")
    out.flush()


def _stdin_lines() -> Iterable[str]:
    stream = sys.stdin
    with contextlib.suppress(AttributeError, ValueError):  # replaced streams cannot
        stream.reconfigure(errors="replace")  # type: ignore[union-attr]
    for line in stream:
        text = line.rstrip("\r\n")
        if text.strip():
            yield text


def cmd_verify(args: argparse.Namespace) -> bool:
    """Verify every input and print each result; whether all were valid."""
    if not args.trust and not args.trust_list:
        raise UsageError("give --trust PATH or --trust-list FILE", "请给出 --trust 或 --trust-list")
    check_list_options(args)
    config = list_config(args)
    verifier = load_lists(config).verifier(config.policy())
    now: datetime | None = args.now
    results_ok = True
    if args.image:
        if args.text is not None:
            raise UsageError(
                "give either TEXT or --image, not both", "TEXT 与 --image 只能给出一个"
            )
        for image in args.image:
            for result in verifier.verify_image(image, now=now):
                results_ok &= result.valid
                _emit(result, args, sys.stdout)
        return results_ok
    texts: Iterable[str] = [args.text] if args.text is not None else _stdin_lines()
    count = 0
    for text in texts:
        count += 1
        result = verifier.verify(text, now=now)
        results_ok &= result.valid
        _emit(result, args, sys.stdout)
    if count == 0:
        raise UsageError(
            "no input (give TEXT, --image FILE, or QR texts on standard input)",
            "没有输入（请给出 TEXT、--image FILE，或在标准输入中每行一个二维码文本）",
            labelled=False,
        )
    return results_ok


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def cmd_inspect(args: argparse.Namespace) -> bool:
    """Print what a QR text holds, as JSON, marked UNVERIFIED."""
    cose = qrtext.decode(args.text)
    msg = parse_sign1(cose)
    claims: Any = cbor.decode(msg.payload, max_depth=4, max_items=256)
    info = {
        "WARNING": "UNVERIFIED: decoded without checking the signature or the issuer",
        "cose_bytes": len(cose),
        "alg": msg.alg,
        "alg_name": describe_algorithm(msg.alg),
        "kid": msg.kid.hex(),
        "signature_bytes": len(msg.signature),
        "claims": _plain(claims),
    }
    print(json.dumps(info, ensure_ascii=False, indent=2))
    return True


def add_verify(sub: Subcommands) -> None:
    """Register ``ecard verify``."""
    v = sub.add_parser(
        "verify",
        help="verify QR texts offline",
        description="Verify QR texts. Without TEXT or --image, reads standard input one QR text "
        "per line (a USB scanner types the code and Enter) and answers each line at once.",
    )
    v.add_argument("text", nargs="?", metavar="TEXT", help="one QR text (quote it)")
    v.add_argument(
        "--trust",
        action="append",
        metavar="PATH",
        help="trusted issuer certificate file or folder (repeatable)",
    )
    v.add_argument("--trust-list", metavar="FILE", help="signed trust list (needs --root)")
    v.add_argument("--revocation-list", metavar="FILE", help="signed revocation list")
    list_options(v)
    v.add_argument("--image", action="append", metavar="FILE", help="read QR codes from a picture")
    v.add_argument("--json", action="store_true", help="one JSON object per input")
    v.add_argument("--lang", default="en", choices=["en", "zh"], help="message language")
    v.add_argument("--now", type=parse_now, metavar="ISO8601", help="verify as of this time")
    v.add_argument("--reveal", action="store_true", help="show the full ID number")
    v.add_argument(
        "--allow-alg",
        action="append",
        choices=ALG_NAMES,
        metavar="ALG",
        help="accept only these signature algorithms, for cards and lists (repeatable; "
        f"default: all of {', '.join(ALG_NAMES)})",
    )
    v.set_defaults(func=cmd_verify)


def add_inspect(sub: Subcommands) -> None:
    """Register ``ecard inspect``."""
    n = sub.add_parser("inspect", help="decode a QR text WITHOUT verifying it")
    n.add_argument("text", metavar="TEXT")
    n.set_defaults(func=cmd_inspect)


__all__ = ["add_inspect", "add_verify", "check_list_options", "cmd_inspect", "cmd_verify"]
