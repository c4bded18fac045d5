"""Where a signing key is, as a small value that can be stored, sent to a worker and opened there.

A key source is a frozen dataclass describing a key without holding it: :class:`KeyFile` (a PEM
private key file, and the *name* of the environment variable holding its password, if any) or
:class:`Pkcs11Key` (a PKCS#11 library, token label, key label, and the *name* of the
environment variable holding the user PIN). Neither holds key material, a password or a PIN, so
both can be pickled, logged and compared; :meth:`~KeyFile.open` reads the environment and the
key at the moment the signer is needed and returns a :class:`~ecard.signing.signers.Signer`.

:func:`key_source` turns the ``ecard`` command's key options into a source, with the rules the
command states (``--key`` or ``--pkcs11-module``, not both; a module needs token, key label and
PIN variable). Every problem is a :class:`~ecard.errors.BadInputError` (options, unset
variables) or the :class:`~ecard.errors.BadKeyError` of the key itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeAlias

from ecard.crypto.algorithms import get_algorithm
from ecard.errors import BadInputError
from ecard.signing.signers import KeySigner, Signer


def environment_value(name: str) -> str:
    """The value of the environment variable ``name``; :class:`BadInputError` if unset."""
    value = os.environ.get(name)
    if value is None:
        raise BadInputError(f"environment variable {name} is not set")
    return value


def password_from_env(name: str | None) -> bytes | None:
    """The key password in the environment variable ``name`` (``None`` when no name is given)."""
    return None if not name else environment_value(name).encode()


def _algorithm_name(algorithm: str | None) -> str | None:
    return None if algorithm is None else get_algorithm(algorithm).name


@dataclass(frozen=True)
class KeyFile:
    """A PEM private key file, optionally encrypted with the password in ``password_env``."""

    path: str
    password_env: str | None = None
    #: the COSE algorithm name to sign with; ``None``: the key's natural one
    algorithm: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", os.fspath(self.path))
        object.__setattr__(self, "algorithm", _algorithm_name(self.algorithm))

    def open(self) -> Signer:
        """Read the password variable and the key file; a :class:`KeySigner` over the key."""
        password = password_from_env(self.password_env)
        return KeySigner.from_file(self.path, password=password, algorithm=self.algorithm)


@dataclass(frozen=True)
class Pkcs11Key:
    """The key labelled ``key_label`` on the token ``token`` of the PKCS#11 library ``module``,
    opened with the user PIN found in the environment variable ``pin_env``."""

    module: str
    token: str
    key_label: str
    pin_env: str
    #: the COSE algorithm name to sign with; ``None``: the key's natural one
    algorithm: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "module", os.fspath(self.module))
        object.__setattr__(self, "algorithm", _algorithm_name(self.algorithm))

    def open(self) -> Signer:
        """Read the PIN variable and open the key on the token (needs the extra ``hsm``)."""
        pin = environment_value(self.pin_env)
        from ecard.signing.pkcs11 import Pkcs11Signer

        return Pkcs11Signer.open(
            self.module,
            token_label=self.token,
            pin=pin,
            key_label=self.key_label,
            algorithm=self.algorithm,
        )


#: Either kind of key source.
KeySource: TypeAlias = KeyFile | Pkcs11Key


def key_source(
    *,
    key: str | None = None,
    key_password_env: str | None = None,
    pkcs11_module: str | None = None,
    token: str | None = None,
    key_label: str | None = None,
    pin_env: str | None = None,
    algorithm: str | None = None,
) -> KeySource:
    """The source the ``ecard`` key options name: ``key`` (with ``key_password_env``) or
    ``pkcs11_module`` with ``token``, ``key_label`` and ``pin_env``."""
    if pkcs11_module:
        if key:
            raise BadInputError("give either --key or --pkcs11-module, not both")
        if not (token and key_label and pin_env):
            raise BadInputError("--pkcs11-module needs --token, --key-label and --pin-env")
        return Pkcs11Key(pkcs11_module, token, key_label, pin_env, algorithm)
    if not key:
        raise BadInputError("give --key FILE (or --pkcs11-module ... for a key in an HSM)")
    return KeyFile(key, key_password_env or None, algorithm)


__all__ = [
    "KeyFile",
    "KeySource",
    "Pkcs11Key",
    "environment_value",
    "key_source",
    "password_from_env",
]
