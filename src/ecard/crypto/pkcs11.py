"""PKCS#11 (HSM) signing: a :class:`~ecard.signing.signers.Signer` whose key never leaves the token.

It lives in the neutral layer because two sides sign with token keys: the issuer (document
signers, list signers; re-exported as :mod:`ecard.signing.pkcs11`) and the holder's device (a
token standing in for a phone's secure element, :mod:`ecard.holder.keys`). It holds no key
material itself: the token does, and a verifier never imports it.

The PRC Electronic Signature Law (Art. 13) asks that the signature-creation data be under the
signer's sole control. With :class:`Pkcs11Signer` the private key is generated on, and kept in,
a hardware security module (or a smart card, or SoftHSM2 for tests) and only the token signs;
ecard hashes the data, hands the digest (or, for EdDSA, the data) to the token and gets back
the signature. The signer works wherever an in-memory :class:`~ecard.signing.signers.KeySigner`
does: :class:`~ecard.signing.issuer.Issuer`, trust lists, revocation lists.

Needs the optional dependency ``python-pkcs11`` (``pip install 'ecard[hsm]'``); this module
imports without it and raises :class:`~ecard.errors.BadKeyError` only when a token is used.

Mechanisms (SoftHSM2 2.6 supports all four):

========  ==========================================================================
ES256     SHA-256 in Python, then ``CKM_ECDSA`` (raw ``r || s``) on a P-256 key
ES384     SHA-384 in Python, then ``CKM_ECDSA`` on a P-384 key
EdDSA     ``CKM_EDDSA`` (pure Ed25519) on a ``CKK_EC_EDWARDS`` key
PS256     ``CKM_SHA256_RSA_PKCS_PSS`` (MGF1-SHA-256, 32-byte salt); if the token lacks it,
          SHA-256 in Python then ``CKM_RSA_PKCS_PSS``
========  ==========================================================================

Every signature the token returns is verified with the public key before it is used, so a
faulty token, or a public key object that does not belong to the private key, is an error and
not a bad credential in circulation.

Every failure is an :class:`~ecard.errors.EcardError` (:class:`~ecard.errors.BadKeyError`, or
:class:`~ecard.errors.AlgKeyMismatchError` for an algorithm that does not fit the key), never a
raw ``pkcs11`` exception; no message, ``repr`` or log line contains the PIN or key material.

Logins. PKCS#11 logs in an *application* (this process), not a session, and logging out ends
the login for every session. So all signers of one process on one token share a single logged-in
session, opened by the first and closed (logged out) when the last one is closed. A later
:meth:`Pkcs11Signer.open` on an already logged-in token must give the same PIN (checked against
a salted digest kept in memory) or is refused like a wrong PIN.

Threads. python-pkcs11 initialises a module without locking callbacks, which PKCS#11 defines as
"no concurrent calls into the module"; every call into one module is therefore serialised by a
per-module lock, and a signer may be shared freely between threads.

Certificates: :func:`ecard.signing.pki.certify_end_entity` issues a document-signer (or
list-signer) certificate for a *public* key, signed by a CA
:class:`~ecard.signing.pki.CertifiedKey`, so a root CA in memory can certify a key that lives in
the HSM::

    signer = generate_key(module, token_label="ecard", pin=pin, key_label="ds-2026")
    cert = certify_end_entity(root, signer.public_key(), "Beijing Document Signer 2026")
    issuer = Issuer(signer, cert)
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import threading
import weakref
from types import TracebackType
from typing import Any, Final, NoReturn

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ecard.crypto.algorithms import (
    Algorithm,
    BoundVerifier,
    EcdsaAlgorithm,
    EdDsaAlgorithm,
    PublicKey,
    RsaPssAlgorithm,
    algorithm_for_key,
    get_algorithm,
    public_key_fingerprint,
)
from ecard.errors import BadKeyError, EcardError

#: What to install when python-pkcs11 is missing.
INSTALL_HINT: Final = "pip install 'ecard[hsm]'"

#: RSA modulus generated for PS256 keys (as :func:`ecard.signing.pki.generate_private_key`).
RSA_KEY_BITS: Final = 3072

# CKA_EC_PARAMS (DER) of the curves ecard uses. Ed25519 comes as the OID id-Ed25519 or, per
# PKCS#11 3.0, as the PrintableString "edwards25519" (SoftHSM2 stores the latter).
_P256_PARAMS: Final = bytes.fromhex("06082a8648ce3d030107")
_P384_PARAMS: Final = bytes.fromhex("06052b81040022")
_ED25519_OID_PARAMS: Final = bytes.fromhex("06032b6570")
_ED25519_NAME_PARAMS: Final = b"\x13\x0cedwards25519"
_EC_CURVES: Final[dict[bytes, ec.EllipticCurve]] = {
    _P256_PARAMS: ec.SECP256R1(),
    _P384_PARAMS: ec.SECP384R1(),
}
_ED25519_PARAMS: Final = frozenset({_ED25519_OID_PARAMS, _ED25519_NAME_PARAMS})

_HASHES: Final = {"SHA-256": hashlib.sha256, "SHA-384": hashlib.sha384}

# (mechanism, mechanism parameter or None, hash in Python first)
_Mechanism = tuple[Any, Any, bool]

# python-pkcs11 exception class name -> what to tell the user (never the exception's text).
_REASONS: Final = {
    "PinIncorrect": "PIN incorrect",
    "PinInvalid": "PIN invalid",
    "PinLenRange": "PIN has the wrong length",
    "PinLocked": "PIN locked",
    "PinExpired": "PIN expired",
    "UserPinNotInitialized": "the token's user PIN is not initialised",
    "UserAlreadyLoggedIn": "another part of this process is already logged in to the token",
    "UserNotLoggedIn": "not logged in to the token (the login was ended elsewhere)",
    "NoSuchToken": "no such token",
    "MultipleTokensReturned": "more than one token has this label",
    "TokenNotPresent": "token not present",
    "TokenNotRecognised": "token not recognised",
    "DeviceRemoved": "token removed",
    "DeviceError": "device error",
    "DeviceMemory": "the token is out of memory",
    "MechanismInvalid": "mechanism not supported by the token",
    "MechanismParamInvalid": "mechanism parameters not supported by the token",
    "KeyFunctionNotPermitted": "the key may not sign (CKA_SIGN is false)",
    "KeyTypeInconsistent": "key type does not fit the mechanism",
    "AttributeSensitive": "attribute is sensitive",
    "AttributeTypeInvalid": "attribute not supported by the token",
    "AttributeValueInvalid": "attribute value rejected by the token",
    "TemplateIncomplete": "key template rejected by the token",
    "TemplateInconsistent": "key template rejected by the token",
    "DomainParamsInvalid": "curve not supported by the token",
    "SessionClosed": "session closed",
    "SessionHandleInvalid": "session closed",
    "TokenWriteProtected": "the token is write-protected",
    "FunctionFailed": "the token reported a failure",
    "GeneralError": "the token reported a general error",
}


def _reason(exc: BaseException) -> str:
    return _REASONS.get(type(exc).__name__, type(exc).__name__)


def _scrub(text: str, pin: str | bytes | None) -> str:
    """Belt and braces: no message ever carries the PIN, whatever went into it."""
    if pin:
        secret = pin.decode("utf-8", "replace") if isinstance(pin, bytes) else pin
        if secret:
            text = text.replace(secret, "***")
    return text


def _fail(
    what: str, exc: BaseException | None = None, *, pin: str | bytes | None = None
) -> NoReturn:
    detail = what if exc is None else f"{what}: {_reason(exc)}"
    raise BadKeyError(_scrub(detail, pin)) from None


def _import_pkcs11() -> Any:
    try:
        import pkcs11
    except ImportError:
        raise BadKeyError(
            f"PKCS#11 support needs the python-pkcs11 package: {INSTALL_HINT}"
        ) from None
    return pkcs11


# Errors a call into python-pkcs11 can raise: PKCS11Error is a RuntimeError; the wrapper also
# raises TypeError, ValueError, KeyError or AttributeError for values it cannot convert.
_P11_ERRORS: Final = (RuntimeError, ValueError, TypeError, KeyError, AttributeError, OSError)


# --- modules and logins -----------------------------------------------------------------------


class _Module:
    """One loaded PKCS#11 library and the lock serialising every call into it."""

    __slots__ = ("lib", "lock", "logins", "path")

    def __init__(self, path: str, lib: Any) -> None:
        self.path = path
        self.lib = lib
        self.lock = threading.RLock()
        self.logins: dict[tuple[str, str], _Login] = {}


