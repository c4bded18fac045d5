"""``ecard trust build|sign|show|verify``: signed trust lists from an editable manifest
(:mod:`ecard.formats.manifest`), shown unverified or authenticated as a verifier would.

Sequences only go up: ``trust build`` takes the next one from the previous signed list
(``--previous``, :func:`ecard.publish.lists.next_sequence`) or the manifest it replaces, never
1 again. No manifest or list that exists is replaced without ``--force``; ``trust sign``
records the list in the journal (``--journal``) before it is released.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ecard.cli.common import (
    MAX_DAYS,
    Subcommands,
    bounded_int,
    certificates,
    days,
    force_option,
    lang_option,
    list_config,
    list_options,
    list_signer_options,
    path_validator,
    read_input,
    refuse_overwrite,
    say,
    signer,
    write_output,
)
from ecard.cli.errors import (
    READ_EPILOG,
    STATUS_EPILOG,
    WRITE_EPILOG,
    Parser,
    UsageError,
    lang_of,
    setting_up,
)
from ecard.cli.journal import record_list
from ecard.crypto.x509 import load_certificate_file
from ecard.errors import BadInputError
from ecard.formats.lists import TRUST_LIST, read_unverified_list
from ecard.formats.manifest import Manifest, entry_to_dict
from ecard.formats.trustlist import decode_trust_body
from ecard.publish.lists import next_sequence
from ecard.signing.trustlist import sign_trust_list
from ecard.verify.lists import ListState
from ecard.verify.trust import TrustStore

#: Largest sequence number a list can carry (a CBOR unsigned integer of 64 bits).
MAX_SEQUENCE = (1 << 64) - 1


def _build_sequence(args: argparse.Namespace, out: Path) -> int:
    """The sequence of the manifest ``trust build`` writes: ``--sequence``, else one more
    than the previous signed list's, else one more than the manifest it replaces, else 1."""
    floor = 0
    if args.previous:
        cert = load_certificate_file(args.previous_cert)[0] if args.previous_cert else None
        if cert is None:
            raise UsageError(
                "--previous needs --previous-cert (the certificate that signed that list)",
                "--previous 需要 --previous-cert（签署该列表的证书）",
            )
        floor = next_sequence(read_input(args.previous), cert, TRUST_LIST) - 1
    elif out.exists():
        floor = _manifest(str(out)).sequence
    if args.sequence is None:
        return floor + 1
    if args.sequence <= floor:
        raise UsageError(
            f"--sequence {args.sequence} must be higher than the previous {floor} (counters "
            "refuse a list that does not go up as a rollback)",
            f"--sequence {args.sequence} 必须大于之前的 {floor}（不增大的列表会被核验端视为回滚而拒绝）",
        )
    return int(args.sequence)


def cmd_trust_build(args: argparse.Namespace) -> bool:
    """Write the manifest trusting the certificates given, with the scope given."""
    out = Path(args.out)
    refuse_overwrite(out, args)
    sequence = _build_sequence(args, out)
    manifest = Manifest.build(
        (cert for path in args.certs for cert in load_certificate_file(path)),
        chain=certificates(args.chain),
        regions=args.region or None,
        spec_versions=args.spec_version or None,
        sequence=sequence,
        next_update_days=args.next_update_days,
    )
    write_output(out, manifest.to_json(), args)
    n = len(manifest.signers)
    print(
        say(
            args,
            f"wrote {args.out}: {n} signer(s), sequence {sequence}; edit scope, retired_at and "
            "compromised_at there, then `ecard trust sign`",
            f"已写入 {args.out}：{n} 个签名者，序号 {sequence}；可在其中编辑 scope、retired_at "
            "和 compromised_at，然后运行 `ecard trust sign`",
        )
    )
    return True


def _manifest(path: str) -> Manifest:
    try:
        manifest = Manifest.from_json(read_input(path))
    except BadInputError as exc:
        zh = f"{path}：{exc.detail_zh}" if exc.detail_zh else None
        raise BadInputError(f"{path}: {exc.detail}", detail_zh=zh) from None
    if manifest.sequence > MAX_SEQUENCE:
        raise BadInputError(
            f"{path}: 'sequence' out of range: allowed 0 .. {MAX_SEQUENCE}",
            detail_zh=f"{path}：'sequence' 超出范围：允许 0 .. {MAX_SEQUENCE}",
        )
    if manifest.next_update_days > MAX_DAYS:
        raise BadInputError(
            f"{path}: 'next_update_days' out of range: allowed 1 .. {MAX_DAYS}",
            detail_zh=f"{path}：'next_update_days' 超出范围：允许 1 .. {MAX_DAYS}",
        )
    return manifest


def cmd_trust_sign(args: argparse.Namespace) -> bool:
    """Sign the manifest into a trust list, issued now, and record it in the journal (if
    one is named) before writing it."""
    out = Path(args.out)
    refuse_overwrite(out, args)
    manifest = _manifest(args.manifest)
    key = signer(args)
    certs = load_certificate_file(args.cert)
    chain = certificates(args.chain)
    now = datetime.now(UTC).replace(microsecond=0)
    next_update = now + timedelta(days=manifest.next_update_days)
    data = sign_trust_list(
        manifest.signers,
        sequence=manifest.sequence,
        issued_at=now,
        next_update=next_update,
        signer=key,
        certificate=certs[0],
        chain=[*certs[1:], *chain],
    )
    record_list(args, data)
    write_output(out, data, args)
    n = len(manifest.signers)
    print(
        say(
            args,
            f"wrote {args.out}: trust list sequence {manifest.sequence}, {n} signer(s), "
            f"{len(data)} bytes, next update {next_update.isoformat()}",
            f"已写入 {args.out}：信任列表序号 {manifest.sequence}，{n} 个签名者，"
            f"{len(data)} 字节，下次更新 {next_update.isoformat()}",
        )
    )
    return True


