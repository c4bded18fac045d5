"""Reading X.509 certificates, the ecard certificate profile, and key identifiers.

Both sides use these: an issuer checks its own certificate, a verifier every certificate it
trusts, by the same rules. Nothing here builds or signs a certificate (that is
:mod:`ecard.signing.pki`).

- :data:`ECARD_SIGNING_EKU` and :data:`ECARD_LIST_SIGNING_EKU`: the extended key usages of a
  document signer and of a trust-/revocation-list signer;
- :func:`signing_unfitness`: why a certificate may not sign cards (one rule, issuer and
  verifier alike);
- :func:`load_der_certificate`, :func:`load_certificates`, :func:`load_certificate_file`:
  strict loading (a non-positive serial number is refused now, not warned about);
- :func:`key_identifier`, :func:`public_key_identifier`: RFC 5280 key identifiers, SM2 keys
  included.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Callable
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning

from ecard._files import load_file
from ecard.crypto.algorithms import PublicKey, public_key_der
from ecard.errors import BadCertificateError, BadKeyError

#: ``2.25`` (UUID) arc, which needs no registration (ITU-T X.667).
ECARD_SIGNING_EKU: Final = x509.ObjectIdentifier("2.25.195694343038541748388501671871302853963")

#: Extended key usage marking a certificate as a trust-list / revocation-list signer.
ECARD_LIST_SIGNING_EKU: Final = x509.ObjectIdentifier(
    "2.25.143130585279462153787950431096932367043"
)


def _end_entity_problem(
    cert: x509.Certificate, what: str
) -> tuple[str | None, x509.ExtendedKeyUsage | None]:
    """The first end-entity rule ``cert`` breaks for signing ``what`` (malformed extensions, a
    CA, key usage without ``digitalSignature``), and its extended key usage if it has one."""
    try:
        exts = cert.extensions
    except ValueError as exc:  # duplicate or malformed extensions
        return f"malformed extensions: {exc}", None
    try:
        if exts.get_extension_for_class(x509.BasicConstraints).value.ca:
            return f"a CA certificate may not sign {what} directly", None
    except x509.ExtensionNotFound:
        pass
    try:
        if not exts.get_extension_for_class(x509.KeyUsage).value.digital_signature:
            return "key usage lacks digitalSignature", None
    except x509.ExtensionNotFound:
        pass
    try:
        return None, exts.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None, None


def signing_unfitness(cert: x509.Certificate) -> str | None:
    """Why ``cert`` may not sign cards, or ``None`` if it may.

    A document signer is an end-entity certificate (not ``CA:TRUE``) whose key usage, if
    present, includes ``digitalSignature`` and whose extended key usage, if present, includes
    :data:`ECARD_SIGNING_EKU` (so a list signer cannot sign cards). Issuer and verifier apply
    this same rule.
    """
    problem, eku = _end_entity_problem(cert, "cards")
    if problem is None and eku is not None and ECARD_SIGNING_EKU not in eku:
        return "extended key usage does not include e-card signing"
    return problem


def list_signing_unfitness(cert: x509.Certificate) -> str | None:
    """Why ``cert`` may not sign trust or revocation lists, or ``None`` if it may: it must be an
    end-entity certificate whose key usage, if present, includes ``digitalSignature`` and whose
    extended key usage includes :data:`ECARD_LIST_SIGNING_EKU` (which every verifier demands;
    a document signer's certificate is refused here rather than by every counter later)."""
    problem, eku = _end_entity_problem(cert, "lists")
    if problem is not None:
        return problem
    if eku is None or ECARD_LIST_SIGNING_EKU not in eku:
        what = "a document signer's" if eku is not None and ECARD_SIGNING_EKU in eku else "some"
        return (
            f"this is {what} certificate, not a list signer's: its extended key usage lacks "
            f"e-card list signing ({ECARD_LIST_SIGNING_EKU.dotted_string}); sign lists with the "
            "list signer's certificate (ecard pki list-signer)"
        )
    return None


def certificate_to_pem(cert: x509.Certificate) -> bytes:
    """PEM encoding of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM)


def _checked(
    load: Callable[[bytes], list[x509.Certificate]], data: bytes
) -> list[x509.Certificate]:
    # cryptography warns when the serial number is read (not when parsing): check it here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        try:
            certs = load(data)
        except (ValueError, x509.InvalidVersion) as exc:
            raise BadCertificateError(f"cannot parse certificate: {exc}") from None
        if not certs:
            raise BadCertificateError("no certificate found")
        if any(cert.serial_number <= 0 for cert in certs):
            raise BadCertificateError("cannot parse certificate: serial number is not positive")
        for cert in certs:
            # cryptography parses the names and extensions only when first read: a damaged one
            # would otherwise raise ValueError later, wherever the certificate is first used
            try:
                _ = cert.subject, cert.issuer, cert.extensions
            # (older cryptography raises KeyError or TypeError for some damaged names)
            except (
                ValueError,
                TypeError,
                KeyError,
                x509.DuplicateExtension,
                x509.UnsupportedGeneralNameType,
            ) as exc:
                raise BadCertificateError(f"cannot parse certificate: {exc}") from None
    return certs


def load_der_certificate(data: bytes) -> x509.Certificate:
    """One DER certificate; :class:`BadCertificateError` if unusable.

    A serial number that is not positive (RFC 5280 4.1.2.2; ``cryptography`` only warns, and
    will refuse it in a later version) is refused now, so the outcome does not depend on the
    version installed.
    """
    return _checked(lambda d: [x509.load_der_x509_certificate(d)], data)[0]


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in ``data``: one or more PEM blocks, or a single DER certificate
    (checked as :func:`load_der_certificate` does)."""
    if b"-----BEGIN" in data:
        return _checked(x509.load_pem_x509_certificates, data)
    return [load_der_certificate(data)]


def load_certificate_file(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    """Read certificates (PEM or DER) from a file; :class:`BadCertificateError` if unusable."""
    return load_file(path, BadCertificateError, load_certificates)


def key_identifier(spki: bytes) -> bytes:
    """The RFC 5280 (section 4.2.1.2, method 1) key identifier of a DER SubjectPublicKeyInfo:
    SHA-1 of the ``subjectPublicKey`` BIT STRING contents, as ``cryptography`` computes it.

    :class:`~ecard.errors.BadKeyError` if ``spki`` is not a SubjectPublicKeyInfo.
    """
    from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped, unused-ignore]

    try:
        bits = asn1_keys.PublicKeyInfo.load(bytes(spki))["public_key"]
        contents = bytes(bits.contents)
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError...
        raise BadKeyError(f"not a SubjectPublicKeyInfo: {exc}") from None
    # the BIT STRING contents start with the unused-bits count, which the identifier leaves out
    return hashlib.sha1(contents[1:], usedforsecurity=False).digest()


def public_key_identifier(key: PublicKey) -> bytes:
    """:func:`key_identifier` of a registry public key (SM2 included)."""
    return key_identifier(public_key_der(key))


__all__ = [
    "ECARD_LIST_SIGNING_EKU",
    "ECARD_SIGNING_EKU",
    "certificate_to_pem",
    "key_identifier",
    "list_signing_unfitness",
    "load_certificate_file",
    "load_certificates",
    "load_der_certificate",
    "public_key_identifier",
    "signing_unfitness",
]