_MODULES: dict[str, _Module] = {}
_MODULES_LOCK = threading.Lock()


def _load_module(module: str | os.PathLike[str]) -> _Module:
    pkcs11 = _import_pkcs11()
    try:
        path = os.path.realpath(os.fspath(module))
    except (TypeError, ValueError):
        _fail(f"PKCS#11 module path {module!r} is not a path")
    with _MODULES_LOCK:
        loaded = _MODULES.get(path)
        if loaded is not None:
            return loaded
        if not os.path.isfile(path):
            _fail(f"PKCS#11 module {os.fspath(module)!r} not found")
        try:
            lib = pkcs11.lib(path)
        except _P11_ERRORS as exc:
            # the loader's message (dlerror) says why: missing file, wrong architecture...
            message = str(exc) if type(exc).__name__ == "PKCS11Error" else _reason(exc)
            _fail(f"cannot load PKCS#11 module {path!r}: {message}")
        loaded = _MODULES[path] = _Module(path, lib)
        return loaded


def _pin_text(pin: str | bytes) -> str:
    # python-pkcs11 takes the PIN as text (it encodes it as UTF-8 for C_Login)
    if isinstance(pin, str):
        return pin
    if isinstance(pin, bytes):
        try:
            return pin.decode("utf-8")
        except UnicodeDecodeError:
            _fail("the PIN must be UTF-8")
    _fail("the PIN must be a str or bytes")