def _show_list(data: bytes) -> dict[str, Any]:
    _, info, body = read_unverified_list(data)
    out: dict[str, Any] = {
        "WARNING": "UNVERIFIED: use `ecard trust verify --root ...` to authenticate",
        "type": info.type,
        "sequence": info.sequence,
        "issued_at": datetime.fromtimestamp(info.issued_at, UTC).isoformat(),
        "next_update": datetime.fromtimestamp(info.next_update, UTC).isoformat(),
    }
    if info.type == TRUST_LIST:
        out["signers"] = [entry_to_dict(e) for e in decode_trust_body(body)]
        for entry in out["signers"]:
            entry.pop("certificate")
            entry.pop("chain")
    return out


def cmd_trust_show(args: argparse.Namespace) -> bool:
    """Print a manifest as it is, or a signed list decoded (UNVERIFIED)."""
    data = read_input(args.file)
    if data.lstrip().startswith(b"{"):
        print(data.decode("utf-8", errors="replace"))
        return True
    print(json.dumps(_show_list(data), ensure_ascii=False, indent=2))
    return True


def cmd_trust_verify(args: argparse.Namespace) -> bool:
    """Authenticate a signed trust list and show every signer; whether all are usable."""
    config = replace(list_config(args), trust_list=args.file)
    with setting_up():  # roots, CRLs or the list file unusable: exit 3
        validator = path_validator(config, lang_of(args))
        data = read_input(args.file)
    if validator is None:
        raise UsageError("--root is required", "需要 --root")
    store = TrustStore.from_trust_list(
        data,
        validator=validator,
        state=ListState(config.state) if config.state else None,
    )
    signed = store.trust_list
    assert signed is not None
    by = signed.signer.subject.rfc4514_string()
    seq, due = signed.info.sequence, signed.next_update.isoformat()
    print(
        say(
            args,
            f"trust list OK: sequence {seq}, signed by {by}, next update {due}",
            f"信任列表有效：序号 {seq}，签署者 {by}，下次更新 {due}",
        )
    )
    unfit = 0
    for issuer in store:
        if issuer.unfit is None:
            status = say(args, "usable", "可用")
        else:
            status = say(args, "UNFIT: ", "不可用：") + str(issuer.unfit)
        unfit += issuer.unfit is not None
        print(f"  {issuer.kid.hex()}  {issuer.subject}  {status}")
    if unfit:
        print(
            say(
                args,
                f"ecard: {unfit} signer(s) in the list cannot be used",
                f"ecard: 列表中有 {unfit} 个签名者不可用",
            ),
            file=sys.stderr,
        )
    return not unfit


def add_trust(sub: Subcommands) -> None:
    """Register ``ecard trust``."""
    t = sub.add_parser(
        "trust",
        help="build, sign, show and verify signed trust lists",
        epilog="exit status: see the help of each subcommand (ecard trust build --help ...)",
    )
    tsub = t.add_subparsers(dest="trust_cmd", required=True, parser_class=Parser)
    tb = tsub.add_parser(
        "build", help="write an editable trust-list manifest (JSON)", epilog=WRITE_EPILOG
    )
    tb.add_argument("certs", nargs="+", metavar="CERT", help="document signer certificates")
    tb.add_argument("--out", required=True, help="manifest file to write")
    tb.add_argument(
        "--chain", action="append", metavar="CERT", help="CA certificates above them (repeatable)"
    )
    tb.add_argument(
        "--region",
        action="append",
        metavar="CODE",
        help="scope: region code (repeatable; default: every region)",
    )
    tb.add_argument(
        "--spec-version",
        action="append",
        metavar="V",
        help="scope: card spec version (repeatable; default: every version)",
    )
    tb.add_argument(
        "--previous",
        metavar="LIST",
        help="the trust list signed before (the new sequence is one higher; default: none)",
    )
    tb.add_argument(
        "--previous-cert", metavar="CERT", help="the certificate that signed --previous"
    )
    tb.add_argument(
        "--sequence",
        type=bounded_int(1, MAX_SEQUENCE),
        metavar="N",
        help="sequence (default: one more than --previous, or the manifest replaced; else 1)",
    )
    tb.add_argument(
        "--next-update-days",
        type=days,
        default=7,
        metavar="N",
        help="days from signing until the list is due for renewal",
    )
    force_option(tb)
    lang_option(tb)
    tb.set_defaults(func=cmd_trust_build)
    ts = tsub.add_parser("sign", help="sign a manifest into a trust list", epilog=WRITE_EPILOG)
    ts.add_argument("manifest", metavar="MANIFEST.json", help="the manifest to sign")
    list_signer_options(ts)
    ts.add_argument("--out", required=True, help="signed trust list to write")
    force_option(ts)
    lang_option(ts)
    ts.set_defaults(func=cmd_trust_sign)
    tw = tsub.add_parser(
        "show", help="print a manifest or a signed list (signed: UNVERIFIED)", epilog=READ_EPILOG
    )
    tw.add_argument("file", metavar="FILE", help="a manifest (JSON) or a signed list")
    lang_option(tw)
    tw.set_defaults(func=cmd_trust_show)
    tv = tsub.add_parser("verify", help="authenticate a signed trust list", epilog=STATUS_EPILOG[0])
    tv.add_argument("file", metavar="FILE", help="the signed trust list")
    list_options(tv)
    lang_option(tv)
    tv.set_defaults(func=cmd_trust_verify)


__all__ = [
    "MAX_SEQUENCE",
    "add_trust",
    "cmd_trust_build",
    "cmd_trust_show",
    "cmd_trust_sign",
    "cmd_trust_verify",
]
