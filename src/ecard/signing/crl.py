"""Certificate revocation lists (RFC 5280 CRLs) for the self-managed CA in :mod:`ecard.signing.pki`.

Each CA of the hierarchy (root CA, issuing CA) publishes a CRL naming the certificates it issued
that are revoked. Verifiers are offline: they receive these CRLs as data, together with the
trust list, and :class:`ecard.verify.paths.PathValidator` checks every certificate of a
document signer's path against them.

>>> import datetime as dt
>>> from ecard.signing.pki import create_root_ca, create_issuing_ca
>>> root = create_root_ca("Example Root CA")
>>> ca = create_issuing_ca(root, "Example Issuing CA")
>>> when = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
>>> crl = create_crl(root, [(ca.certificate, when)], this_update=when)
>>> crl.get_revoked_certificate_by_serial_number(ca.certificate.serial_number) is not None
True
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ecard._files import load_file
from ecard.errors import BadCertificateError
from ecard.signing.pki import CertifiedKey
from ecard.signing.sm2 import Sm2PrivateKey
from ecard.signing.x509sm2 import CrlEntry, ExtensionSpec, build_crl, public_key_identifier

#: Refuse absurd CRL inputs before parsing them.
MAX_CRL_BYTES: Final = 16 * 1024 * 1024

_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", flags=re.DOTALL)

#: One revoked certificate: ``(serial number or certificate, revocation time)`` and optionally
#: the reason (RFC 5280 §5.3.1) as a third item.
Revocation = (
    tuple[int | x509.Certificate, dt.datetime]
    | tuple[int | x509.Certificate, dt.datetime, x509.ReasonFlags]
)


def _crl_hash(
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey,
) -> hashes.SHA256 | hashes.SHA384 | None:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


def _utc(when: dt.datetime) -> dt.datetime:
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def create_crl(
    ca: CertifiedKey,
    revoked: Iterable[Revocation] = (),
    *,
    this_update: dt.datetime | None = None,
    next_update: dt.datetime | None = None,
    days: int = 7,
    number: int = 1,
) -> x509.CertificateRevocationList:
    """A CRL signed by ``ca`` listing ``revoked`` (serial numbers or certificates issued by ``ca``).

    ``this_update`` defaults to now, ``next_update`` to ``this_update + days``. The CRL carries
    a CRL number and the CA's authority key identifier. Naive datetimes are taken as UTC.
    A reason other than ``unspecified`` is written as a ``reasonCode`` entry extension.
    An SM2 CA signs with SM2-with-SM3 (:func:`ecard.signing.x509sm2.build_crl`).
    """
    start = _utc(this_update) if this_update is not None else dt.datetime.now(dt.UTC)
    end = _utc(next_update) if next_update is not None else start + dt.timedelta(days=days)
    extensions: list[ExtensionSpec] = [
        (x509.CRLNumber(number), False),
        # RFC 5280 4.2.1.2 method 1, what AuthorityKeyIdentifier.from_issuer_public_key computes
        (
            x509.AuthorityKeyIdentifier(public_key_identifier(ca.key.public_key()), None, None),
            False,
        ),
    ]
    entries: list[CrlEntry] = []
    for entry in revoked:
        subject, when = entry[0], entry[1]
        serial = subject.serial_number if isinstance(subject, x509.Certificate) else subject
        entry_extensions: list[ExtensionSpec] = []
        if len(entry) == 3 and entry[2] is not x509.ReasonFlags.unspecified:
            entry_extensions.append((x509.CRLReason(entry[2]), False))
        entries.append((serial, _utc(when), entry_extensions))
    if isinstance(ca.key, Sm2PrivateKey):  # cryptography cannot sign with SM2
        return build_crl(
            issuer_key=ca.key,
            issuer_name=ca.certificate.subject,
            this_update=start,
            next_update=end,
            entries=entries,
            extensions=extensions,
        )
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(start)
        .next_update(end)
    )
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical)
    for serial, when, entry_exts in entries:
        revoked_builder = (
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        )
        for ext, critical in entry_exts:
            revoked_builder = revoked_builder.add_extension(ext, critical)
        builder = builder.add_revoked_certificate(revoked_builder.build())
    return builder.sign(ca.key, _crl_hash(ca.key))


def crl_to_pem(crl: x509.CertificateRevocationList) -> bytes:
    """PEM encoding of a CRL."""
    return crl.public_bytes(serialization.Encoding.PEM)


def load_crls(data: bytes) -> list[x509.CertificateRevocationList]:
    """Every CRL in ``data``: one or more PEM ``X509 CRL`` blocks, or a single DER CRL.

    Raises :class:`~ecard.errors.BadCertificateError` if nothing usable is found.
    """
    if len(data) > MAX_CRL_BYTES:
        raise BadCertificateError(f"CRL data too large ({len(data)} bytes)")
    try:
        if b"-----BEGIN" in data:
            crls = [x509.load_pem_x509_crl(block) for block in _PEM_CRL.findall(data)]
        else:
            crls = [x509.load_der_x509_crl(data)]
    except ValueError as exc:
        raise BadCertificateError(f"cannot parse CRL: {exc}") from None
    if not crls:
        raise BadCertificateError("no CRL found")
    return crls


def load_crl_file(path: str | os.PathLike[str]) -> list[x509.CertificateRevocationList]:
    """Read CRLs (PEM or DER) from a file; :class:`BadCertificateError` naming it if unusable."""
    return load_file(path, BadCertificateError, load_crls, max_size=MAX_CRL_BYTES)


__all__ = [
    "MAX_CRL_BYTES",
    "Revocation",
    "create_crl",
    "crl_to_pem",
    "load_crl_file",
    "load_crls",
]
