"""Signers: whatever holds the private key and produces COSE-form signatures.

:class:`Signer` is the protocol the issuer (and later trust-list, revocation-list and PDF
signing) depends on. :class:`KeySigner` keeps a private key in memory; an HSM-backed signer
(PKCS#11) implements the same protocol so the key never leaves the token.

No signer's ``repr`` or error message contains private key material.
"""

from __future__ import annotations

import os
from typing import Any, Protocol, runtime_checkable

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ecard._files import load_file
from ecard.crypto.algorithms import (
    SM2_CURVE_OID,
    Algorithm,
    PublicKey,
    algorithm_for_key,
    certificate_public_key,
    get_algorithm,
    public_key_der,
    public_key_fingerprint,
)
from ecard.errors import BadKeyError
from ecard.signing.sm2 import Sm2PrivateKey

PrivateKey = (
    ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | Sm2PrivateKey
)


@runtime_checkable
class Signer(Protocol):
    """Produces COSE-form signatures with one key under one algorithm."""

    @property
    def algorithm(self) -> Algorithm:
        """The algorithm every signature is made with."""
        ...

    def public_key(self) -> PublicKey:
        """The public half of the signing key."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` (the whole to-be-signed bytes; the signer hashes them) and return the
        COSE-form signature."""
        ...


def require_certified_key(signer: Signer, certificate: x509.Certificate, what: str) -> None:
    """Check that ``signer``'s key is the one ``certificate`` certifies and that the signer's
    algorithm fits it: :class:`BadKeyError` naming ``what`` (e.g. ``"signing key"``) if not,
    :class:`~ecard.errors.BadCertificateError` if the certificate's key cannot be loaded."""
    cert_key = certificate_public_key(certificate)
    if public_key_der(cert_key) != public_key_der(signer.public_key()):
        raise BadKeyError(f"the {what} does not belong to the certificate")
    signer.algorithm.require_key(cert_key)


def load_private_key(data: bytes, *, password: bytes | None = None) -> PrivateKey:
    """Load a PEM private key of a supported type; :class:`BadKeyError` if unusable.

    SM2 keys (which ``cryptography`` cannot load) are read by
    :class:`~ecard.signing.sm2.Sm2PrivateKey`. The error message never echoes the key material.
    """
    try:
        key: Any = serialization.load_pem_private_key(data, password=password)
    except UnsupportedAlgorithm as exc:
        if SM2_CURVE_OID not in str(exc):  # cryptography names the curve it cannot load
            raise BadKeyError(f"cannot load private key ({type(exc).__name__})") from None
        return Sm2PrivateKey.from_pem(data, password=password)
    except (ValueError, TypeError) as exc:
        raise BadKeyError(f"cannot load private key ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # cryptography raises UnsupportedAlgorithm for unknown key types
        raise BadKeyError(f"cannot load private key ({type(exc).__name__})") from None
    if not isinstance(key, PrivateKey):
        raise BadKeyError(f"unsupported private key type {type(key).__name__}")
    return key


def load_private_key_file(
    path: str | os.PathLike[str], *, password: bytes | None = None
) -> PrivateKey:
    """Read and :func:`load_private_key` a PEM file."""
    return load_file(
        path,
        BadKeyError,
        lambda data: load_private_key(data, password=password),
        max_size=1024 * 1024,
    )


class KeySigner:
    """A :class:`Signer` over an in-memory private key.

    ``algorithm`` defaults to the natural one for the key (P-256 -> ES256, P-384 -> ES384,
    Ed25519 -> EdDSA, RSA -> PS256, SM2 -> SM2); an explicit one must fit the key or
    :class:`~ecard.errors.AlgKeyMismatchError` is raised.

    >>> from cryptography.hazmat.primitives.asymmetric import ec
    >>> signer = KeySigner(ec.generate_private_key(ec.SECP256R1()))
    >>> signer.algorithm.name, len(signer.sign(b"data"))
    ('ES256', 64)
    """

    __slots__ = ("_algorithm", "_key", "_public", "_sign")

    def __init__(
        self, private_key: PrivateKey, algorithm: Algorithm | str | int | None = None
    ) -> None:
        if not isinstance(private_key, PrivateKey):
            raise BadKeyError(f"unsupported private key type {type(private_key).__name__}")
        alg = algorithm_for_key(private_key) if algorithm is None else get_algorithm(algorithm)
        alg.require_key(private_key)
        self._key = private_key
        self._algorithm = alg
        self._sign = alg.bind_signer(private_key)  # the key checked once, not per signature
        self._public: PublicKey = private_key.public_key()

    @classmethod
    def from_pem(
        cls,
        data: bytes,
        *,
        password: bytes | None = None,
        algorithm: Algorithm | str | int | None = None,
    ) -> KeySigner:
        """Load a PEM (PKCS#8 or traditional) private key; :class:`BadKeyError` if unusable."""
        return cls(load_private_key(data, password=password), algorithm)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        password: bytes | None = None,
        algorithm: Algorithm | str | int | None = None,
    ) -> KeySigner:
        """Read a PEM private key from ``path``; :class:`BadKeyError` if unusable."""
        return cls(load_private_key_file(path, password=password), algorithm)

    @property
    def algorithm(self) -> Algorithm:
        """The algorithm every signature is made with."""
        return self._algorithm

    def public_key(self) -> PublicKey:
        """The public half of the key."""
        return self._public

    def sign(self, data: bytes) -> bytes:
        """Sign ``data``; returns the COSE-form signature."""
        return self._sign(data)

    def __repr__(self) -> str:
        return (
            f"KeySigner(algorithm={self._algorithm.name}, "
            f"public_key_sha256={public_key_fingerprint(self._public)})"
        )

    def __reduce__(self) -> Any:
        raise TypeError("KeySigner cannot be pickled: it holds a private key")


__all__ = [
    "KeySigner",
    "PrivateKey",
    "Signer",
    "load_private_key",
    "load_private_key_file",
    "public_key_fingerprint",
    "require_certified_key",
]
