"""``ecard pki root|ca|signer|list-signer|crl``: a self-managed CA hierarchy for pilots and
tests (never for production trust lists).

No file that exists is replaced without ``--force`` (a root key overwritten is a CA lost).
``ecard pki crl`` continues the CA's previous CRL (:func:`ecard.publish.crl.next_crl`): every
certificate it revoked stays revoked with its date and reason, each new revocation has its own
time and reason (``--revoke CERT[@TIME][:REASON]``), and the CRL number goes up.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from ecard._files import write_atomic
from ecard.cli.common import (
    ALG_NAMES,
    Subcommands,
    bounded_int,
    days,
    force_option,
    lang_option,
    parse_now,
    refuse_overwrite,
    say,
)
from ecard.cli.errors import WRITE_EPILOG, Parser, UsageError
from ecard.crypto.crl import load_crl_file
from ecard.crypto.x509 import certificate_to_pem, load_certificate_file
from ecard.errors import BadInputError
from ecard.publish.crl import MAX_CRL_NUMBER, next_crl
from ecard.signing.crl import Revocation, crl_to_pem
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

#: The reasons ``--revoke CERT[@TIME][:REASON]`` accepts, by their RFC 5280 names
#: (``removeFromCRL`` is for delta CRLs only).
REASONS = {
    flag.value.lower(): flag
    for flag in x509.ReasonFlags
    if flag is not x509.ReasonFlags.remove_from_crl
}


def _load_ca(cert_path: str, key_path: str, password_env: str | None) -> CertifiedKey:
    certs = load_certificate_file(cert_path)
    key = load_private_key_file(key_path, password=password_from_env(password_env))
    return CertifiedKey(key=key, certificate=certs[0], chain=tuple(certs[1:]))


def parse_revocation(value: str, default_time: datetime) -> Revocation:
    """``CERT[@TIME][:REASON]`` as a revocation: the certificate in the file ``CERT``, revoked
    at ``TIME`` (ISO 8601 with a zone; ``default_time`` without one) for ``REASON`` (an RFC
    5280 reason name such as ``keyCompromise``; ``unspecified`` without one).
    A :class:`UsageError` for a time or reason that does not parse."""
    rest, reason = value, x509.ReasonFlags.unspecified
    head, sep, tail = value.rpartition(":")
    if sep and tail.lower() in REASONS:
        rest, reason = head, REASONS[tail.lower()]
    elif sep and tail.isalpha() and "@" in value:
        raise UsageError(
            f"--revoke: unknown reason {tail!r}; one of: {', '.join(sorted(f.value for f in REASONS.values()))}",
            f"--revoke：未知的吊销原因 {tail!r}；可选：{', '.join(sorted(f.value for f in REASONS.values()))}",
        )
    path, at, when_text = rest.rpartition("@")
    if not at:
        path, when = rest, default_time
    else:
        try:
            when = parse_now(when_text)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"--revoke {value!r}: {exc}", f"--revoke {value!r}：{exc}") from None
    certs = load_certificate_file(path)
    if len(certs) != 1:
        raise BadInputError(
            f"{path}: --revoke takes a file with one certificate, not {len(certs)}",
            detail_zh=f"{path}：--revoke 需要只含一张证书的文件，而不是 {len(certs)} 张",
        )
    return (certs[0], when, reason)


def _previous(args: argparse.Namespace, out: Path) -> x509.CertificateRevocationList | None:
    if args.previous:
        source = Path(args.previous)
        if out.exists() and out.resolve() != source.resolve():
            refuse_overwrite(out, args)
    elif out.exists():
        source = out
    else:
        return None
    crls = load_crl_file(source)
    if len(crls) != 1:
        raise BadInputError(
            f"{source}: the previous CRL must be one CRL, not {len(crls)}",
            detail_zh=f"{source}：上一份 CRL 必须是一份 CRL，而不是 {len(crls)} 份",
        )
    return crls[0]


def cmd_pki_crl(args: argparse.Namespace) -> bool:
    """Issue the CA's next CRL: the previous one's revocations kept, the certificates given
    added, the number one higher (or the ``--number`` given, if higher)."""
    out = Path(args.out)
    previous = _previous(args, out)
    ca = _load_ca(args.ca_cert, args.ca_key, args.ca_key_password_env)
    now = datetime.now(UTC).replace(microsecond=0)
    default_time = args.revoked_at or now
    revoked = [parse_revocation(value, default_time) for value in args.revoke or []]
    update = next_crl(
        ca, previous, revoked, this_update=now, days=args.next_update_days, number=args.number
    )
    write_atomic(out, crl_to_pem(update.crl))
    total = len(list(update.crl))
    subject = ca.certificate.subject.rfc4514_string()
    added, already, kept = len(update.added), len(update.already), len(update.kept)
    print(
        say(
            args,
            f"wrote {args.out}: CRL number {update.number} of {subject}: {added} newly "
            f"revoked, {already} already revoked (earlier date kept), {kept} kept from the "
            f"previous CRL, {total} in all; next update {update.crl.next_update_utc}",
            f"已写入 {args.out}：{subject} 的 CRL 编号 {update.number}：新吊销 {added} 个，"
            f"已吊销 {already} 个（保留较早的日期），沿用上一份 CRL {kept} 个，共 {total} 个；"
            f"下次更新 {update.crl.next_update_utc}",
        )
    )
    return True


def cmd_pki(args: argparse.Namespace) -> bool:
    """Create a root, an issuing CA or a signer and write its certificate, chain and key
    (refusing to replace any of the three without ``--force``)."""
    out = Path(args.out)
    stem = args.name or args.pki_cmd
    paths = [out / f"{stem}-{part}.pem" for part in ("cert", "chain", "key")]
    for path in paths:
        refuse_overwrite(path, args)
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
    chain = b"".join(certificate_to_pem(c) for c in (made.certificate, *made.chain))
    write_atomic(paths[0], certificate_to_pem(made.certificate))
    write_atomic(paths[1], chain)
    write_atomic(paths[2], private_key_to_pem(made.key, password), private=True)
    cert = made.certificate
    print(
        say(
            args,
            f"wrote {paths[0]}, {stem}-chain.pem and {stem}-key.pem",
            f"已写入 {paths[0]}、{stem}-chain.pem 和 {stem}-key.pem",
        )
    )
    print(say(args, "subject: ", "主体：") + cert.subject.rfc4514_string())
    validity = f"{cert.not_valid_before_utc} .. {cert.not_valid_after_utc}"
    print(say(args, "valid:   ", "有效期：") + validity)
    if args.pki_cmd in ("signer", "list-signer"):
        print(say(args, "kid:     ", "kid：") + made.kid.hex())
    return True


def add_pki(sub: Subcommands) -> None:
    """Register ``ecard pki``."""
    k = sub.add_parser(
        "pki", help="self-managed CA for pilots: root, issuing CA, signer", epilog=WRITE_EPILOG
    )
    ksub = k.add_subparsers(dest="pki_cmd", required=True, parser_class=Parser)
    for name, helptext in (
        ("root", "create a self-signed root CA"),
        ("ca", "create an issuing CA under a root"),
        ("signer", "create a document signer (signs cards) under a CA"),
        ("list-signer", "create a trust-list / revocation-list signer under a CA"),
    ):
        s = ksub.add_parser(name, help=helptext, description=helptext, epilog=WRITE_EPILOG)
        s.add_argument("--out", required=True, help="output folder")
        s.add_argument("--cn", required=True, help="common name of the subject")
        s.add_argument("--org", help="organization name (default: none)")
        s.add_argument("--name", help=f"file name stem (default: {name})")
        s.add_argument("--alg", default="ES256", choices=ALG_NAMES, help="key algorithm")
        s.add_argument(
            "--days",
            type=days,
            default={"root": 7300, "ca": 3650}.get(name, 730),
            metavar="N",
            help="certificate validity in days",
        )
        s.add_argument(
            "--key-password-env",
            metavar="VAR",
            help="encrypt the new key with the password in this environment variable "
            "(default: not encrypted)",
        )
        if name != "root":
            s.add_argument("--ca-cert", required=True, help="issuing certificate (PEM)")
            s.add_argument("--ca-key", required=True, help="issuing private key (PEM)")
            s.add_argument(
                "--ca-key-password-env",
                metavar="VAR",
                help="environment variable holding the issuing key's password",
            )
        force_option(s)
        lang_option(s)
        s.set_defaults(func=cmd_pki)
    c = ksub.add_parser(
        "crl",
        help="issue a CA's next CRL (what `--crl` reads), continuing its previous one",
        description="Issue a CA's next CRL. It continues the previous CRL (--previous, or the "
        "--out file if it exists): every certificate revoked there stays revoked with its "
        "date and reason, and the CRL number is one higher.",
        epilog=WRITE_EPILOG,
    )
    c.add_argument("--out", required=True, help="CRL file to write (PEM)")
    c.add_argument(
        "--previous",
        metavar="FILE",
        help="the CA's previous CRL to continue (default: the --out file, if it exists)",
    )
    c.add_argument("--ca-cert", required=True, help="certificate of the CA that signs the CRL")
    c.add_argument("--ca-key", required=True, help="private key of that CA (PEM)")
    c.add_argument(
        "--ca-key-password-env", metavar="VAR", help="environment variable holding its password"
    )
    c.add_argument(
        "--revoke",
        action="append",
        metavar="CERT[@TIME][:REASON]",
        help="certificate to revoke (repeatable), with its own revocation time (ISO 8601 with "
        "a zone) and RFC 5280 reason (e.g. keyCompromise, superseded)",
    )
    c.add_argument(
        "--revoked-at",
        type=parse_now,
        metavar="ISO8601",
        help="revocation time of each --revoke without @TIME (default: now)",
    )
    c.add_argument(
        "--number",
        type=bounded_int(1, MAX_CRL_NUMBER),
        metavar="N",
        help="CRL number (default: the previous one + 1; must be higher than it)",
    )
    c.add_argument(
        "--next-update-days", type=days, default=7, metavar="N", help="days until the next CRL"
    )
    force_option(c)
    lang_option(c)
    c.set_defaults(func=cmd_pki_crl)


__all__ = ["REASONS", "add_pki", "cmd_pki", "cmd_pki_crl", "parse_revocation"]
