"""The algorithm registry: COSE algorithm id <-> hash, key type and raw signature size.

Every place that signs, verifies or loads a public key goes through this registry, so a new
family plugs in here and nowhere else. SM2 with SM3 (GB/T 32918, GB/T 32905) is registered under
the private-use COSE id :data:`SM2_COSE_ID` (no id is registered for it at IANA); its public keys
live in :mod:`ecard.crypto.sm2` and its private keys in :mod:`ecard.crypto.sm2.private` (never
imported by the verifier), over the system
libcrypto, since ``cryptography`` has no SM2.

Signatures are in COSE form: raw ``r || s`` (fixed size, left-padded) for ECDSA, the 64-byte
signature for Ed25519, and the modulus-sized signature for RSASSA-PSS (RFC 8230).

>>> from ecard.crypto.algorithms import get_algorithm
>>> alg = get_algorithm("ES256")
>>> (alg.cose_id, alg.hash_name, alg.signature_size)
(-7, 'SHA-256', 64)
"""

from __future__ import annotations

import abc
import hashlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ecard.crypto.sm2.curve import DEFAULT_ID
from ecard.errors import (
    AlgKeyMismatchError,
    BadCertificateError,
    EcardError,
    UnsupportedAlgorithmError,
)

if TYPE_CHECKING:
    from typing import TypeAlias

    from ecard.crypto.sm2.keys import Sm2PublicKey

    #: Public key types the registry can verify with.
    PublicKey: TypeAlias = (
        ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey | Sm2PublicKey
    )
else:
    #: Public key types the registry can verify with: at run time only the annotation's name
    #: (:class:`~ecard.crypto.sm2.Sm2PublicKey` is not imported until an SM2 key is loaded, so
    #: an ``isinstance`` test against every type belongs in :func:`is_public_key`).
    PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey

#: The public key types ``cryptography`` loads (every :data:`PublicKey` but SM2's).
_CRYPTOGRAPHY_PUBLIC_KEYS: Final = (
    ec.EllipticCurvePublicKey,
    ed25519.Ed25519PublicKey,
    rsa.RSAPublicKey,
)

#: The module of the SM2 key classes, imported only when an SM2 key is loaded or made (it loads
#: ctypes and libcrypto): until then no object can be an SM2 key, and the checks below say so
#: without importing it.
_SM2_KEYS: Final = "ecard.crypto.sm2.keys"


def _is_sm2_key(key: object, public_only: bool = False) -> bool:
    """Whether ``key`` is an SM2 key (:class:`~ecard.crypto.sm2.Sm2Key`, or only
    :class:`~ecard.crypto.sm2.Sm2PublicKey`), without importing the SM2 backend."""
    keys = sys.modules.get(_SM2_KEYS)
    if keys is None:
        return False
    return isinstance(key, keys.Sm2PublicKey if public_only else keys.Sm2Key)


def is_public_key(key: object) -> bool:
    """Whether ``key`` is of one of the :data:`PublicKey` types (SM2's included)."""
    return isinstance(key, _CRYPTOGRAPHY_PUBLIC_KEYS) or _is_sm2_key(key, public_only=True)


#: The private-use COSE algorithm id ecard gives SM2 with SM3 and the default distinguishing ID
#: ``1234567812345678`` (RFC 9053 reserves ids below -65536 for private use).
SM2_COSE_ID: Final = -65538

#: Object identifiers of the SM2 curve (sm2p256v1) and of the X.509 signature algorithm
#: SM2-with-SM3 (GM/T 0006).
SM2_CURVE_OID: Final = "1.2.156.10197.1.301"
SM2_WITH_SM3_OID: Final = "1.2.156.10197.1.501"

#: A verification function bound to one public key: ``(signature, data) -> bool``.
BoundVerifier = Callable[[bytes, bytes], bool]

#: Smallest RSA modulus accepted for PS256.
MIN_RSA_BITS: Final = 2048


