"""``ecard verify`` (QR texts, stdin lines or pictures, against trust certificates or a signed
trust list, with revocation list, CRLs and rollback state) and ``ecard inspect`` (decode a QR
text without verifying it, for support)."""

from __future__ import annotations

import argparse
import codecs
import contextlib
import dataclasses
import gc
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO, Final, TextIO

from cryptography import x509

from ecard._files import read_file
from ecard.cardrecord import stored_card
from ecard.cli.common import (
    ALG_NAMES,
    Subcommands,
    lang_option,
    list_config,
    list_options,
    load_lists,
    parse_now,
)
from ecard.cli.errors import READ_EPILOG, STATUS_EPILOG, UsageError, lang_of, setting_up
from ecard.crypto.algorithms import describe_algorithm
from ecard.crypto.x509 import load_certificate_file
from ecard.errors import PATH_FAILURES_ZH, BadCertificateError, EcardError, Lang
from ecard.formats import cbor, qrtext
from ecard.formats.cose import parse_sign1
from ecard.formats.cwt import CLAIM_CARD
from ecard.formats.presentation import PURPOSES
from ecard.verify.jsonline import quoted, valid_fields
from ecard.verify.policy import MINIMUM_SCOPE, Policy
from ecard.verify.regions import region_name
from ecard.verify.replay import ReplayCache
from ecard.verify.report import SHANGHAI, mask_card_number, render_oneline, render_text
from ecard.verify.verifier import VerificationResult, Verifier

if TYPE_CHECKING:
    from ecard.card import Card

#: The options that name a file or folder; an empty value is a usage error, not ``.``.
_PATH_OPTIONS = (
    "trust",
    "trust_list",
    "revocation_list",
    "root",
    "ca",
    "crl",
    "state",
    "image",
    "file",
)


def check_list_options(args: argparse.Namespace) -> None:
    """The option rules ``verify`` and ``audit`` share; :class:`UsageError` if broken."""
    for name in _PATH_OPTIONS:
        value = getattr(args, name, None)
        values = value if isinstance(value, list) else [value]
        if any(v is not None and not v.strip() for v in values):
            flag = "--" + name.replace("_", "-")
            raise UsageError(
                f"{flag} is empty (an unset variable?): give a file name",
                f"{flag} 为空（变量未设置？）：请给出文件名",
            )
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


def check_trust_files(paths: Iterable[str], lang: str = "en") -> None:
    """Say what is wrong with a ``--trust`` file people often get wrong: a private key, an
    empty file (:class:`BadCertificateError`), or a CA certificate (a hint on stderr)."""
    for path in paths:
        if os.path.isdir(path):
            continue
        data = read_file(path, BadCertificateError)
        if not data.strip():
            raise BadCertificateError(f"{path}: the file is empty (give the issuer's certificate)")
        if b"PRIVATE KEY-----" in data:
            raise BadCertificateError(
                f"{path}: this is a private key; --trust takes the issuer's certificate "
                "(e.g. issuer-cert.pem), never a key"
            )
        with contextlib.suppress(EcardError, ValueError):
            for cert in load_certificate_file(path):
                with contextlib.suppress(x509.ExtensionNotFound):
                    if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                        hint = (
                            f"ecard: 提示：{path} 是 CA 证书；--trust 需要签发者（签名者）的证书。"
                            "要信任该 CA 认可的签发者，请把它作为 --root 并配合 --trust-list 使用。"
                            if lang == "zh"
                            else f"ecard: hint: {path} is a CA certificate; --trust takes the "
                            "issuer's (signer's) certificate. To trust the issuers a CA "
                            "vouches for, give it as --root with a --trust-list."
                        )
                        print(
                            hint,
                            file=sys.stderr,
                        )


#: One JSON line: what ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` writes,
#: with the encoder built once rather than per line.
_JSON_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


#: Region names already looked up, by code (bounded: a few thousand regions at most).
_REGION_NAMES: dict[str, str | None] = {}


def _region_name(code: str) -> str | None:
    """:func:`region_name`, remembered (up to 8,192 codes)."""
    try:
        return _REGION_NAMES[code]
    except KeyError:
        name = region_name(code)
        if len(_REGION_NAMES) < 8192:
            _REGION_NAMES[code] = name
        return name


