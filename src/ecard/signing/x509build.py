"""Building X.509 certificates and CRLs signed with SM2-with-SM3 (or carrying SM2 keys).

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

Checking signatures on certificates and CRLs is :mod:`ecard.crypto.x509sig`.

>>> from ecard.signing.pki import create_root_ca, create_document_signer
>>> root = create_root_ca("SM2 Root", algorithm="SM2")
>>> signer = create_document_signer(root, "SM2 Signer", algorithm="SM2")
>>> signer.certificate.signature_algorithm_oid.dotted_string
'1.2.156.10197.1.501'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Final

from asn1crypto import algos as asn1_algos  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import core as asn1_core  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from ecard._time import utc
from ecard.crypto.algorithms import PublicKey, public_key_der
from ecard.crypto.sm2 import raw_to_der
from ecard.crypto.x509sig import X509_SM2_ID
from ecard.errors import BadCertificateError, BadKeyError
from ecard.signing.signers import PrivateKey
from ecard.signing.sm2 import Sm2PrivateKey

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


def signature_hash(
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey,
) -> hashes.SHA256 | hashes.SHA384 | None:
    """The hash ``cryptography``'s certificate and CRL builders sign with for ``key``: SHA-384
    for EC keys above 256 bits, none for Ed25519, else SHA-256 (the same choice
    :func:`build_certificate` and :func:`build_crl` make for their algorithm identifiers)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


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
    when = utc(when, "certificate time").replace(microsecond=0)
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


__all__ = [
    "X509_SM2_ID",
    "CrlEntry",
    "ExtensionSpec",
    "build_certificate",
    "build_crl",
    "signature_hash",
]