class Algorithm(abc.ABC):
    """One COSE signature algorithm: identifiers, the key it needs, sign and verify.

    ``sign`` takes a private key object of the matching type (the in-memory signer passes one;
    an HSM signer implements its own signing and only uses :meth:`from_der_signature`-style
    helpers). ``verify`` takes a public key and returns ``False`` for a wrong signature; it
    raises :class:`~ecard.errors.AlgKeyMismatchError` if the key does not fit the algorithm.
    """

    #: IANA name, e.g. ``"ES256"``.
    name: str
    #: COSE algorithm identifier (RFC 9053 / IANA COSE Algorithms registry).
    cose_id: int
    #: Hash used, by its usual name.
    hash_name: str
    #: The key this algorithm needs, for people (``"EC P-256"``).
    key_type: str
    #: Size in bytes of a COSE signature, or ``None`` when it depends on the key (RSA).
    signature_size: int | None
    #: What the algorithm is, for reports (``"ECDSA P-256 with SHA-256"``).
    description: str

    @abc.abstractmethod
    def accepts_key(self, key: object) -> bool:
        """True if ``key`` (public or private) has the type and size this algorithm needs."""

    def verify(self, public_key: PublicKey, signature: bytes, data: bytes) -> bool:
        """Check a COSE-form ``signature`` over ``data``; ``False`` if it does not verify."""
        return self.bind(public_key)(signature, data)

    @abc.abstractmethod
    def bind(self, public_key: PublicKey) -> BoundVerifier:
        """Check once that ``public_key`` fits (else :class:`AlgKeyMismatchError`) and return a
        function ``(signature, data) -> bool`` verifying with it.

        Verifiers bind each trusted key when it is loaded, so the per-scan path does no type
        checks.
        """

    @abc.abstractmethod
    def sign(self, private_key: Any, data: bytes) -> bytes:
        """Sign ``data`` with an in-memory private key; return the COSE-form signature."""

    def bind_signer(self, private_key: Any) -> Callable[[bytes], bytes]:
        """``sign(data)`` for an in-memory ``private_key``: the same signatures as
        :meth:`sign`, with the key checked once here rather than at every call
        (:class:`AlgKeyMismatchError` if it does not fit)."""
        self.require_key(private_key)
        sign = self.sign
        return lambda data: sign(private_key, data)

    def unavailable(self) -> str | None:
        """``None`` if this platform can verify signatures of this algorithm, else why not and
        how to fix it (SM2 needs libcrypto with SM2 or the ``sm`` extra)."""
        return None

    def require_key(self, key: object) -> None:
        """Raise :class:`AlgKeyMismatchError` unless :meth:`accepts_key`."""
        if not self.accepts_key(key):
            raise AlgKeyMismatchError(
                f"{self.name} needs a key of type {self.key_type}, not {_describe(key)}"
            )

    def __repr__(self) -> str:
        return f"<Algorithm {self.name} ({self.cose_id})>"


