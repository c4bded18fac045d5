"""Issuer keys and certificates for demos, pilots and tests (a self-managed CA).

A production deployment gets its document-signer certificates from a licensed CA (PRC
Electronic Signature Law, Art. 16-17); these helpers build the same shape of hierarchy so the
rest of the library can be exercised end to end:

    root CA  ->  issuing CA (optional, one per province or authority)  ->  document signer

Document-signer certificates carry ``basicConstraints CA:FALSE``, ``keyUsage digitalSignature``
(both critical) and the extended key usage :data:`ECARD_SIGNING_EKU`.

Every level may use any registered algorithm, SM2 included, in any mix: certificates with an SM2
key or an SM2 issuer are built by :mod:`ecard.signing.x509sm2` (SM2-with-SM3, GM/T 0015), the
others by ``cryptography``; both write the same profile.

>>> root = create_root_ca("Example Root CA")
>>> signer = create_document_signer(root, "Example Document Signer")
>>> len(signer.kid)
8
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

from ecard._files import load_file
from ecard.errors import BadCertificateError, BadKeyError
from ecard.signing.algorithms import (
    DEFAULT_ALGORITHM,
    ES256,
    ES384,
    Algorithm,
    EcdsaAlgorithm,
    EdDsaAlgorithm,
    PublicKey,
    RsaPssAlgorithm,
    Sm2Algorithm,
    get_algorithm,
)
from ecard.signing.cose import kid_for_certificate
from ecard.signing.signers import KeySigner, PrivateKey
from ecard.signing.sm2 import Sm2PrivateKey, Sm2PublicKey
from ecard.signing.x509sm2 import build_certificate, public_key_identifier

#: Extended key usage marking a certificate as an e-card document signer. An OID under the
#: ``2.25`` (UUID) arc, which needs no registration (ITU-T X.667).
ECARD_SIGNING_EKU: Final = x509.ObjectIdentifier("2.25.195694343038541748388501671871302853963")

#: Extended key usage marking a certificate as a trust-list / revocation-list signer.
ECARD_LIST_SIGNING_EKU: Final = x509.ObjectIdentifier(
    "2.25.143130585279462153787950431096932367043"
)

_UTC = dt.UTC


def generate_private_key(algorithm: Algorithm | str | int = DEFAULT_ALGORITHM) -> PrivateKey:
    """A fresh private key for ``algorithm`` (P-256 for ES256, Ed25519 for EdDSA, an
    :class:`~ecard.signing.sm2.Sm2PrivateKey` for SM2, ...)."""
    alg = get_algorithm(algorithm)
    if alg is ES256 or alg is ES384:
        assert isinstance(alg, EcdsaAlgorithm)
        return ec.generate_private_key(alg.curve)
    if isinstance(alg, EdDsaAlgorithm):
        return ed25519.Ed25519PrivateKey.generate()
    if isinstance(alg, RsaPssAlgorithm):
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    if isinstance(alg, Sm2Algorithm):
        return Sm2PrivateKey.generate()
    raise BadKeyError(f"no key generator for {alg.name}")  # pragma: no cover - registry is closed


def _cert_hash(
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey,
) -> hashes.SHA256 | hashes.SHA384 | None:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


def _name(common_name: str, organization: str | None, country: str) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, country)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


@dataclass(frozen=True, eq=False)
class CertifiedKey:
    """A private key with its certificate and the CA certificates above it (nearest first).

    The ``repr`` names the certificate only; the key is never shown.
    """

    key: PrivateKey = field(repr=False)
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def kid(self) -> bytes:
        """The ``kid`` credentials signed with this key carry."""
        return kid_for_certificate(self.certificate)

    def signer(self, algorithm: Algorithm | str | int | None = None) -> KeySigner:
        """An in-memory :class:`~ecard.signing.signers.KeySigner` over this key."""
        return KeySigner(self.key, algorithm)

    def key_pem(self, password: bytes | None = None) -> bytes:
        """The private key as PKCS#8 PEM, encrypted when ``password`` is given."""
        return private_key_to_pem(self.key, password)

    def certificate_pem(self) -> bytes:
        """The certificate as PEM."""
        return certificate_to_pem(self.certificate)

    def __repr__(self) -> str:
        return f"CertifiedKey(subject={self.certificate.subject.rfc4514_string()!r})"


