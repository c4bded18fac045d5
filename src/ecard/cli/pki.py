"""``ecard pki root|ca|signer|list-signer|crl``: a self-managed CA hierarchy for pilots and
tests (never for production trust lists)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ecard._files import write_atomic
from ecard.cli.common import ALG_NAMES, Subcommands, certificates, parse_now
from ecard.cli.errors import Parser
from ecard.crypto.x509 import certificate_to_pem, load_certificate_file
from ecard.signing.crl import create_crl, crl_to_pem
from ecard.signing.keysource import password_from_env
from ecard.signing.pki import (
    CertifiedKey,
    create_document_signer,
    create_issuing_ca,
    create_list_signer,
    create_root_ca,
    private_key_to_pem,
)
from ecard.signing.signers import load_private_key_file


def _load_ca(cert_path: str, key_path: str, password_env: str | None) -> CertifiedKey:
    certs = load_certificate_file(cert_path)
    key = load_private_key_file(key_path, password=password_from_env(password_env))
    return CertifiedKey(key=key, certificate=certs[0], chain=tuple(certs[1:]))


def cmd_pki_crl(args: argparse.Namespace) -> bool:
    """Issue a CRL of the CA listing the certificates given."""
    ca = _load_ca(args.ca_cert, args.ca_key, args.ca_key_password_env)
    when = args.revoked_at or datetime.now(UTC)
    revoked = [(cert, when) for cert in certificates(args.revoke)]
    crl = create_crl(ca, revoked, days=args.next_update_days, number=args.number)
    write_atomic(Path(args.out), crl_to_pem(crl))
    print(
        f"wrote {args.out}: CRL number {args.number} of {ca.certificate.subject.rfc4514_string()}"
        f", {len(revoked)} revoked, next update {crl.next_update_utc}"
    )
    return True


def cmd_pki(args: argparse.Namespace) -> bool:
    """Create a root, an issuing CA or a signer and write its certificate, chain and key."""
    out = Path(args.out)
    password = password_from_env(args.key_password_env)
    if args.pki_cmd == "root":
        made = create_root_ca(args.cn, organization=args.org, algorithm=args.alg, days=args.days)
    else:
        ca = _load_ca(args.ca_cert, args.ca_key, args.ca_key_password_env)
        makers: dict[str, Callable[..., CertifiedKey]] = {
            "ca": create_issuing_ca,
            "signer": create_document_signer,
            "list-signer": create_list_signer,
        }
        maker = makers[args.pki_cmd]
        made = maker(ca, args.cn, organization=args.org, algorithm=args.alg, days=args.days)
    stem = args.name or args.pki_cmd
    chain = b"".join(certificate_to_pem(c) for c in (made.certificate, *made.chain))
    write_atomic(out / f"{stem}-cert.pem", certificate_to_pem(made.certificate))
    write_atomic(out / f"{stem}-chain.pem", chain)
    write_atomic(out / f"{stem}-key.pem", private_key_to_pem(made.key, password), private=True)
    print(f"wrote {out / (stem + '-cert.pem')}, {stem}-chain.pem and {stem}-key.pem")
    print(f"subject: {made.certificate.subject.rfc4514_string()}")
    print(
        f"valid:   {made.certificate.not_valid_before_utc} .. {made.certificate.not_valid_after_utc}"
    )
    if args.pki_cmd in ("signer", "list-signer"):
        print(f"kid:     {made.kid.hex()}")
    return True


def add_pki(sub: Subcommands) -> None:
    """Register ``ecard pki``."""
    k = sub.add_parser("pki", help="self-managed CA for pilots: root, issuing CA, signer")
    ksub = k.add_subparsers(dest="pki_cmd", required=True, parser_class=Parser)
    for name, helptext in (
        ("root", "create a self-signed root CA"),
        ("ca", "create an issuing CA under a root"),
        ("signer", "create a document signer (signs cards) under a CA"),
        ("list-signer", "create a trust-list / revocation-list signer under a CA"),
    ):
        s = ksub.add_parser(name, help=helptext)
        s.add_argument("--out", required=True, help="output folder")
        s.add_argument("--cn", required=True, help="common name of the subject")
        s.add_argument("--org", help="organization name")
        s.add_argument("--name", help=f"file name stem (default: {name})")
        s.add_argument("--alg", default="ES256", choices=ALG_NAMES)
        s.add_argument("--days", type=int, default={"root": 7300, "ca": 3650}.get(name, 730))
        s.add_argument("--key-password-env", metavar="VAR", help="encrypt the new key")
        if name != "root":
            s.add_argument("--ca-cert", required=True, help="issuing certificate (PEM)")
            s.add_argument("--ca-key", required=True, help="issuing private key (PEM)")
            s.add_argument("--ca-key-password-env", metavar="VAR")
        s.set_defaults(func=cmd_pki)
    c = ksub.add_parser("crl", help="issue a CRL for a CA (what `--crl` reads)")
    c.add_argument("--out", required=True, help="CRL file to write (PEM)")
    c.add_argument("--ca-cert", required=True)
    c.add_argument("--ca-key", required=True)
    c.add_argument("--ca-key-password-env", metavar="VAR")
    c.add_argument("--revoke", action="append", metavar="CERT", help="certificate to list")
    c.add_argument("--revoked-at", type=parse_now, metavar="ISO8601", help="default: now")
    c.add_argument("--number", type=int, default=1, help="CRL number (increase it each time)")
    c.add_argument("--next-update-days", type=int, default=7)
    c.set_defaults(func=cmd_pki_crl)


__all__ = ["add_pki", "cmd_pki", "cmd_pki_crl"]
