"""``ecard trust build|sign|show|verify``: signed trust lists from an editable manifest
(:mod:`ecard.formats.manifest`), shown unverified or authenticated as a verifier would."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ecard._files import write_atomic
from ecard.cli.common import (
    Subcommands,
    certificates,
    list_config,
    list_options,
    list_signer_options,
    path_validator,
    read_input,
    signer,
)
from ecard.cli.errors import STATUS_EPILOG, Parser, setting_up
from ecard.crypto.x509 import load_certificate_file
from ecard.errors import BadInputError
from ecard.formats.lists import TRUST_LIST, read_unverified_list
from ecard.formats.manifest import Manifest, entry_to_dict
from ecard.formats.trustlist import decode_trust_body
from ecard.signing.trustlist import sign_trust_list
from ecard.verify.lists import ListState
from ecard.verify.trust import TrustStore


def cmd_trust_build(args: argparse.Namespace) -> bool:
    """Write the manifest trusting the certificates given, with the scope given."""
    manifest = Manifest.build(
        (cert for path in args.certs for cert in load_certificate_file(path)),
        chain=certificates(args.chain),
        regions=args.region or None,
        spec_versions=args.spec_version or None,
        sequence=args.sequence,
        next_update_days=args.next_update_days,
    )
    write_atomic(Path(args.out), manifest.to_json())
    print(
        f"wrote {args.out}: {len(manifest.signers)} signer(s), sequence {args.sequence}; edit "
        "scope, retired_at and compromised_at there, then `ecard trust sign`"
    )
    return True


def _manifest(path: str) -> Manifest:
    try:
        return Manifest.from_json(read_input(path))
    except BadInputError as exc:
        raise BadInputError(f"{path}: {exc.detail}") from None


def cmd_trust_sign(args: argparse.Namespace) -> bool:
    """Sign the manifest into a trust list, issued now."""
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
    write_atomic(Path(args.out), data)
    print(
        f"wrote {args.out}: trust list sequence {manifest.sequence}, "
        f"{len(manifest.signers)} signer(s), {len(data)} bytes, "
        f"next update {next_update.isoformat()}"
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
        validator = path_validator(config)
        data = read_input(args.file)
    if validator is None:
        raise BadInputError("--root is required")
    store = TrustStore.from_trust_list(
        data,
        validator=validator,
        state=ListState(config.state) if config.state else None,
    )
    signed = store.trust_list
    assert signed is not None
    print(
        f"trust list OK: sequence {signed.info.sequence}, signed by "
        f"{signed.signer.subject.rfc4514_string()}, next update {signed.next_update.isoformat()}"
    )
    unfit = 0
    for issuer in store:
        status = "usable" if issuer.unfit is None else f"UNFIT: {issuer.unfit}"
        unfit += issuer.unfit is not None
        print(f"  {issuer.kid.hex()}  {issuer.subject}  {status}")
    if unfit:
        print(f"ecard: {unfit} signer(s) in the list cannot be used", file=sys.stderr)
    return not unfit


def add_trust(sub: Subcommands) -> None:
    """Register ``ecard trust``."""
    t = sub.add_parser("trust", help="build, sign, show and verify signed trust lists")
    tsub = t.add_subparsers(dest="trust_cmd", required=True, parser_class=Parser)
    tb = tsub.add_parser("build", help="write an editable trust-list manifest (JSON)")
    tb.add_argument("certs", nargs="+", metavar="CERT", help="document signer certificates")
    tb.add_argument("--out", required=True, help="manifest file to write")
    tb.add_argument("--chain", action="append", metavar="CERT", help="CA certificates above them")
    tb.add_argument("--region", action="append", metavar="CODE", help="scope: region code")
    tb.add_argument("--spec-version", action="append", metavar="V", help="scope: card spec")
    tb.add_argument("--sequence", type=int, default=1)
    tb.add_argument("--next-update-days", type=int, default=7)
    tb.set_defaults(func=cmd_trust_build)
    ts = tsub.add_parser("sign", help="sign a manifest into a trust list")
    ts.add_argument("manifest", metavar="MANIFEST.json")
    list_signer_options(ts)
    ts.add_argument("--out", required=True, help="signed trust list to write")
    ts.set_defaults(func=cmd_trust_sign)
    tw = tsub.add_parser("show", help="print a manifest or a signed list (signed: UNVERIFIED)")
    tw.add_argument("file", metavar="FILE")
    tw.set_defaults(func=cmd_trust_show)
    tv = tsub.add_parser("verify", help="authenticate a signed trust list", epilog=STATUS_EPILOG[0])
    tv.add_argument("file", metavar="FILE")
    list_options(tv)
    tv.set_defaults(func=cmd_trust_verify)


__all__ = [
    "add_trust",
    "cmd_trust_build",
    "cmd_trust_show",
    "cmd_trust_sign",
    "cmd_trust_verify",
]