def _describe(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"an EC {key.curve.name} key"
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return f"an RSA-{key.key_size} key"
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "an Ed25519 key"
    if _is_sm2_key(key):
        return "an SM2 key"
    return f"a {type(key).__name__}"


_NIST_NAMES: Final = {"secp256r1": "P-256", "secp384r1": "P-384"}


class EcdsaAlgorithm(Algorithm):
    """ECDSA on a NIST curve with raw ``r || s`` signatures (RFC 9053 §2.1)."""

    def __init__(
        self, name: str, cose_id: int, curve: ec.EllipticCurve, hash_alg: hashes.HashAlgorithm
    ) -> None:
        self.name = name
        self.cose_id = cose_id
        self.curve = curve
        self.hash_name = hash_alg.name.upper().replace("SHA", "SHA-")
        self.key_type = f"EC {curve.name}"
        self.description = f"ECDSA {_NIST_NAMES.get(curve.name, curve.name)} with {self.hash_name}"
        self._coord = (curve.key_size + 7) // 8
        self.signature_size = 2 * self._coord
        self._ecdsa = ec.ECDSA(hash_alg)

    def accepts_key(self, key: object) -> bool:
        return (
            isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey)
            and key.curve.name == self.curve.name
        )

    def bind(self, public_key: PublicKey) -> BoundVerifier:
        self.require_key(public_key)
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        size, n, ecdsa, key_verify = (
            self.signature_size,
            self._coord,
            self._ecdsa,
            public_key.verify,
        )
        from_bytes = int.from_bytes

        def verify(signature: bytes, data: bytes) -> bool:
            if len(signature) != size:
                return False
            r, s = from_bytes(signature[:n], "big"), from_bytes(signature[n:], "big")
            try:
                key_verify(encode_dss_signature(r, s), data, ecdsa)
            except InvalidSignature:
                return False
            return True

        return verify

    def sign(self, private_key: Any, data: bytes) -> bytes:
        self.require_key(private_key)
        return self.from_der_signature(private_key.sign(data, self._ecdsa))

    def bind_signer(self, private_key: Any) -> Callable[[bytes], bytes]:
        self.require_key(private_key)
        key_sign, ecdsa, n = private_key.sign, self._ecdsa, self._coord

        def sign(data: bytes) -> bytes:
            r, s = decode_dss_signature(key_sign(data, ecdsa))
            return r.to_bytes(n, "big") + s.to_bytes(n, "big")

        return sign

    def from_der_signature(self, der: bytes) -> bytes:
        """Convert a DER ECDSA signature (what OpenSSL and HSMs emit) to raw ``r || s``."""
        r, s = decode_dss_signature(der)
        n = self._coord
        return r.to_bytes(n, "big") + s.to_bytes(n, "big")


class EdDsaAlgorithm(Algorithm):
    """EdDSA with Ed25519 (RFC 9053 §2.2; COSE id -8)."""

    name = "EdDSA"
    cose_id = -8
    hash_name = "SHA-512"
    key_type = "Ed25519"
    signature_size = 64
    description = "EdDSA with Ed25519"

    def accepts_key(self, key: object) -> bool:
        return isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey)

    def bind(self, public_key: PublicKey) -> BoundVerifier:
        self.require_key(public_key)
        assert isinstance(public_key, ed25519.Ed25519PublicKey)
        key_verify = public_key.verify

        def verify(signature: bytes, data: bytes) -> bool:
            if len(signature) != 64:
                return False
            try:
                key_verify(signature, data)
            except InvalidSignature:
                return False
            return True

        return verify

    def sign(self, private_key: Any, data: bytes) -> bytes:
        self.require_key(private_key)
        signature: bytes = private_key.sign(data)
        return signature


class RsaPssAlgorithm(Algorithm):
    """RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 8230; COSE id -37)."""

    name = "PS256"
    cose_id = -37
    hash_name = "SHA-256"
    key_type = f"RSA (at least {MIN_RSA_BITS} bits)"
    signature_size = None
    description = "RSASSA-PSS with SHA-256"

    def __init__(self) -> None:
        self._hash = hashes.SHA256()
        self._pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)

    def accepts_key(self, key: object) -> bool:
        return (
            isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey) and key.key_size >= MIN_RSA_BITS
        )

    def bind(self, public_key: PublicKey) -> BoundVerifier:
        self.require_key(public_key)
        assert isinstance(public_key, rsa.RSAPublicKey)
        size, pss, hash_alg, key_verify = (
            (public_key.key_size + 7) // 8,
            self._pss,
            self._hash,
            public_key.verify,
        )

        def verify(signature: bytes, data: bytes) -> bool:
            if len(signature) != size:
                return False
            try:
                key_verify(signature, data, pss, hash_alg)
            except InvalidSignature:
                return False
            return True

        return verify

    def sign(self, private_key: Any, data: bytes) -> bytes:
        self.require_key(private_key)
        signature: bytes = private_key.sign(data, self._pss, self._hash)
        return signature