def _valid_line(result: VerificationResult, source: str, lang: Lang) -> str | None:
    """The JSON line of a valid plain card (what nearly every scan gives): the fields of
    :func:`~ecard.verify.jsonline.valid_fields`, then ``source`` and ``region_name``; the
    same text as ``_JSON_LINE`` gives for the same data, held equal by the tests; ``None``
    for any other result, which takes the general way."""
    fields = valid_fields(result, lang)
    if fields is None:
        return None
    name = _region_name(stored_card(result).region)  # type: ignore[union-attr]
    return (
        f'{{{fields},"source":{quoted(source)},'
        f'"region_name":{"null" if name is None else quoted(name)}}}\n'
    )


def _emit(result: VerificationResult, source: str, args: argparse.Namespace, out: TextIO) -> None:
    if args.json:
        line = _valid_line(result, source, args.lang)
        if line is not None:
            out.write(line)
            return
        data = result.to_dict(args.lang)
        data["source"] = source
        card = stored_card(result)
        if card is not None:
            data["region_name"] = region_name(card.region)
        out.write(_JSON_LINE(data) + "\n")
    elif args.oneline:
        out.write(render_oneline(result, source, reveal=args.reveal) + "\n")
    else:
        text = render_text(result, args.lang, reveal=args.reveal, source=source)
        if result.reason is not None:  # why the issuer's certificate path failed
            if args.lang == "zh":
                text += f"\n  原因：{PATH_FAILURES_ZH[result.reason]}（{result.reason.value}）"
            else:
                text += f"\n  reason: {result.reason.value}"
        out.write(text + "\n")


#: The longest line :func:`split_lines` keeps, in characters (far above any QR text,
#: :data:`ecard.formats.qrtext.MAX_TEXT_LENGTH`): the rest of a longer line is dropped, so a
#: line without end holds no more memory than this, and the line is refused as too long.
MAX_LINE: Final = 65536


def split_lines(chunks: Iterable[str]) -> Iterator[tuple[int, str]]:
    """The lines of text arriving in ``chunks``, each with its line number, as soon as its end
    arrives: CR, LF and CR LF all end a line (a serial bridge sends CR alone); blank lines are
    left out. A last line without an ending is given at the end. A line is cut after
    :data:`MAX_LINE` characters (what is kept is still far too long to be a QR text)."""
    number, line, after_cr = 0, "", False
    for chunk in chunks:
        for part in _LINE_END.split(chunk):
            if part in ("\r", "\n"):
                if part == "\n" and after_cr and not line:
                    after_cr = False  # the LF of a CR LF
                    continue
                number += 1
                if line.strip():
                    yield number, line
                line, after_cr = "", part == "\r"
            elif part:
                if len(line) < MAX_LINE:
                    line += part[: MAX_LINE - len(line)]
                after_cr = False
    if line.strip():
        yield number + 1, line


_LINE_END = re.compile(r"(\r|\n)")