class _Login:
    """A logged-in session on one token, shared by every signer of this process on it.

    Holds a salted digest of the PIN (never the PIN) so later opens can be checked.
    """

    __slots__ = ("_digest", "_key", "_refs", "_salt", "label", "module", "session", "token")

    def __init__(
        self, module: _Module, key: tuple[str, str], token: Any, session: Any, pin: bytes
    ) -> None:
        self.module = module
        self._key = key
        self.token = token
        self.label: str = token.label
        self.session = session
        self._salt = os.urandom(32)
        self._digest = hmac.digest(self._salt, pin, "sha256")
        self._refs = 0

    @classmethod
    def acquire(cls, module: _Module, token_label: str, pin: str | bytes) -> _Login:
        """Log in to ``token_label`` (or join the existing login) and take a reference."""
        if not isinstance(token_label, str) or not token_label:
            _fail("token_label must be a non-empty string")
        text_pin = _pin_text(pin)
        raw_pin = text_pin.encode()
        with module.lock:
            try:
                token = module.lib.get_token(token_label=token_label)
                serial = bytes(token.serial).hex()
            except _P11_ERRORS as exc:
                _fail(f"token {token_label!r} in {module.path!r}", exc, pin=pin)
            key = (token_label, serial)
            login = module.logins.get(key)
            if login is not None:
                if not hmac.compare_digest(
                    login._digest, hmac.digest(login._salt, raw_pin, "sha256")
                ):
                    _fail(f"cannot log in to token {token_label!r}: PIN incorrect", pin=pin)
            else:
                try:
                    session = token.open(user_pin=text_pin)
                except _P11_ERRORS as exc:
                    _fail(f"cannot log in to token {token_label!r}", exc, pin=pin)
                login = module.logins[key] = cls(module, key, token, session, raw_pin)
            login._refs += 1
            return login

    def release(self) -> None:
        """Drop a reference; the last one logs out and closes the session."""
        with self.module.lock:
            self._refs -= 1
            if self._refs > 0:
                return
            if self.module.logins.get(self._key) is self:
                del self.module.logins[self._key]
            # token gone, or already logged out: nothing left to end
            with contextlib.suppress(*_P11_ERRORS):
                self.session.close()


# --- reading keys -----------------------------------------------------------------------------


def _attr(obj: Any, name: str) -> Any:
    pkcs11 = _import_pkcs11()
    return obj[getattr(pkcs11.Attribute, name)]


def _unwrap_octet_string(value: bytes, raw_size: int) -> bytes:
    """CKA_EC_POINT is a DER OCTET STRING around the point; some tokens give the bare point."""
    if len(value) == raw_size:
        return value
    if len(value) >= 2 and value[0] == 0x04:
        if value[1] < 0x80:
            n, body = value[1], value[2:]
        elif value[1] == 0x81 and len(value) >= 3:
            n, body = value[2], value[3:]
        else:
            n, body = -1, b""
        if n == len(body) == raw_size:
            return body
    raise ValueError("unexpected CKA_EC_POINT encoding")


