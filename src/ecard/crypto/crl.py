"""Reading certificate revocation lists (RFC 5280 CRLs): strict, size-capped loading from PEM or
DER. Verifiers receive CRLs as data next to the trust list, and
:class:`ecard.verify.paths.PathValidator` checks every certificate of a path against them;
building and signing CRLs is :mod:`ecard.signing.crl`.
"""

from __future__ import annotations

import os
import re
from typing import Final

from cryptography import x509

from ecard._files import load_file
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
        x509.InvalidVersion,  # not a ValueError: a CRL version other than v1/v2
        x509.DuplicateExtension,
        x509.UnsupportedGeneralNameType,
    ) as exc:
        raise BadCertificateError(f"cannot parse CRL: {exc}") from None
    if not crls:
        raise BadCertificateError("no CRL found")
    return crls


def load_crl_file(path: str | os.PathLike[str]) -> list[x509.CertificateRevocationList]:
    """Read CRLs (PEM or DER) from a file; :class:`BadCertificateError` naming it if unusable."""
    return load_file(path, BadCertificateError, load_crls, max_size=MAX_CRL_BYTES)


__all__ = ["MAX_CRL_BYTES", "load_crl_file", "load_crls"]