def _certificate(
    *,
    subject: x509.Name,
    public_key: PublicKey,
    issuer: CertifiedKey | None,
    self_key: PrivateKey | None,
    not_before: dt.datetime | None,
    days: int,
    extensions: Iterable[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    """A certificate for ``public_key`` signed by ``issuer`` (or self-signed with ``self_key``).

    When either key is SM2 (which ``cryptography`` can neither load nor sign with) the
    certificate is built by :func:`ecard.signing.x509sm2.build_certificate`, with the same
    fields and extensions in the same order.
    """
    start = (not_before or dt.datetime.now(_UTC) - dt.timedelta(hours=1)).astimezone(_UTC)
    signing_key = issuer.key if issuer else self_key
    assert signing_key is not None
    issuer_name = issuer.certificate.subject if issuer else subject
    # RFC 5280 4.2.1.2 method 1, the value cryptography's from_public_key computes too
    all_extensions: list[tuple[x509.ExtensionType, bool]] = [
        (x509.SubjectKeyIdentifier(public_key_identifier(public_key)), False)
    ]
    if issuer is not None:
        aki = public_key_identifier(issuer.key.public_key())
        all_extensions.append((x509.AuthorityKeyIdentifier(aki, None, None), False))
    all_extensions.extend(extensions)
    serial = x509.random_serial_number()
    end = start + dt.timedelta(days=days)
    if isinstance(signing_key, Sm2PrivateKey) or isinstance(public_key, Sm2PublicKey):
        return build_certificate(
            issuer_key=signing_key,
            issuer_name=issuer_name,
            subject_name=subject,
            subject_key=public_key,
            serial_number=serial,
            not_before=start,
            not_after=end,
            extensions=all_extensions,
        )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
    )
    for ext, critical in all_extensions:
        builder = builder.add_extension(ext, critical)
    return builder.sign(signing_key, _cert_hash(signing_key))


def _build(
    *,
    subject: x509.Name,
    key: PrivateKey,
    issuer: CertifiedKey | None,
    not_before: dt.datetime | None,
    days: int,
    extensions: Iterable[tuple[x509.ExtensionType, bool]],
) -> CertifiedKey:
    cert = _certificate(
        subject=subject,
        public_key=key.public_key(),
        issuer=issuer,
        self_key=key,
        not_before=not_before,
        days=days,
        extensions=extensions,
    )
    chain = (issuer.certificate, *issuer.chain) if issuer else ()
    return CertifiedKey(key=key, certificate=cert, chain=chain)


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def create_root_ca(
    common_name: str = "ecard Demo Root CA",
    *,
    organization: str | None = None,
    country: str = "CN",
    algorithm: Algorithm | str | int = DEFAULT_ALGORITHM,
    not_before: dt.datetime | None = None,
    days: int = 20 * 365,
) -> CertifiedKey:
    """A self-signed root CA (``basicConstraints CA:TRUE``, ``keyCertSign``, ``cRLSign``)."""
    key = generate_private_key(algorithm)
    return _build(
        subject=_name(common_name, organization, country),
        key=key,
        issuer=None,
        not_before=not_before,
        days=days,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (_ca_key_usage(), True),
        ],
    )


def create_issuing_ca(
    parent: CertifiedKey,
    common_name: str,
    *,
    organization: str | None = None,
    country: str = "CN",
    algorithm: Algorithm | str | int = DEFAULT_ALGORITHM,
    not_before: dt.datetime | None = None,
    days: int = 10 * 365,
) -> CertifiedKey:
    """An intermediate CA under ``parent`` that may sign document signers only (pathlen 0)."""
    key = generate_private_key(algorithm)
    return _build(
        subject=_name(common_name, organization, country),
        key=key,
        issuer=parent,
        not_before=not_before,
        days=days,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (_ca_key_usage(), True),
        ],
    )


def create_document_signer(
    ca: CertifiedKey,
    common_name: str,
    *,
    organization: str | None = None,
    country: str = "CN",
    algorithm: Algorithm | str | int = DEFAULT_ALGORITHM,
    not_before: dt.datetime | None = None,
    days: int = 2 * 365,
    key: PrivateKey | None = None,
    eku: x509.ObjectIdentifier = ECARD_SIGNING_EKU,
) -> CertifiedKey:
    """A document-signer certificate (the key that signs cards), issued by ``ca``.

    ``eku`` is the extended key usage (:data:`ECARD_LIST_SIGNING_EKU` for a list signer, see
    :func:`create_list_signer`).

    ``key`` lets a caller certify an existing key (e.g. one generated inside an HSM); by
    default a fresh key for ``algorithm`` is made.
    """
    key = key if key is not None else generate_private_key(algorithm)
    cert = certify_end_entity(
        ca,
        key.public_key(),
        common_name,
        organization=organization,
        country=country,
        not_before=not_before,
        days=days,
        eku=eku,
    )
    return CertifiedKey(key=key, certificate=cert, chain=(ca.certificate, *ca.chain))