def _public_from_objects(key_type: Any, priv: Any, pub: Any | None) -> PublicKey:
    """Build the cryptography public key from the token's objects."""
    pkcs11 = _import_pkcs11()
    kt = pkcs11.KeyType
    if key_type == kt.RSA:
        src = pub if pub is not None else priv  # modulus and exponent are public on both
        n = int.from_bytes(_attr(src, "MODULUS"), "big")
        e = int.from_bytes(_attr(src, "PUBLIC_EXPONENT"), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    if pub is None:
        raise LookupError("no public key object")
    params = bytes(_attr(pub, "EC_PARAMS"))
    point = bytes(_attr(pub, "EC_POINT"))
    if key_type == kt.EC:
        curve = _EC_CURVES.get(params)
        if curve is None:
            raise LookupError("an EC key on a curve ecard does not use")
        size = 1 + 2 * ((curve.key_size + 7) // 8)
        return ec.EllipticCurvePublicKey.from_encoded_point(
            curve, _unwrap_octet_string(point, size)
        )
    if key_type == kt.EC_EDWARDS:
        if params not in _ED25519_PARAMS:
            raise LookupError("an Edwards key on a curve other than Ed25519")
        return ed25519.Ed25519PublicKey.from_public_bytes(_unwrap_octet_string(point, 32))
    raise LookupError(f"a key of type {getattr(key_type, 'name', key_type)}")


# --- the signer -------------------------------------------------------------------------------


class Pkcs11Signer:
    """A :class:`~ecard.signing.signers.Signer` over a private key inside a PKCS#11 token.

    Make one with :meth:`open` (an existing key) or :func:`generate_key` (a new key on the
    token). Close it with :meth:`close` or use it as a context manager; an unclosed signer is
    released when garbage-collected. Thread-safe. Cannot be pickled or copied.
    """

    __slots__ = (
        "__weakref__",
        "_algorithm",
        "_closed",
        "_finalizer",
        "_key",
        "_key_id",
        "_key_label",
        "_login",
        "_mechanism",
        "_public",
        "_sole_control",
        "_verify",
    )

    _algorithm: Algorithm
    _closed: bool
    _finalizer: weakref.finalize[[], Pkcs11Signer]
    _key: Any
    _key_id: bytes | None
    _key_label: str | None
    _login: _Login
    _mechanism: _Mechanism
    _public: PublicKey
    _sole_control: bool
    _verify: BoundVerifier

    def __init__(self, *_: object, **__: object) -> None:
        raise TypeError("use Pkcs11Signer.open(...) or generate_key(...)")

    @classmethod
    def open(
        cls,
        module: str | os.PathLike[str],
        *,
        token_label: str,
        pin: str | bytes,
        key_label: str | None = None,
        key_id: bytes | None = None,
        algorithm: Algorithm | str | int | None = None,
    ) -> Pkcs11Signer:
        """Open the private key labelled ``key_label`` and/or with CKA_ID ``key_id`` on the
        token ``token_label`` of the PKCS#11 library ``module`` (a ``.so``/``.dll`` path).

        ``algorithm`` defaults to the key's natural one (P-256 -> ES256, P-384 -> ES384,
        Ed25519 -> EdDSA, RSA -> PS256); an explicit one must fit the key
        (:class:`~ecard.errors.AlgKeyMismatchError`). Anything else that goes wrong (module,
        token, PIN, key, mechanism, python-pkcs11 missing) is a
        :class:`~ecard.errors.BadKeyError`.
        """
        if key_label is None and key_id is None:
            _fail("give key_label or key_id to choose the key")
        if key_label is not None and (not isinstance(key_label, str) or not key_label):
            _fail("key_label must be a non-empty string")
        if key_id is not None and (not isinstance(key_id, bytes) or not key_id):
            _fail("key_id must be non-empty bytes")
        alg = None if algorithm is None else get_algorithm(algorithm)
        mod = _load_module(module)
        login = _Login.acquire(mod, token_label, pin)
        try:
            return cls._bind(login, key_label, key_id, alg)
        except BaseException:
            login.release()
            raise

    @classmethod
    def _bind(
        cls,
        login: _Login,
        key_label: str | None,
        key_id: bytes | None,
        alg: Algorithm | None,
    ) -> Pkcs11Signer:
        """Find the key on the logged-in token and build the signer (takes over ``login``'s
        reference)."""
        pkcs11 = _import_pkcs11()
        what = _key_name(login.label, key_label, key_id)
        with login.module.lock:
            session = login.session
            try:
                found = list(
                    session.get_objects(
                        _key_template(pkcs11, pkcs11.ObjectClass.PRIVATE_KEY, key_label, key_id)
                    )
                )
            except _P11_ERRORS as exc:
                _fail(f"cannot search {what}", exc)
            if not found:
                _fail(f"no private key {what}")
            if len(found) > 1:
                _fail(f"{len(found)} private keys match {what}: choose one by key_id")
            priv = found[0]
            try:
                key_type = _attr(priv, "KEY_TYPE")
                real_id = bytes(_attr(priv, "ID") or b"")
                real_label = str(_attr(priv, "LABEL") or "")
                sole_control = bool(
                    _attr(priv, "SENSITIVE")
                    and not _attr(priv, "EXTRACTABLE")
                    and _attr(priv, "ALWAYS_SENSITIVE")
                    and _attr(priv, "NEVER_EXTRACTABLE")
                )
                pub = _find_public(pkcs11, session, real_label, real_id)
                public = _public_from_objects(key_type, priv, pub)
            except _P11_ERRORS as exc:
                _fail(f"cannot read {what}", exc)
            except LookupError as exc:
                _fail(f"cannot use {what}: {exc}")
            mechanisms = _mechanisms(login.token)
        if alg is None:
            try:
                alg = algorithm_for_key(public)
            except EcardError as exc:
                _fail(f"cannot use {what}: {exc.detail}")
        alg.require_key(public)
        mechanism = _choose_mechanism(pkcs11, alg, mechanisms, login.label)
        signer = object.__new__(cls)
        signer._login = login
        signer._key = priv
        signer._key_label = key_label if key_label is not None else (real_label or None)
        signer._key_id = real_id or key_id
        signer._algorithm = alg
        signer._public = public
        signer._verify = alg.bind(public)
        signer._mechanism = mechanism
        signer._sole_control = sole_control
        signer._closed = False
        signer._finalizer = weakref.finalize(signer, login.release)
        return signer

    # -- the Signer protocol --

    @property
    def algorithm(self) -> Algorithm:
        """The algorithm every signature is made with."""
        return self._algorithm

    def public_key(self) -> PublicKey:
        """The public half of the key, as read from the token."""
        return self._public

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` on the token; returns the COSE-form signature.

        The signature is verified with the public key before it is returned.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError("data must be bytes")
        data = bytes(data)
        alg = self._algorithm
        mech, param, hash_first = self._mechanism
        message = _HASHES[alg.hash_name](data).digest() if hash_first else data
        login = self._login
        with login.module.lock:
            if self._closed:
                _fail("the PKCS#11 signer is closed")
            try:
                if param is None:
                    raw = bytes(self._key.sign(message, mechanism=mech))
                else:
                    raw = bytes(self._key.sign(message, mechanism=mech, mechanism_param=param))
            except _P11_ERRORS as exc:
                _fail(f"signing with {_key_name(login.label, self._key_label, None)}", exc)
        signature = _cose_signature(alg, raw)
        if not self._verify(signature, data):
            _fail(
                f"the token's {alg.name} signature does not verify with the key's public key "
                "(faulty token, or the public key object belongs to another key)"
            )
        return signature

    # -- the rest --

    @property
    def token_label(self) -> str:
        """Label of the token holding the key."""
        return self._login.label

    @property
    def key_label(self) -> str | None:
        """CKA_LABEL of the private key."""
        return self._key_label

    @property
    def key_id(self) -> bytes | None:
        """CKA_ID of the private key (shared with its public key object)."""
        return self._key_id

    @property
    def sole_control(self) -> bool:
        """True if the token says the key was always sensitive and never extractable: it was
        generated on the token and can never leave it (CKA_ALWAYS_SENSITIVE,
        CKA_NEVER_EXTRACTABLE, CKA_SENSITIVE, not CKA_EXTRACTABLE)."""
        return self._sole_control

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Release the key; the last signer on a token logs out. Idempotent."""
        with self._login.module.lock:
            if self._closed:
                return
            self._closed = True
            self._key = None
        self._finalizer()

    def __enter__(self) -> Pkcs11Signer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Pkcs11Signer(algorithm={self._algorithm.name}, token={self._login.label!r}, "
            f"key_label={self._key_label!r}, "
            f"public_key_sha256={public_key_fingerprint(self._public)})"
        )

    def __reduce__(self) -> Any:
        raise TypeError("Pkcs11Signer cannot be pickled or copied: it holds an HSM session")


def _key_name(token: str, label: str | None, key_id: bytes | None) -> str:
    parts = []
    if label is not None:
        parts.append(f"labelled {label!r}")
    if key_id is not None:
        parts.append(f"with id {key_id.hex()}")
    return f"{' '.join(parts)} on token {token!r}"


def _key_template(
    pkcs11: Any, object_class: Any, label: str | None, key_id: bytes | None
) -> dict[Any, Any]:
    attrs: dict[Any, Any] = {pkcs11.Attribute.CLASS: object_class}
    if label is not None:
        attrs[pkcs11.Attribute.LABEL] = label
    if key_id is not None:
        attrs[pkcs11.Attribute.ID] = key_id
    return attrs


def _find_public(pkcs11: Any, session: Any, label: str, key_id: bytes) -> Any | None:
    """The public key object paired with a private key: same CKA_ID, else same CKA_LABEL."""
    searches: list[tuple[str | None, bytes | None]] = [(None, key_id)] if key_id else []
    if label:
        searches.append((label, None))
    for lab, kid in searches:
        found = list(
            session.get_objects(_key_template(pkcs11, pkcs11.ObjectClass.PUBLIC_KEY, lab, kid))
        )
        if len(found) == 1:
            return found[0]
    return None


def _mechanisms(token: Any) -> frozenset[Any] | None:
    try:
        return frozenset(token.slot.get_mechanisms())
    except _P11_ERRORS:  # some tokens cannot list them: try when signing
        return None


def _choose_mechanism(
    pkcs11: Any, alg: Algorithm, available: frozenset[Any] | None, token: str
) -> _Mechanism:
    m = pkcs11.Mechanism

    def has(mech: Any) -> bool:
        return available is None or mech in available

    if isinstance(alg, EcdsaAlgorithm):
        if alg.hash_name not in _HASHES:
            _fail(f"{alg.name} hashes with {alg.hash_name}, which the PKCS#11 signer lacks")
        if has(m.ECDSA):
            return (m.ECDSA, None, True)
        _fail(f"token {token!r} does not support CKM_ECDSA (needed for {alg.name})")
    if isinstance(alg, EdDsaAlgorithm):
        if has(m.EDDSA):
            return (m.EDDSA, None, False)
        _fail(f"token {token!r} does not support CKM_EDDSA (needed for EdDSA)")
    if isinstance(alg, RsaPssAlgorithm):
        param = (m.SHA256, pkcs11.MGF.SHA256, 32)
        if has(m.SHA256_RSA_PKCS_PSS):
            return (m.SHA256_RSA_PKCS_PSS, param, False)
        if has(m.RSA_PKCS_PSS):
            return (m.RSA_PKCS_PSS, param, True)
        _fail(f"token {token!r} supports neither CKM_SHA256_RSA_PKCS_PSS nor CKM_RSA_PKCS_PSS")
    _fail(f"{alg.name} is not supported by the PKCS#11 signer")


def _cose_signature(alg: Algorithm, raw: bytes) -> bytes:
    """PKCS#11 ECDSA gives ``r || s`` already; normalise a short or DER one just in case."""
    if not isinstance(alg, EcdsaAlgorithm):
        return raw
    size = alg.signature_size
    assert size is not None
    if len(raw) == size:
        return raw
    n = size // 2
    if raw[:1] == b"\x30":  # some tokens return DER
        try:
            return alg.from_der_signature(raw)
        except ValueError:
            pass
    if len(raw) % 2 == 0 and 0 < len(raw) < size:  # r and s without leading zero bytes
        half = len(raw) // 2
        return raw[:half].rjust(n, b"\0") + raw[half:].rjust(n, b"\0")
    _fail(f"the token returned a {len(raw)}-byte ECDSA signature, not {size}")


# --- generating keys --------------------------------------------------------------------------


def generate_key(
    module: str | os.PathLike[str],
    *,
    token_label: str,
    pin: str | bytes,
    key_label: str,
    algorithm: Algorithm | str | int = "ES256",
    key_id: bytes | None = None,
) -> Pkcs11Signer:
    """Generate a key pair for ``algorithm`` on the token and return a signer over it.

    The private key is created on the token with CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_SIGN
    true and CKA_EXTRACTABLE, CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE false: it can sign and never
    leave the token. ``key_id`` (CKA_ID, pairing the private and public objects) defaults to 16
    random bytes. A ``key_label`` already used by a private key on the token is refused.
    P-256 for ES256, P-384 for ES384, Ed25519 for EdDSA, RSA-3072 (e = 65537) for PS256.
    """
    alg = get_algorithm(algorithm)
    if not isinstance(key_label, str) or not key_label:
        _fail("key_label must be a non-empty string")
    if key_id is None:
        key_id = os.urandom(16)
    elif not isinstance(key_id, bytes) or not key_id:
        _fail("key_id must be non-empty bytes")
    mod = _load_module(module)
    pkcs11 = _import_pkcs11()
    login = _Login.acquire(mod, token_label, pin)
    try:
        _generate(pkcs11, login, alg, key_label, key_id)
        return Pkcs11Signer._bind(login, key_label, key_id, alg)
    except BaseException:
        login.release()
        raise


def _generate(pkcs11: Any, login: _Login, alg: Algorithm, label: str, key_id: bytes) -> None:
    a, kt, m = pkcs11.Attribute, pkcs11.KeyType, pkcs11.Mechanism
    what = _key_name(login.label, label, None)
    private: dict[Any, Any] = {
        a.TOKEN: True,
        a.PRIVATE: True,
        a.SENSITIVE: True,
        a.EXTRACTABLE: False,
        a.SIGN: True,
        a.DECRYPT: False,
        a.UNWRAP: False,
        a.DERIVE: False,
    }
    public: dict[Any, Any] = {
        a.TOKEN: True,
        a.PRIVATE: False,
        a.VERIFY: True,
        a.ENCRYPT: False,
        a.WRAP: False,
        a.DERIVE: False,
    }
    kwargs: dict[Any, Any] = {}
    if isinstance(alg, EcdsaAlgorithm):
        params = next((p for p, c in _EC_CURVES.items() if c.name == alg.curve.name), None)
        if params is None:
            _fail(f"no PKCS#11 curve parameters for {alg.name}")
        key_type, mechanism = kt.EC, m.EC_KEY_PAIR_GEN
        public[a.EC_PARAMS] = params
    elif isinstance(alg, EdDsaAlgorithm):
        key_type, mechanism = kt.EC_EDWARDS, m.EC_EDWARDS_KEY_PAIR_GEN
        public[a.EC_PARAMS] = _ED25519_OID_PARAMS
    elif isinstance(alg, RsaPssAlgorithm):
        key_type, mechanism = kt.RSA, m.RSA_PKCS_KEY_PAIR_GEN
        public[a.PUBLIC_EXPONENT] = (65537).to_bytes(3, "big")
        kwargs["key_length"] = RSA_KEY_BITS
    else:
        _fail(f"{alg.name} keys cannot be generated on a PKCS#11 token by ecard")
    with login.module.lock:
        available = _mechanisms(login.token)
        if available is not None and mechanism not in available:
            _fail(f"token {login.label!r} cannot generate {alg.key_type} keys ({mechanism.name})")
        try:
            clash = list(
                login.session.get_objects(
                    _key_template(pkcs11, pkcs11.ObjectClass.PRIVATE_KEY, label, None)
                )
            )
        except _P11_ERRORS as exc:
            _fail(f"cannot search {what}", exc)
        if clash:
            _fail(f"a private key {what} already exists")
        try:
            # a short read-write session under the shared login (it does not log out on close)
            with login.token.open(rw=True) as rw:
                rw.generate_keypair(
                    key_type,
                    mechanism=mechanism,
                    store=True,
                    label=label,
                    id=key_id,
                    public_template=public,
                    private_template=private,
                    **kwargs,
                )
        except _P11_ERRORS as exc:
            _fail(f"cannot generate a {alg.key_type} key {what}", exc)


__all__ = [
    "INSTALL_HINT",
    "RSA_KEY_BITS",
    "Pkcs11Signer",
    "generate_key",
]
