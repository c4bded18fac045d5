"""Building and signing certificate revocation lists (RFC 5280 CRLs) for the self-managed CA in
:mod:`ecard.signing.pki` (reading them is :mod:`ecard.crypto.crl`).

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
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ecard._time import system_clock, utc
from ecard.crypto.x509 import public_key_identifier
from ecard.signing.pki import CertifiedKey
from ecard.signing.sm2 import Sm2PrivateKey
from ecard.signing.x509build import CrlEntry, ExtensionSpec, build_crl, signature_hash

#: One revoked certificate: ``(serial number or certificate, revocation time)`` and optionally
#: the reason (RFC 5280 §5.3.1) as a third item.
Revocation = (
    tuple[int | x509.Certificate, dt.datetime]
    | tuple[int | x509.Certificate, dt.datetime, x509.ReasonFlags]
)


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
    a CRL number and the CA's authority key identifier. A naive datetime is a :class:`TypeError`.
    A reason other than ``unspecified`` is written as a ``reasonCode`` entry extension.
    An SM2 CA signs with SM2-with-SM3 (:func:`ecard.signing.x509build.build_crl`).
    """
    start = utc(this_update, "this_update") if this_update is not None else system_clock()
    end = (
        utc(next_update, "next_update")
        if next_update is not None
        else start + dt.timedelta(days=days)
    )
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
        entries.append((serial, utc(when, "revocation time"), entry_extensions))
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
    return builder.sign(ca.key, signature_hash(ca.key))


def crl_to_pem(crl: x509.CertificateRevocationList) -> bytes:
    """PEM encoding of a CRL."""
    return crl.public_bytes(serialization.Encoding.PEM)


__all__ = ["Revocation", "create_crl", "crl_to_pem"]
