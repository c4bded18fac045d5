"""Device keys on the holder's side: the :class:`DeviceSigner` protocol and a software key kept
in a password-encrypted file.

A device key on a PKCS#11 token (a stand-in for a phone's secure element, SoftHSM2 in the
tests) is :func:`token_device_key`: an :class:`ecard.crypto.pkcs11.Pkcs11Signer`, which is a
:class:`DeviceSigner`; the private key is generated on the token and cannot leave it.

A device key never leaves the device: the issuer only ever sees its public half (in the
enrolment request) and a signature over its nonce. :class:`SoftwareDeviceKey` keeps the private
key (P-256, Ed25519 or SM2) in memory and on disk as PKCS#8 PEM encrypted under the holder's
passphrase (P-256 and Ed25519: the best encryption ``cryptography`` offers, AES-256-CBC with a
scrypt/PBKDF2 key; SM2, through libcrypto: PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC); a
secure element or token implements :class:`DeviceSigner` instead. Nothing here prints or logs
key material. SM2 keys come from the neutral :mod:`ecard.crypto.sm2.private`, never from the
issuing side.

>>> key = SoftwareDeviceKey.generate("ES256")
>>> again = SoftwareDeviceKey.from_pem(key.private_pem(b"correct horse"), b"correct horse")
>>> again.device_key == key.device_key
True
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ecard._files import load_file, write_atomic
from ecard.crypto.algorithms import EDDSA, ES256, SM2, Algorithm, PublicKey, get_algorithm
from ecard.crypto.sm2.private import Sm2PrivateKey
from ecard.errors import BadKeyError
from ecard.formats.cosekey import DeviceKey

#: Largest key file read.
MAX_KEY_FILE = 64 * 1024

_SoftwareKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | Sm2PrivateKey


@runtime_checkable
class DeviceSigner(Protocol):
    """What signs on the holder's device: one key under one algorithm."""

    @property
    def algorithm(self) -> Algorithm:
        """The algorithm every signature is made with."""
        ...

    def public_key(self) -> PublicKey:
        """The public half of the device key."""
        ...

    def sign(self, data: bytes) -> bytes:
        """The COSE-form signature over ``data``."""
        ...


class SoftwareDeviceKey:
    """A P-256 (ES256), Ed25519 (EdDSA) or SM2 device key held in memory."""

    def __init__(self, private_key: _SoftwareKey) -> None:
        alg: Algorithm
        if isinstance(private_key, ec.EllipticCurvePrivateKey):
            alg = ES256
        elif isinstance(private_key, ed25519.Ed25519PrivateKey):
            alg = EDDSA
        elif isinstance(private_key, Sm2PrivateKey):
            alg = SM2
        else:
            raise BadKeyError("a software device key is P-256, Ed25519 or SM2")
        alg.require_key(private_key)
        self._key = private_key
        self._alg = alg
        self.device_key = DeviceKey.from_public_key(private_key.public_key())

    @classmethod
    def generate(cls, algorithm: str = "ES256") -> SoftwareDeviceKey:
        """A new random key for ``algorithm`` (``"ES256"``, ``"EdDSA"`` or ``"SM2"``)."""
        alg = get_algorithm(algorithm)
        if alg is ES256:
            return cls(ec.generate_private_key(ec.SECP256R1()))
        if alg is EDDSA:
            return cls(ed25519.Ed25519PrivateKey.generate())
        if alg is SM2:
            return cls(Sm2PrivateKey.generate())
        raise BadKeyError(f"software device keys are ES256, EdDSA or SM2, not {alg.name}")

    @classmethod
    def from_pem(cls, data: bytes, password: bytes) -> SoftwareDeviceKey:
        """Load an encrypted PKCS#8 PEM; :class:`BadKeyError` for a wrong password or key."""
        data, password = bytes(data), bytes(password)
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except UnsupportedAlgorithm:  # cryptography knows no SM2 key: libcrypto reads it
            return cls(_load_sm2(data, password))
        except (ValueError, TypeError):
            raise BadKeyError("cannot decrypt the device key (wrong passphrase or file)") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
            raise BadKeyError("the device key file holds another key type")
        if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name != "secp256r1":
            raise BadKeyError("the device key file holds another key type")
        return cls(key)

    @classmethod
    def load(cls, path: str | os.PathLike[str], password: bytes) -> SoftwareDeviceKey:
        """Load the key file at ``path``."""
        return load_file(
            path, BadKeyError, lambda data: cls.from_pem(data, password), max_size=MAX_KEY_FILE
        )

    def private_pem(self, password: bytes) -> bytes:
        """The key as PKCS#8 PEM encrypted under ``password`` (never unencrypted)."""
        if not password:
            raise BadKeyError("a device key file needs a passphrase")
        if isinstance(self._key, Sm2PrivateKey):
            return self._key.private_pem(bytes(password))
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(bytes(password)),
        )

    def save(self, path: str | os.PathLike[str], password: bytes) -> None:
        """Write the encrypted key file atomically, readable by its owner only."""
        write_atomic(path, self.private_pem(password), private=True, error=BadKeyError)

    @property
    def algorithm(self) -> Algorithm:
        """ES256, EdDSA or SM2."""
        return self._alg

    def public_key(self) -> PublicKey:
        """The public half."""
        return self._key.public_key()

    def sign(self, data: bytes) -> bytes:
        """The COSE-form signature over ``data``."""
        return self._alg.sign(self._key, bytes(data))

    def __repr__(self) -> str:
        return f"SoftwareDeviceKey({self._alg.name}, {self.device_key.thumbprint[:8].hex()})"


def _load_sm2(data: bytes, password: bytes) -> Sm2PrivateKey:
    """An SM2 device key from its encrypted PEM; a key file of any other type is refused."""
    if b"ENCRYPTED PRIVATE KEY" not in data:
        raise BadKeyError("the device key file is not encrypted: refused")
    try:
        key = Sm2PrivateKey.from_pem(data, password=password)
    except BadKeyError:
        raise BadKeyError("cannot decrypt the device key (wrong passphrase or file)") from None
    if not SM2.accepts_key(key.public_key()):  # pragma: no cover - libcrypto read an SM2 key
        raise BadKeyError("the device key file holds another key type")
    return key


def token_device_key(
    module: str | os.PathLike[str],
    *,
    token_label: str,
    pin: str | bytes,
    key_label: str,
    algorithm: str = "ES256",
    generate: bool = False,
) -> DeviceSigner:
    """The device key ``key_label`` on a PKCS#11 token (generated there first with
    ``generate=True``): ES256 or EdDSA, the device algorithms a token offers.
    :class:`BadKeyError` for anything else or whatever the token refuses."""
    from ecard.crypto.pkcs11 import Pkcs11Signer, generate_key

    alg = get_algorithm(algorithm)
    if alg not in (ES256, EDDSA):
        raise BadKeyError(f"token device keys are ES256 or EdDSA, not {alg.name}")
    if generate:
        return generate_key(
            module, token_label=token_label, pin=pin, key_label=key_label, algorithm=alg
        )
    return Pkcs11Signer.open(
        module, token_label=token_label, pin=pin, key_label=key_label, algorithm=alg
    )


__all__ = ["MAX_KEY_FILE", "DeviceSigner", "SoftwareDeviceKey", "token_device_key"]
