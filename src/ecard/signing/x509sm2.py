"""X.509 certificates and CRLs signed with SM2-with-SM3 (or carrying SM2 keys): build and check.

``cryptography`` parses SM2 certificates and CRLs but can neither load an SM2 key nor sign with
one, so its builders refuse any hierarchy with an SM2 key in it. This module builds the
``TBSCertificate`` / ``TBSCertList`` itself (with ``asn1crypto``) and signs the DER with any
private key of the registry: SM2 gives the signature algorithm ``SM2-with-SM3``
(``1.2.156.10197.1.501``, no parameters, DER ``SEQUENCE { r, s }`` signature, distinguishing ID
``1234567812345678`` as GM/T 0015 prescribes for certificates); an ECDSA, Ed25519 or RSA issuer
signs as ``cryptography`` would (``ecdsa-with-SHA256/384``, ``Ed25519``,
``sha256WithRSAEncryption``). Extensions are the ``cryptography`` extension objects, encoded by
``cryptography``, so both builders write the same bytes. The results are ordinary
:class:`cryptography.x509.Certificate` / :class:`~cryptography.x509.CertificateRevocationList`
objects.

Checking: :func:`is_signed_by` says whether a certificate or CRL was signed by an issuer
certificate's key, for every algorithm (SM2 here, everything else through
``pyhanko-certvalidator``'s default validator), and :data:`SIGNATURE_VALIDATOR` is the same check
as a ``pyhanko_certvalidator`` :class:`~pyhanko_certvalidator.sig_validate.SignatureValidator`,
which path validation passes to its ``ValidationContext`` for certificate and CRL signatures.

>>> from ecard.signing.pki import create_root_ca, create_document_signer
>>> root = create_root_ca("SM2 Root", algorithm="SM2")
>>> signer = create_document_signer(root, "SM2 Signer", algorithm="SM2")
>>> signer.certificate.signature_algorithm_oid.dotted_string
'1.2.156.10197.1.501'
>>> is_signed_by(signer.certificate, root.certificate)
True
>>> is_signed_by(root.certificate, signer.certificate)
False
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, Final

from asn1crypto import algos as asn1_algos  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import core as asn1_core  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from pyhanko_certvalidator.errors import AlgorithmNotSupported
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_SIGNATURE_VALIDATOR,
    DEFAULT_VALIDATION_CONTEXT,
    SignatureValidationContext,
    SignatureValidator,
)

from ecard.errors import BadCertificateError, BadKeyError, EcardError
from ecard.signing.algorithms import (
    SM2_WITH_SM3_OID,
    PublicKey,
    certificate_spki,
    public_key_der,
)
from ecard.signing.signers import PrivateKey
from ecard.signing.sm2 import (
    DEFAULT_ID,
    Sm2PrivateKey,
    Sm2PublicKey,
    der_to_raw,
    is_sm2_spki,
    raw_to_der,
)

#: The distinguishing ID for SM2 signatures on certificates and CRLs (GM/T 0015: the default).
X509_SM2_ID: Final = DEFAULT_ID

# DER AlgorithmIdentifiers, exactly as cryptography writes them for the same keys.
_ALG_DER: Final[dict[str, bytes]] = {
    "sm2": bytes.fromhex("300a06082a811ccf55018375"),  # SM2-with-SM3, no parameters
    "ecdsa-sha256": bytes.fromhex("300a06082a8648ce3d040302"),
    "ecdsa-sha384": bytes.fromhex("300a06082a8648ce3d040303"),
    "ed25519": bytes.fromhex("300506032b6570"),
    "rsa-sha256": bytes.fromhex("300d06092a864886f70d01010b0500"),  # PKCS#1 v1.5, NULL params
}

#: Extensions to write: cryptography extension objects with their criticality.
ExtensionSpec = tuple[x509.ExtensionType, bool]

#: One CRL entry: serial number, revocation date and the entry extensions.
CrlEntry = tuple[int, dt.datetime, Sequence[ExtensionSpec]]


def key_identifier(spki: bytes) -> bytes:
    """The RFC 5280 (section 4.2.1.2, method 1) key identifier of a DER SubjectPublicKeyInfo:
    SHA-1 of the ``subjectPublicKey`` BIT STRING contents, as ``cryptography`` computes it.

    :class:`~ecard.errors.BadKeyError` if ``spki`` is not a SubjectPublicKeyInfo.
    """
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


def _algorithm_key(key: PrivateKey) -> str:
    if isinstance(key, Sm2PrivateKey):
        return "sm2"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ecdsa-sha384" if key.curve.key_size > 256 else "ecdsa-sha256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "rsa-sha256"
    raise BadKeyError(f"cannot sign X.509 structures with a {type(key).__name__}")


def _sign(key: PrivateKey, kind: str, data: bytes) -> bytes:
    """The DER-form X.509 signature of ``data`` for the algorithm ``kind``."""
    if isinstance(key, Sm2PrivateKey):
        return raw_to_der(key.sign(data, uid=X509_SM2_ID))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        digest = hashes.SHA384() if kind == "ecdsa-sha384" else hashes.SHA256()
        return key.sign(data, ec.ECDSA(digest))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _time(when: dt.datetime) -> asn1_x509.Time:
    """RFC 5280 time: UTCTime through 2049, GeneralizedTime after; whole seconds, UTC."""
    when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    when = when.replace(microsecond=0)
    if when.year < 2050:
        return asn1_x509.Time({"utc_time": when})
    return asn1_x509.Time({"general_time": when})


def _extensions(specs: Iterable[ExtensionSpec], kind: Any = asn1_x509.Extension) -> list[Any]:
    """``specs`` as asn1crypto extensions of class ``kind`` (certificate, CRL or CRL entry)."""
    result: list[Any] = []
    seen: set[str] = set()
    for value, critical in specs:
        oid = value.oid.dotted_string
        if oid in seen:
            raise BadCertificateError(f"extension {oid} given twice")
        seen.add(oid)
        result.append(
            kind(
                {
                    "extn_id": oid,
                    "critical": bool(critical),
                    "extn_value": asn1_core.ParsableOctetString(value.public_bytes()),
                }
            )
        )
    return result


def _der_sequence(contents: bytes) -> bytes:
    """A DER ``SEQUENCE`` around ``contents``."""
    size = len(contents)
    if size < 0x80:
        return b"\x30" + bytes([size]) + contents
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return b"\x30" + bytes([0x80 | len(length)]) + length + contents


def _name(name: x509.Name) -> asn1_x509.Name:
    return asn1_x509.Name.load(name.public_bytes())


def build_certificate(
    *,
    issuer_key: PrivateKey,
    issuer_name: x509.Name,
    subject_name: x509.Name,
    subject_key: PublicKey,
    serial_number: int,
    not_before: dt.datetime,
    not_after: dt.datetime,
    extensions: Iterable[ExtensionSpec] = (),
) -> x509.Certificate:
    """An X.509 v3 certificate for ``subject_key`` signed by ``issuer_key``.

    Either key may be SM2 or any other registry type; an SM2 issuer signs with SM2-with-SM3.
    Times are written in whole seconds (naive = UTC); ``extensions`` in the order given.
    :class:`~ecard.errors.BadKeyError` / :class:`~ecard.errors.BadCertificateError` if the
    inputs cannot make a certificate.
    """
    kind = _algorithm_key(issuer_key)
    if not 0 < serial_number < 1 << 159:
        raise BadCertificateError("serial number must be positive and at most 20 bytes")
    algorithm = asn1_algos.SignedDigestAlgorithm.load(_ALG_DER[kind])
    exts = _extensions(extensions)
    fields: dict[str, Any] = {
        "version": "v3",
        "serial_number": serial_number,
        "signature": algorithm,
        "issuer": _name(issuer_name),
        "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
        "subject": _name(subject_name),
        "subject_public_key_info": asn1_keys.PublicKeyInfo.load(public_key_der(subject_key)),
    }
    if exts:
        fields["extensions"] = exts
    tbs = asn1_x509.TbsCertificate(fields)
    signature = _sign(issuer_key, kind, tbs.dump())
    cert = asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": asn1_algos.SignedDigestAlgorithm.load(_ALG_DER[kind]),
            "signature_value": signature,
        }
    )
    return x509.load_der_x509_certificate(cert.dump())


def build_crl(
    *,
    issuer_key: PrivateKey,
    issuer_name: x509.Name,
    this_update: dt.datetime,
    next_update: dt.datetime,
    entries: Iterable[CrlEntry] = (),
    extensions: Iterable[ExtensionSpec] = (),
) -> x509.CertificateRevocationList:
    """A v2 CRL signed by ``issuer_key`` (SM2 or any other registry key).

    ``entries`` are ``(serial number, revocation date, entry extensions)``; ``extensions`` the
    CRL extensions (CRL number, authority key identifier...). Times in whole seconds
    (naive = UTC).
    """
    kind = _algorithm_key(issuer_key)
    algorithm = asn1_algos.SignedDigestAlgorithm.load(_ALG_DER[kind])
    # entries are encoded one by one and loaded as a whole: asn1crypto builds a long list of
    # composed objects slowly (about ten times slower than cryptography's CRL builder)
    times: dict[dt.datetime, bytes] = {}
    revoked: list[bytes] = []
    for serial, when, entry_exts in entries:
        if serial <= 0:
            raise BadCertificateError("serial number must be positive")
        encoded = times.get(when)
        if encoded is None:
            encoded = times[when] = _time(when).dump()
        parts = [asn1_core.Integer(serial).dump(), encoded]
        parsed = _extensions(entry_exts, asn1_crl.CRLEntryExtension)
        if parsed:
            parts.append(asn1_crl.CRLEntryExtensions(parsed).dump())
        revoked.append(_der_sequence(b"".join(parts)))
    fields: dict[str, Any] = {
        "version": "v2",
        "signature": algorithm,
        "issuer": _name(issuer_name),
        "this_update": _time(this_update),
        "next_update": _time(next_update),
    }
    if revoked:
        fields["revoked_certificates"] = asn1_crl.RevokedCertificates.load(
            _der_sequence(b"".join(revoked))
        )
    crl_exts = _extensions(extensions, asn1_crl.TBSCertListExtension)
    if crl_exts:
        fields["crl_extensions"] = crl_exts
    tbs = asn1_crl.TbsCertList(fields)
    signature = _sign(issuer_key, kind, tbs.dump())
    crl = asn1_crl.CertificateList(
        {
            "tbs_cert_list": tbs,
            "signature_algorithm": asn1_algos.SignedDigestAlgorithm.load(_ALG_DER[kind]),
            "signature": signature,
        }
    )
    return x509.load_der_x509_crl(crl.dump())


# --- checking ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _sm2_key(spki: bytes) -> Sm2PublicKey | None:
    if not is_sm2_spki(spki):
        return None
    try:
        return Sm2PublicKey.from_der(spki)
    except EcardError:
        return None


def _verify_sm2(signature: bytes, signed_data: bytes, spki: bytes, algorithm: Any) -> None:
    params = algorithm["parameters"]
    if params.native is not None:  # absent or NULL; anything else is not SM2-with-SM3
        raise InvalidSignature("SM2-with-SM3 takes no algorithm parameters")
    key = _sm2_key(bytes(spki))
    if key is None:
        raise InvalidSignature("SM2-with-SM3 signature, but the issuer key is not an SM2 key")
    try:
        raw = der_to_raw(bytes(signature))
    except ValueError:
        raise InvalidSignature("malformed SM2 signature") from None
    if not key.verify(raw, bytes(signed_data), uid=X509_SM2_ID):
        raise InvalidSignature("SM2 signature does not verify")


class X509SignatureValidator(SignatureValidator):
    """``pyhanko-certvalidator``'s signature check with SM2-with-SM3 added.

    SM2-with-SM3 signatures are verified here (SM2 issuer key, DER signature, distinguishing
    ID ``1234567812345678``); an SM2 issuer key under any other algorithm is refused; every
    other algorithm goes to the library's :class:`DefaultSignatureValidator`. Raises
    :class:`cryptography.exceptions.InvalidSignature` for a signature that does not verify, as
    the library expects.
    """

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: asn1_keys.PublicKeyInfo,
        signature_algorithm: asn1_algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        """Check ``signature`` over ``signed_data`` with ``public_key_info``; raise
        :class:`~cryptography.exceptions.InvalidSignature` if it does not verify."""
        spki = bytes(public_key_info.dump())
        if signature_algorithm["algorithm"].dotted == SM2_WITH_SM3_OID:
            if context.prehashed:  # Z_A || message is hashed inside SM2: no pre-hashing
                raise AlgorithmNotSupported("SM2-with-SM3 cannot verify a pre-hashed message")
            _verify_sm2(signature, signed_data, spki, signature_algorithm)
            return
        if is_sm2_spki(spki):
            raise InvalidSignature(
                f"an SM2 key signs only with SM2-with-SM3 ({SM2_WITH_SM3_OID}), not "
                f"{signature_algorithm['algorithm'].dotted}"
            )
        DEFAULT_SIGNATURE_VALIDATOR.validate_signature(
            signature, signed_data, public_key_info, signature_algorithm, context
        )


#: The validator :class:`ecard.verify.paths.PathValidator` gives ``pyhanko-certvalidator``.
SIGNATURE_VALIDATOR: Final = X509SignatureValidator()


def _signed_parts(signed: x509.Certificate | x509.CertificateRevocationList) -> tuple[Any, ...]:
    der = signed.public_bytes(serialization.Encoding.DER)
    if isinstance(signed, x509.Certificate):
        cert = asn1_x509.Certificate.load(der)
        return (
            cert["signature_value"].native,
            cert["tbs_certificate"].dump(),
            cert["signature_algorithm"],
        )
    crl = asn1_crl.CertificateList.load(der)
    return crl["signature"].native, crl["tbs_cert_list"].dump(), crl["signature_algorithm"]


def is_signed_by(
    signed: x509.Certificate | x509.CertificateRevocationList, issuer: x509.Certificate
) -> bool:
    """Whether ``signed`` (a certificate or a CRL) carries a valid signature by the key of the
    certificate ``issuer``, for every algorithm ecard knows (SM2-with-SM3 included).

    Only the signature is checked, not names or validity. ``False`` also when the signature
    cannot be checked at all (malformed structures, a key or algorithm no one here supports).
    """
    try:
        signature, tbs, algorithm = _signed_parts(signed)
        spki = certificate_spki(issuer)
        SIGNATURE_VALIDATOR.validate_signature(
            signature, tbs, asn1_keys.PublicKeyInfo.load(spki), algorithm
        )
    except Exception:  # InvalidSignature; unsupported algorithm or key; malformed input
        return False
    return True


__all__ = [
    "SIGNATURE_VALIDATOR",
    "X509_SM2_ID",
    "CrlEntry",
    "ExtensionSpec",
    "X509SignatureValidator",
    "build_certificate",
    "build_crl",
    "is_signed_by",
    "key_identifier",
    "public_key_identifier",
]
