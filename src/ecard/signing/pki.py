"""Issuer keys and certificates for demos, pilots and tests (a self-managed CA).

A production deployment gets its document-signer certificates from a licensed CA (PRC
Electronic Signature Law, Art. 16-17); these helpers build the same shape of hierarchy so the
rest of the library can be exercised end to end:

    root CA  ->  issuing CA (optional, one per province or authority)  ->  document signer

Document-signer certificates carry ``basicConstraints CA:FALSE``, ``keyUsage digitalSignature``
(both critical) and the extended key usage :data:`ECARD_SIGNING_EKU`.

Every level may use any registered algorithm, SM2 included, in any mix: certificates with an SM2
key or an SM2 issuer are built by :mod:`ecard.signing.x509build` (SM2-with-SM3, GM/T 0015), the
others by ``cryptography``; both write the same profile.

>>> root = create_root_ca("Example Root CA")
>>> signer = create_document_signer(root, "Example Document Signer")
>>> len(signer.kid)
8
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ecard.crypto.algorithms import (
    DEFAULT_ALGORITHM,
    ES256,
    ES384,
    Algorithm,
    EcdsaAlgorithm,
    EdDsaAlgorithm,
    PublicKey,
    RsaPssAlgorithm,
    Sm2Algorithm,
    algorithm_for_key,
    get_algorithm,
    is_public_key,
)
from ecard.crypto.sm2 import Sm2PublicKey
from ecard.crypto.x509 import (
    ECARD_LIST_SIGNING_EKU,
    ECARD_SIGNING_EKU,
    certificate_to_pem,
    public_key_identifier,
)
from ecard.errors import BadKeyError
from ecard.formats.cose import kid_for_certificate
from ecard.signing.signers import KeySigner, PrivateKey
from ecard.signing.sm2 import Sm2PrivateKey
from ecard.signing.x509build import build_certificate, signature_hash

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
    certificate is built by :func:`ecard.signing.x509build.build_certificate`, with the same
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
    return builder.sign(signing_key, signature_hash(signing_key))


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
    (critical, as RFC 3161 wants) for a time-stamping authority.

    A key no registered algorithm can use is a :class:`~ecard.errors.BadKeyError` here, not a
    failure at every verifier later. The chain above the certificate is
    ``(ca.certificate, *ca.chain)``.
    """
    if not is_public_key(public_key):
        raise BadKeyError(f"unsupported public key type {type(public_key).__name__}")
    algorithm_for_key(public_key)
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


def create_tsa(
    ca: CertifiedKey,
    common_name: str = "ecard Test TSA",
    *,
    organization: str | None = None,
    country: str = "CN",
    not_before: dt.datetime | None = None,
    days: int = 5 * 365,
    key_size: int = 2048,
) -> CertifiedKey:
    """A time-stamping authority certificate (RSA) under ``ca``, for
    :func:`ecard.pdf.local_timestamper`.

    ``basicConstraints CA:FALSE``, ``keyUsage digitalSignature, nonRepudiation`` (critical) and
    ``extendedKeyUsage timeStamping`` (critical, as RFC 3161 requires).
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    cert = certify_end_entity(
        ca,
        key.public_key(),
        common_name,
        organization=organization,
        country=country,
        not_before=not_before,
        days=days,
        eku=ExtendedKeyUsageOID.TIME_STAMPING,
        eku_critical=True,
        non_repudiation=True,
    )
    return CertifiedKey(key=key, certificate=cert, chain=(ca.certificate, *ca.chain))


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


__all__ = [
    "CertifiedKey",
    "certify_end_entity",
    "create_document_signer",
    "create_issuing_ca",
    "create_list_signer",
    "create_root_ca",
    "create_tsa",
    "generate_private_key",
    "private_key_to_pem",
]