class Sm2Algorithm(Algorithm):
    """SM2 signatures with SM3 (GB/T 32918.2, GB/T 32905) on the curve sm2p256v1.

    COSE has no registered id for SM2, so ecard uses the private-use id :data:`SM2_COSE_ID`.
    The signature is raw ``r || s`` (64 bytes, each half left-padded), as for ECDSA in COSE;
    the message hashed is ``Z_A || data`` with ``Z_A`` from the fixed distinguishing ID
    ``1234567812345678`` (GB/T 35276, the value every SM2 stack defaults to).
    """

    name = "SM2"
    cose_id = SM2_COSE_ID
    hash_name = "SM3"
    key_type = "SM2 (sm2p256v1)"
    signature_size = 64
    description = "SM2 with SM3 (GB/T 32918, GB/T 32905)"

    def __init__(self, uid: bytes = DEFAULT_ID) -> None:
        self.uid = uid

    def accepts_key(self, key: object) -> bool:
        return _is_sm2_key(key)

    def unavailable(self) -> str | None:
        from ecard.crypto.sm2.backend import sm2_verify_unavailable

        return sm2_verify_unavailable()

    def bind(self, public_key: PublicKey) -> BoundVerifier:
        self.require_key(public_key)
        from ecard.crypto.sm2.keys import Sm2PublicKey

        assert isinstance(public_key, Sm2PublicKey)
        key_verify, uid = public_key.verify, self.uid

        def verify(signature: bytes, data: bytes) -> bool:
            if len(signature) != 64:
                return False
            return key_verify(signature, data, uid=uid)

        return verify

    def sign(self, private_key: Any, data: bytes) -> bytes:
        self.require_key(private_key)
        signature: bytes = private_key.sign(data, uid=self.uid)
        return signature


ES256: Final[Algorithm] = EcdsaAlgorithm("ES256", -7, ec.SECP256R1(), hashes.SHA256())
ES384: Final[Algorithm] = EcdsaAlgorithm("ES384", -35, ec.SECP384R1(), hashes.SHA384())
EDDSA: Final[Algorithm] = EdDsaAlgorithm()
PS256: Final[Algorithm] = RsaPssAlgorithm()
SM2: Final[Algorithm] = Sm2Algorithm()

#: Every algorithm ecard knows, by COSE id. The default for issuing is ES256.
ALGORITHMS: Final[dict[int, Algorithm]] = {a.cose_id: a for a in (ES256, ES384, EDDSA, PS256, SM2)}
_BY_NAME: Final[dict[str, Algorithm]] = {a.name.upper(): a for a in ALGORITHMS.values()}
DEFAULT_ALGORITHM: Final[Algorithm] = ES256


def get_algorithm(alg: int | str | Algorithm) -> Algorithm:
    """Look an algorithm up by COSE id (``-7``), name (``"ES256"``, case-insensitive) or object.

    Raises :class:`~ecard.errors.UnsupportedAlgorithmError` if it is not in the registry.
    """
    if isinstance(alg, Algorithm):
        return alg
    found: Algorithm | None = None
    if isinstance(alg, int) and not isinstance(alg, bool):
        found = ALGORITHMS.get(alg)
    elif isinstance(alg, str):
        found = _BY_NAME.get(alg.strip().upper())
    if found is None:
        known = ", ".join(sorted(_BY_NAME))
        raise UnsupportedAlgorithmError(f"algorithm {alg!r} is not supported (known: {known})")
    return found


def describe_algorithm(alg: int | str) -> str:
    """For reports: ``"SM2: SM2 with SM3 (GB/T 32918, GB/T 32905)"`` for a registry name or COSE
    id; anything unknown as given (``"-9"``).

    >>> describe_algorithm(-7)
    'ES256: ECDSA P-256 with SHA-256'
    """
    try:
        found = get_algorithm(alg)
    except UnsupportedAlgorithmError:
        return str(alg)
    return f"{found.name}: {found.description}"