def certify_end_entity(
    ca: CertifiedKey,
    public_key: PublicKey,
    common_name: str,
    *,
    organization: str | None = None,
    country: str = "CN",
    not_before: dt.datetime | None = None,
    days: int = 2 * 365,
    eku: x509.ObjectIdentifier = ECARD_SIGNING_EKU,
    eku_critical: bool = False,
    non_repudiation: bool = False,
) -> x509.Certificate:
    """An end-entity certificate under ``ca`` for a public key whose private half may be
    elsewhere (an HSM): ``CA:FALSE`` and ``keyUsage digitalSignature`` (plus ``nonRepudiation``
    if asked), both critical, and the single extended key usage ``eku``: the document-signer
    profile by default, ``ECARD_LIST_SIGNING_EKU`` for a list signer, ``timeStamping``
    (critical, as RFC 3161 wants) for a time-stamping authority."""
    return _certificate(
        subject=_name(common_name, organization, country),
        public_key=public_key,
        issuer=ca,
        self_key=None,
        not_before=not_before,
        days=days,
        extensions=[
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=non_repudiation,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                True,
            ),
            (x509.ExtendedKeyUsage([eku]), eku_critical),
        ],
    )


def create_list_signer(
    ca: CertifiedKey,
    common_name: str,
    *,
    organization: str | None = None,
    country: str = "CN",
    algorithm: Algorithm | str | int = DEFAULT_ALGORITHM,
    not_before: dt.datetime | None = None,
    days: int = 2 * 365,
) -> CertifiedKey:
    """A trust-list / revocation-list signer certificate (EKU :data:`ECARD_LIST_SIGNING_EKU`)."""
    return create_document_signer(
        ca,
        common_name,
        organization=organization,
        country=country,
        algorithm=algorithm,
        not_before=not_before,
        days=days,
        eku=ECARD_LIST_SIGNING_EKU,
    )


def signing_unfitness(cert: x509.Certificate) -> str | None:
    """Why ``cert`` may not sign cards, or ``None`` if it may.

    A document signer is an end-entity certificate (not ``CA:TRUE``) whose key usage, if
    present, includes ``digitalSignature`` and whose extended key usage, if present, includes
    :data:`ECARD_SIGNING_EKU` (so a list signer cannot sign cards). Issuer and verifier apply
    this same rule.
    """
    try:
        exts = cert.extensions
    except ValueError as exc:  # duplicate or malformed extensions
        return f"malformed extensions: {exc}"
    try:
        if exts.get_extension_for_class(x509.BasicConstraints).value.ca:
            return "a CA certificate may not sign cards directly"
    except x509.ExtensionNotFound:
        pass
    try:
        if not exts.get_extension_for_class(x509.KeyUsage).value.digital_signature:
            return "key usage lacks digitalSignature"
    except x509.ExtensionNotFound:
        pass
    try:
        eku = exts.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ECARD_SIGNING_EKU not in eku:
            return "extended key usage does not include e-card signing"
    except x509.ExtensionNotFound:
        pass
    return None


def certificate_to_pem(cert: x509.Certificate) -> bytes:
    """PEM encoding of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM)


def private_key_to_pem(key: PrivateKey, password: bytes | None = None) -> bytes:
    """PKCS#8 PEM of a private key; encrypted with the best available scheme if ``password``.

    SM2 keys are written by :meth:`~ecard.signing.sm2.Sm2PrivateKey.private_pem`.
    """
    if isinstance(key, Sm2PrivateKey):
        return key.private_pem(password=password) if password else key.private_pem()
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


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


__all__ = [
    "ECARD_LIST_SIGNING_EKU",
    "ECARD_SIGNING_EKU",
    "CertifiedKey",
    "certificate_to_pem",
    "certify_end_entity",
    "create_document_signer",
    "create_issuing_ca",
    "create_list_signer",
    "create_root_ca",
    "generate_private_key",
    "load_certificate_file",
    "load_certificates",
    "load_der_certificate",
    "private_key_to_pem",
    "signing_unfitness",
]
