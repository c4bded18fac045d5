"""Reading certificate revocation lists (RFC 5280 CRLs): strict, size-capped loading from PEM or
DER, and the one scan that says whether and since when a certificate is revoked by a set of
CRLs. Verifiers receive CRLs as data next to the trust list;
:class:`ecard.verify.paths.PathValidator`, the audit and the PDF validator all ask
:func:`find_revocation` / :func:`path_revocation`. Building and signing CRLs is
:mod:`ecard.signing.crl`.

The scan's reading of an entry (RFC 5280 5.3): a certificate is revoked from the earlier of its
``revocationDate`` and its ``invalidityDate`` (the key was compromised before the CA heard of
it); an entry with the reason ``removeFromCRL`` revokes nothing (a delta CRL releasing a hold).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cryptography import x509

from ecard._files import load_file
from ecard.crypto.x509sig import is_signed_by
from ecard.errors import BadCertificateError

#: Refuse absurd CRL inputs before parsing them.
MAX_CRL_BYTES: Final = 16 * 1024 * 1024

_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", flags=re.DOTALL)


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
        for crl in crls:
            # cryptography parses the issuer and the extensions only when first read: a
            # damaged one would otherwise raise ValueError later, in path validation
            _ = crl.issuer, crl.extensions
    except (
        ValueError,
        TypeError,  # older cryptography, for some damaged names
        KeyError,
        x509.InvalidVersion,  # not a ValueError: a CRL version other than v1/v2
        x509.DuplicateExtension,
        x509.UnsupportedGeneralNameType,
    ) as exc:
        raise BadCertificateError(f"cannot parse CRL: {exc}") from None
    if not crls:
        raise BadCertificateError("no CRL found")
    return crls


def crl_number(crl: x509.CertificateRevocationList) -> int | None:
    """The CRL number extension of ``crl``, or ``None`` if it has none."""
    try:
        return int(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
    except x509.ExtensionNotFound:
        return None


def load_crl_file(path: str | os.PathLike[str]) -> list[x509.CertificateRevocationList]:
    """Read CRLs (PEM or DER) from a file; :class:`BadCertificateError` naming it if unusable."""
    return load_file(path, BadCertificateError, load_crls, max_size=MAX_CRL_BYTES)


@dataclass(frozen=True)
class Revocation:
    """A certificate found revoked in a CRL: which one, since when, why, and by which CRL.

    ``at`` is the earlier of the entry's ``revocationDate`` and ``invalidityDate`` (aware UTC);
    ``reason`` the entry's CRL reason name (``"unspecified"`` without a reason code); ``crl``
    the CRL that lists it (``None`` when the revocation was learnt otherwise).
    """

    certificate: x509.Certificate
    at: datetime
    reason: str
    crl: x509.CertificateRevocationList | None = None


def find_revocation(
    cert: x509.Certificate, crls: Iterable[x509.CertificateRevocationList]
) -> Revocation | None:
    """The earliest revocation of ``cert`` in ``crls``, or ``None``.

    The caller passes only CRLs it trusts for ``cert`` (issued and signed by its issuer):
    this function reads entries and does not check signatures (:func:`path_revocation` does).
    """
    earliest: Revocation | None = None
    for crl in crls:
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is None:
            continue
        found = _entry_revocation(entry, cert, crl)
        if found is not None and (earliest is None or found.at < earliest.at):
            earliest = found
    return earliest


def issuer_crls(
    issuer: x509.Certificate, crls: Iterable[x509.CertificateRevocationList]
) -> list[x509.CertificateRevocationList]:
    """The CRLs of ``crls`` that ``issuer`` issued and signed (SM2 included; a CRL whose
    signature cannot be checked is left out)."""
    return [c for c in crls if c.issuer == issuer.subject and is_signed_by(c, issuer)]


def path_revocation(
    path: Sequence[x509.Certificate], crls: Iterable[x509.CertificateRevocationList]
) -> Revocation | None:
    """The earliest revocation of a certificate of ``path`` (leaf first; the last one, the
    trust anchor, is not checked) by a CRL of ``crls`` issued and signed by its issuer."""
    pool = list(crls)
    earliest: Revocation | None = None
    for cert, issuer in itertools.pairwise(path):
        found = find_revocation(cert, issuer_crls(issuer, pool))
        if found is not None and (earliest is None or found.at < earliest.at):
            earliest = found
    return earliest


def _entry_revocation(
    entry: x509.RevokedCertificate, cert: x509.Certificate, crl: x509.CertificateRevocationList
) -> Revocation | None:
    when = entry.revocation_date_utc
    reason = "unspecified"
    for ext in entry.extensions:
        value: Any = ext.value
        if isinstance(value, x509.CRLReason):
            if value.reason is x509.ReasonFlags.remove_from_crl:
                return None
            reason = value.reason.name
        elif isinstance(value, x509.InvalidityDate):
            when = min(when, value.invalidity_date_utc)
    return Revocation(cert, when, reason, crl)


__all__ = [
    "MAX_CRL_BYTES",
    "Revocation",
    "crl_number",
    "find_revocation",
    "issuer_crls",
    "load_crl_file",
    "load_crls",
    "path_revocation",
]