def algorithm_for_key(key: object) -> Algorithm:
    """The default algorithm for a public or private key (P-256 -> ES256, Ed25519 -> EdDSA...)."""
    for alg in ALGORITHMS.values():
        if alg.accepts_key(key):
            return alg
    raise AlgKeyMismatchError(f"no supported algorithm for {_describe(key)}")


def public_key_der(key: PublicKey) -> bytes:
    """The DER SubjectPublicKeyInfo of any public key the registry knows."""
    if not isinstance(key, _CRYPTOGRAPHY_PUBLIC_KEYS):
        return key.der()
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_fingerprint(key: PublicKey) -> str:
    """Short SHA-256 fingerprint (hex, 16 chars) of a public key's SubjectPublicKeyInfo DER."""
    return hashlib.sha256(public_key_der(key)).hexdigest()[:16]


def certificate_spki(cert: x509.Certificate) -> bytes:
    """The DER SubjectPublicKeyInfo of ``cert``, read without loading the key (so it works for
    key types ``cryptography`` cannot load, such as SM2)."""
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]

    try:
        return bytes(
            asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))[
                "tbs_certificate"
            ]["subject_public_key_info"].dump()
        )
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError...
        raise BadCertificateError(f"certificate public key cannot be read: {exc}") from None


def certificate_public_key(cert: x509.Certificate) -> PublicKey:
    """Load the public key of ``cert`` through the registry.

    SM2 keys, which ``cryptography`` cannot load, are read from the certificate's
    SubjectPublicKeyInfo by :class:`~ecard.crypto.sm2.Sm2PublicKey`. Raises
    :class:`~ecard.errors.BadCertificateError` if the key type is one no registered algorithm
    can use, or the key cannot be loaded, and :class:`~ecard.errors.UnsupportedAlgorithmError`
    if it is an SM2 key this platform cannot verify with (:meth:`Algorithm.unavailable`).
    """
    try:
        key = cert.public_key()
    except ValueError as exc:
        raise BadCertificateError(f"certificate public key cannot be loaded: {exc}") from None
    except UnsupportedAlgorithm as exc:
        # cryptography cannot load SM2 keys: read those from the SubjectPublicKeyInfo
        from ecard.crypto.sm2.der import is_sm2_spki
        from ecard.crypto.sm2.keys import Sm2PublicKey

        spki = certificate_spki(cert)
        if not is_sm2_spki(spki):
            raise BadCertificateError(f"certificate public key cannot be loaded: {exc}") from None
        reason = SM2.unavailable()
        if reason is not None:
            raise UnsupportedAlgorithmError(f"the certificate's key is SM2: {reason}") from None
        try:
            return Sm2PublicKey.from_der(spki)
        except EcardError as err:
            raise BadCertificateError(
                f"certificate SM2 public key cannot be loaded: {err.detail}"
            ) from None
    if not isinstance(key, _CRYPTOGRAPHY_PUBLIC_KEYS) or not any(
        a.accepts_key(key) for a in ALGORITHMS.values()
    ):
        raise BadCertificateError(f"certificate holds {_describe(key)}, which no algorithm uses")
    return key


__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "EDDSA",
    "ES256",
    "ES384",
    "MIN_RSA_BITS",
    "PS256",
    "SM2",
    "SM2_COSE_ID",
    "SM2_CURVE_OID",
    "SM2_WITH_SM3_OID",
    "Algorithm",
    "BoundVerifier",
    "EcdsaAlgorithm",
    "EdDsaAlgorithm",
    "PublicKey",
    "RsaPssAlgorithm",
    "Sm2Algorithm",
    "algorithm_for_key",
    "certificate_public_key",
    "certificate_spki",
    "describe_algorithm",
    "get_algorithm",
    "is_public_key",
    "public_key_der",
    "public_key_fingerprint",
]