def _stdin_chunks() -> Iterator[str]:
    """Standard input as it arrives (not at end of file, not line-buffered on LF)."""
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, ValueError, OSError):  # a replaced stream (tests, embedding)
        yield from iter(lambda: sys.stdin.read(4096), "")
        return
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while chunk := os.read(fd, 65536):
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def _file_chunks(fh: BinaryIO) -> Iterator[str]:
    """The text of an open file of codes, in pieces (UTF-8, damaged bytes replaced), closing it
    at the end."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with fh:
        while chunk := fh.read(65536):
            yield decoder.decode(chunk)
        yield decoder.decode(b"", final=True)


def open_code_files(paths: Iterable[str]) -> list[tuple[str, BinaryIO | None]]:
    """Each ``--file`` opened for reading (``None`` for ``-``, standard input), before anything
    is verified: a file that is missing, unreadable or a folder raises :class:`OSError` (the
    verifier cannot run: exit status 3), never a result per line."""
    opened: list[tuple[str, BinaryIO | None]] = []
    try:
        for path in paths:
            if path == "-":
                opened.append((path, None))
                continue
            if os.path.isdir(path):
                raise IsADirectoryError(21, "is a folder, not a file", path)
            opened.append((path, open(path, "rb")))  # noqa: SIM115 - closed by _file_chunks
    except OSError:
        for _, fh in opened:
            if fh is not None:
                fh.close()
        raise
    return opened


def _prompt(lang: str, interactive: bool) -> None:
    if interactive:
        zh = "就绪：请扫描二维码（Ctrl-D 结束）"
        print(zh if lang == "zh" else "ready: scan a code (Ctrl-D to finish)", file=sys.stderr)


def summary(codes: Counter[str], lang: str) -> str:
    """The end-of-batch line: ``summary: 98 OK, 2 BAD_SIGNATURE`` (OK first, then by count)."""
    order = sorted(codes.items(), key=lambda kv: (kv[0] != "OK", -kv[1], kv[0]))
    if lang == "zh":
        return "ecard: 汇总：" + "，".join(f"{n} 个 {code}" for code, n in order)
    return "ecard: summary: " + ", ".join(f"{n} {code}" for code, n in order)


def _inputs(
    args: argparse.Namespace, verifier: Verifier
) -> Iterator[tuple[str, VerificationResult]]:
    now: datetime | None = args.now
    if args.image:
        for image in args.image:
            for result in verifier.verify_image(image, now=now):
                yield image, result
            sys.stdout.flush()  # each picture's answers as soon as it is read
        return
    if args.text is not None:
        yield "argument", verifier.verify(args.text, now=now, challenge=args.challenge)
        return
    if args.opened:
        for path, fh in args.opened:
            chunks = _stdin_chunks() if fh is None else _file_chunks(fh)
            name = "stdin" if fh is None else path
            for number, text in split_lines(_flushed_before_reading(chunks, sys.stdout)):
                yield f"{name}:{number}", verifier.verify(text, now=now, challenge=args.challenge)
        return
    interactive = sys.stdin.isatty()  # asked once, not once per code
    challenge = _challenge(args, verifier)
    _prompt(args.lang, interactive)
    for number, text in split_lines(_flushed_before_reading(_stdin_chunks(), sys.stdout)):
        yield f"stdin:{number}", verifier.verify(text, now=now, challenge=challenge)
        challenge = _challenge(args, verifier)
        _prompt(args.lang, interactive)


def _flushed_before_reading(chunks: Iterator[str], out: TextIO) -> Iterator[str]:
    """``chunks``, with ``out`` flushed each time the next one is asked for: every line that
    has arrived is answered before waiting for more (a scanner's code at once), and a file
    or pipe of many codes costs one write per chunk read rather than one per line."""
    for chunk in chunks:
        yield chunk
        out.flush()


def _challenge(args: argparse.Namespace, verifier: Verifier) -> str | None:
    """With ``--challenge`` (no code) on standard input: a fresh code before each scan, shown
    on standard error for the holder to type into the app."""
    if args.challenge != _NEW:
        return args.challenge  # type: ignore[no-any-return]
    code = verifier.new_challenge(now=args.now)
    label = "请在应用中输入验证码" if args.lang == "zh" else "holder, type this code in the app"
    print(f"{label}: {code}", file=sys.stderr, flush=True)
    return code


def _holder_verifier(args: argparse.Namespace, verifier: Verifier) -> Verifier:
    """The verifier with the holder-binding options applied (policy, replay cache)."""
    changes: dict[str, Any] = {}
    if args.counter:  # cmd_verify has checked that --purpose names what it serves
        preset = Policy.counter(purposes=args.purpose)
        changes.update(require_binding=True, purposes=preset.purposes, profiles=preset.profiles)
    if args.require_binding:
        changes["require_binding"] = True
    if args.purpose:
        changes["purposes"] = frozenset(args.purpose)
    if args.minimum_scope:
        changes["profiles"] = MINIMUM_SCOPE
    policy = dataclasses.replace(verifier.policy, **changes) if changes else verifier.policy
    cache = ReplayCache(args.replay_cache) if args.replay_cache else None
    return Verifier(verifier.trust, policy, revocations=verifier.revocations, replay_cache=cache)


#: ``--challenge`` given without a code.
_NEW = "\x00new"


def cmd_verify(args: argparse.Namespace) -> bool:
    """Verify every input and print each result; whether all were valid."""
    if not args.trust and not args.trust_list:
        raise UsageError("give --trust PATH or --trust-list FILE", "请给出 --trust 或 --trust-list")
    check_list_options(args)
    if sum(bool(x) for x in (args.image, args.file, args.text is not None)) > 1:
        raise UsageError(
            "give one of TEXT, --image or --file", "TEXT、--image 与 --file 只能给出其中一种"
        )
    if (args.file or []).count("-") > 1:
        raise UsageError("--file - (standard input) given twice", "--file -（标准输入）给出了两次")
    if args.counter and not args.purpose:
        raise UsageError(
            "--counter needs the purposes this counter serves (--purpose)",
            "--counter 需要指定本柜台服务的用途（--purpose）",
        )
    with setting_up():
        check_trust_files(args.trust or (), args.lang)
        config = list_config(args)
        verifier = _holder_verifier(
            args, load_lists(config, lang_of(args)).verifier(config.policy())
        )
        args.opened = open_code_files(args.file or [])
    if args.new_challenge:
        with setting_up():
            print(verifier.new_challenge(now=args.now))
        return True
    if args.challenge == _NEW and (args.text is not None or args.image or args.file):
        raise UsageError(
            "--challenge without a code shows one before each scan on standard input; with "
            "TEXT or --image give the code (from --new-challenge)",
            "不带验证码的 --challenge 用于标准输入逐行扫描；与 TEXT 或 --image 一起使用时请给出验证码"
            "（由 --new-challenge 生成）",
        )
    # What set-up made (trust, lists, modules) lives until the end: out of the collector's
    # sight, each card's short-lived objects are all it has to look at.
    gc.freeze()
    codes: Counter[str] = Counter()
    for source, result in _inputs(args, verifier):
        codes[result.code.value] += 1
        _emit(result, source, args, sys.stdout)
    sys.stdout.flush()
    if not codes:
        raise UsageError(
            "no input (give TEXT, --image FILE, --file FILE, or QR texts on standard input)",
            "没有输入（请给出 TEXT、--image FILE、--file FILE，或在标准输入中每行一个二维码文本）",
            labelled=False,
        )
    if args.text is None:
        print(summary(codes, args.lang), file=sys.stderr)
    return set(codes) == {"OK"}


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


#: Claim keys of a card credential, for ``ecard inspect``.
_CLAIM_NAMES = {1: "iss", 4: "exp", 5: "nbf", 6: "iat", 7: "cti", CLAIM_CARD: "card"}


def _when(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, SHANGHAI).isoformat()
    return value


def cmd_inspect(args: argparse.Namespace) -> bool:
    """Print what a QR text holds (TEXT, or the first line of standard input), as JSON marked
    UNVERIFIED: named claims, times in China time, the holder masked unless ``--reveal``."""
    from ecard.cardfast import card_from_claim  # the models, for the one card inspected

    if args.text is not None:
        text = args.text
    else:
        text = next((line for _, line in split_lines(_stdin_chunks())), "")
        if not text:
            raise UsageError(
                "no input (give TEXT or a QR text on standard input)",
                "没有输入（请给出 TEXT，或在标准输入中给出二维码文本）",
                labelled=False,
            )
    cleaned, _notes = qrtext.clean_scanned(text)
    cose = qrtext.decode(cleaned)
    msg = parse_sign1(cose)
    claims: Any = cbor.decode(msg.payload, max_depth=4, max_items=256)
    named: dict[str, Any] = {}
    if isinstance(claims, dict):
        for key, value in claims.items():
            name = _CLAIM_NAMES.get(key, str(key))
            named[name] = _when(value) if name in ("exp", "nbf", "iat") else _plain(value)
        if CLAIM_CARD in claims:
            try:
                named["card"] = _card_fields(
                    card_from_claim(claims[CLAIM_CARD]), reveal=args.reveal
                )
            except ValueError:
                if not args.reveal:
                    named["card"] = "not a valid card claim (--reveal shows it as it is)"
    info = {
        "WARNING": "UNVERIFIED: decoded without checking the signature or the issuer",
        "cose_bytes": len(cose),
        "alg": msg.alg,
        "alg_name": describe_algorithm(msg.alg),
        "kid": msg.kid.hex(),
        "signature_bytes": len(msg.signature),
        "claims": named if isinstance(claims, dict) else _plain(claims),
    }
    print(json.dumps(info, ensure_ascii=False, indent=2))
    return True


def _card_fields(card: Card, *, reveal: bool) -> dict[str, Any]:
    holder = card.holder
    return {
        "name": holder.name if reveal else holder.masked_name,
        "ssn": holder.ssn if reveal else holder.masked_ssn,
        "card_number": card.card_number if reveal else mask_card_number(card.card_number),
        "region": card.region,
        "region_name": region_name(card.region),
        "issued": card.issued.isoformat(),
        "expires": card.expires.isoformat(),
        "status": card.status.label("en"),
    }


def add_verify(sub: Subcommands) -> None:
    """Register ``ecard verify``."""
    v = sub.add_parser(
        "verify",
        help="verify QR texts offline",
        description="Verify QR texts. Without TEXT, --image or --file, reads standard input one "
        "QR text per line (a USB scanner types the code and Enter; CR, LF or CR LF end a line) "
        "and answers each line at once; a summary goes to standard error at the end.",
        epilog=STATUS_EPILOG[0],
    )
    v.add_argument(
        "text",
        nargs="?",
        metavar="TEXT",
        help="one QR text (quote it); default: read standard input",
    )
    v.add_argument(
        "--trust",
        action="append",
        metavar="PATH",
        help="trusted issuer certificate file or folder (repeatable; this or --trust-list "
        "is required)",
    )
    v.add_argument(
        "--trust-list", metavar="FILE", help="signed trust list (needs --root; default: none)"
    )
    v.add_argument(
        "--revocation-list", metavar="FILE", help="signed revocation list (default: none)"
    )
    list_options(v)
    v.add_argument(
        "--image",
        action="append",
        metavar="FILE",
        help="read QR codes from a picture (repeatable; at most 20 MiB and 50 million pixels; "
        "default: none)",
    )
    v.add_argument(
        "--file",
        action="append",
        metavar="FILE",
        help="read QR texts from a file, one per line, each result's source FILE:LINE "
        "(repeatable; - is standard input, source stdin:LINE; default: none)",
    )
    out = v.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object per input")
    out.add_argument(
        "--oneline",
        action="store_true",
        help="one masked line per input: CODE name card-number region",
    )
    lang_option(v)
    v.add_argument(
        "--now", type=parse_now, metavar="ISO8601", help="verify as of this time (default: now)"
    )
    v.add_argument(
        "--reveal",
        action="store_true",
        help="show the full ID number, name and card number",
    )
    v.add_argument(
        "--allow-alg",
        action="append",
        choices=ALG_NAMES,
        metavar="ALG",
        help="accept only these signature algorithms, for cards and lists (repeatable; "
        f"default: all of {', '.join(ALG_NAMES)})",
    )
    h = v.add_argument_group("holder binding (EC2: live codes, docs/holder-binding.md)")
    h.add_argument(
        "--counter",
        action="store_true",
        help="the policy for new deployments (Policy.counter): --require-binding and "
        "--minimum-scope, for the purposes given with --purpose (needed); default: off",
    )
    h.add_argument(
        "--require-binding",
        action="store_true",
        help="refuse plain EC1: cards: accept only live codes from the holder's phone "
        "(recommended for new deployments)",
    )
    h.add_argument(
        "--purpose",
        action="append",
        choices=sorted(PURPOSES),
        help="the purposes this counter serves (repeatable; default: all)",
    )
    h.add_argument(
        "--minimum-scope",
        action="store_true",
        help="accept the full card only for identity checks; every other purpose needs the "
        "counter profile, which carries no ID number (PIPL Art. 6)",
    )
    h.add_argument(
        "--replay-cache",
        metavar="FILE",
        help="replay cache shared by every verifier process of this PC (SQLite; created if "
        "missing; default: in memory, this process only)",
    )
    h.add_argument(
        "--challenge",
        nargs="?",
        const=_NEW,
        metavar="CODE",
        help="require live codes to answer a challenge: without CODE, a fresh code is shown "
        "before each scan on standard input; with CODE (from --new-challenge), that one",
    )
    h.add_argument(
        "--new-challenge",
        action="store_true",
        help="print a fresh challenge code (kept in --replay-cache) and exit",
    )
    v.set_defaults(func=cmd_verify)


def add_inspect(sub: Subcommands) -> None:
    """Register ``ecard inspect``."""
    n = sub.add_parser("inspect", help="decode a QR text WITHOUT verifying it", epilog=READ_EPILOG)
    n.add_argument(
        "text", nargs="?", metavar="TEXT", help="the QR text (default: read standard input)"
    )
    n.add_argument("--reveal", action="store_true", help="show the holder's full name and ID")
    lang_option(n)
    n.set_defaults(func=cmd_inspect)


__all__ = [
    "MAX_LINE",
    "add_inspect",
    "add_verify",
    "check_list_options",
    "check_trust_files",
    "cmd_inspect",
    "cmd_verify",
    "open_code_files",
    "split_lines",
    "summary",
]
