"""The SM2 backends: OpenSSL 3's libcrypto through ctypes (sign and verify), else the
pure-Python ``gmalg`` package (verify only, checked against GB/T 32918.5 Annex A before first
use), and the functions that say which is available and how to fix a missing one.

Internal to :mod:`ecard.crypto.sm2` and :mod:`ecard.crypto.sm2.private`: the functions here hand out
the typed library; they hold no keys. ``_load`` and ``_load_gmalg`` are cached and are what a
test replaces to simulate a platform without SM2.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from ecard.crypto.sm2.curve import DEFAULT_ID, SM2P256V1
from ecard.errors import BadKeyError

HOW_TO_FIX: Final = (
    "SM2 needs OpenSSL 3 libcrypto with SM2/SM3 enabled (Debian/Ubuntu: apt-get install "
    "libssl3; it must not be built with no-sm2/no-sm3)"
)
GMALG_FIX: Final = "to verify SM2 signatures without it, install gmalg: pip install 'ecard[sm]'"


_BIO_CTRL_INFO: Final = 3  # BIO_get_mem_data is BIO_ctrl(bio, BIO_CTRL_INFO, 0, &ptr)

_vp = ctypes.c_void_p


class OsslParam(ctypes.Structure):
    """OpenSSL 3's ``OSSL_PARAM`` (one entry of a parameter array, ended by a null key)."""

    _fields_ = (
        ("key", ctypes.c_char_p),
        ("data_type", ctypes.c_uint),
        ("data", ctypes.c_void_p),
        ("data_size", ctypes.c_size_t),
        ("return_size", ctypes.c_size_t),
    )


#: ``OSSL_PARAM_UTF8_STRING`` and ``OSSL_PARAM_OCTET_STRING`` (openssl/core.h).
PARAM_UTF8_STRING: Final = 4
PARAM_OCTET_STRING: Final = 5
#: ``OSSL_PARAM_UNMODIFIED`` (a return size not written yet).
PARAM_UNMODIFIED: Final = ctypes.c_size_t(-1).value
#: ``EVP_PKEY_PUBLIC_KEY``: the key parameters and the public key (openssl/evp.h).
PKEY_PUBLIC_KEY: Final = 0x86
PEM_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, _vp)

# name: (restype, argtypes)
_SIGNATURES: Final[dict[str, tuple[Any, list[Any]]]] = {
    "ERR_get_error": (ctypes.c_ulong, []),
    "ERR_clear_error": (None, []),
    "ERR_error_string_n": (None, [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_size_t]),
    "BIO_new": (_vp, [_vp]),
    "BIO_s_mem": (_vp, []),
    "BIO_new_mem_buf": (_vp, [ctypes.c_char_p, ctypes.c_int]),
    "BIO_ctrl": (ctypes.c_long, [_vp, ctypes.c_int, ctypes.c_long, _vp]),
    "BIO_free": (ctypes.c_int, [_vp]),
    "EVP_sm3": (_vp, []),
    "EVP_aes_256_cbc": (_vp, []),
    "EVP_PKEY_free": (None, [_vp]),
    "EVP_PKEY_is_a": (ctypes.c_int, [_vp, ctypes.c_char_p]),
    "EVP_PKEY_CTX_new": (_vp, [_vp, _vp]),
    "EVP_PKEY_CTX_new_from_name": (_vp, [_vp, ctypes.c_char_p, ctypes.c_char_p]),
    "EVP_PKEY_CTX_free": (None, [_vp]),
    "EVP_PKEY_CTX_set1_id": (ctypes.c_int, [_vp, ctypes.c_char_p, ctypes.c_int]),
    "EVP_PKEY_keygen_init": (ctypes.c_int, [_vp]),
    "EVP_PKEY_fromdata_init": (ctypes.c_int, [_vp]),
    "EVP_PKEY_fromdata": (
        ctypes.c_int,
        [_vp, ctypes.POINTER(_vp), ctypes.c_int, ctypes.POINTER(OsslParam)],
    ),
    "EVP_PKEY_generate": (ctypes.c_int, [_vp, ctypes.POINTER(_vp)]),
    "EVP_MD_CTX_new": (_vp, []),
    "EVP_MD_CTX_free": (None, [_vp]),
    "EVP_MD_CTX_set_pkey_ctx": (None, [_vp, _vp]),
    "EVP_DigestSignInit": (ctypes.c_int, [_vp, _vp, _vp, _vp, _vp]),
    "EVP_DigestSign": (
        ctypes.c_int,
        [_vp, ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t), ctypes.c_char_p, ctypes.c_size_t],
    ),
    "EVP_DigestVerifyInit": (ctypes.c_int, [_vp, _vp, _vp, _vp, _vp]),
    "EVP_DigestVerify": (
        ctypes.c_int,
        [_vp, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t],
    ),
    "PEM_read_bio_PrivateKey": (_vp, [_vp, _vp, PEM_CB, _vp]),
    "PEM_write_bio_PKCS8PrivateKey": (
        ctypes.c_int,
        [_vp, _vp, _vp, ctypes.c_char_p, ctypes.c_int, _vp, _vp],
    ),
    "d2i_PUBKEY": (_vp, [_vp, ctypes.POINTER(_vp), ctypes.c_long]),
    "i2d_PUBKEY": (ctypes.c_int, [_vp, ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))]),
}


class Lib:
    """The libcrypto functions this module uses, typed for ctypes."""

    def __init__(self, cdll: ctypes.CDLL) -> None:
        self.cdll = cdll
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(cdll, name)  # AttributeError if libcrypto lacks it (e.g. OpenSSL 1.1)
            fn.restype = restype
            fn.argtypes = argtypes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cdll, name)


@functools.cache
def _load() -> Lib | str:
    """The typed libcrypto, or why it cannot be used."""
    names = ["libcrypto.so.3", ctypes.util.find_library("crypto"), "libcrypto.3.dylib"]
    problems: list[str] = []
    for name in names:
        if not name:
            continue
        try:
            lib = Lib(ctypes.CDLL(name))
        except (OSError, AttributeError) as exc:
            problems.append(f"{name}: {exc}")
            continue
        if not lib.EVP_sm3():
            problems.append(f"{name}: no SM3 digest")
            continue
        ctx = lib.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
        if not ctx:
            lib.ERR_clear_error()
            problems.append(f"{name}: no SM2 key type")
            continue
        lib.EVP_PKEY_CTX_free(ctx)
        return lib
    return "; ".join(problems) or "libcrypto not found"


@dataclass(frozen=True)
class Gmalg:
    """The parts of gmalg the verify-only fallback uses."""

    #: A fresh ``gmalg.sm2.SM2Core`` on sm2p256v1. gmalg's core keeps one SM3 object whose state
    #: every hash resets, so a core must not be shared between threads: one per verification.
    new_core: Callable[[], Any]
    #: A fresh ``gmalg.SM3`` (``update(data)``, ``value()``).
    new_sm3: Callable[[], Any]
    #: gmalg's base exception (``gmalg.errors.GMError``).
    error: type[Exception]


@functools.cache
def _load_gmalg() -> Gmalg | str:
    """gmalg, checked against GB/T 32918.5 Annex A, or why it cannot be used."""
    try:
        sm2_mod = importlib.import_module("gmalg.sm2")
        sm3_mod = importlib.import_module("gmalg.sm3")
        ec_mod = importlib.import_module("gmalg.ellipticcurve")
        err_mod = importlib.import_module("gmalg.errors")
    except ImportError as exc:
        return f"gmalg is not installed ({exc})"
    c = SM2P256V1
    try:
        ecdlp = ec_mod.ECDLP(c.p, c.a, c.b, (c.gx, c.gy), c.n)
        core_cls, sm3_cls, error = sm2_mod.SM2Core, sm3_mod.SM3, err_mod.GMError
        gm = Gmalg(lambda: core_cls(ecdlp, sm3_cls()), sm3_cls, error)
        # GB/T 32918.5-2017 Annex A: public key, ID 1234567812345678, "message digest", (r, s)
        ok = gm.new_core().verify(
            b"message digest",
            0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3,
            0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA,
            DEFAULT_ID,
            (
                0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020,
                0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13,
            ),
        )
    except Exception as exc:  # an incompatible gmalg: report it rather than crash on import
        return f"gmalg has an unexpected API ({type(exc).__name__}: {exc})"
    if ok is not True:
        return "gmalg fails the GB/T 32918.5 Annex A signature example"
    return gm


def sm2_available() -> bool:
    """Whether SM2 signing (and verifying) works: the system libcrypto has SM2 with SM3."""
    return isinstance(_load(), Lib)


def sm2_verify_available() -> bool:
    """Whether SM2 verification works: through libcrypto, or else through gmalg."""
    return sm2_available() or isinstance(_load_gmalg(), Gmalg)


def libcrypto() -> Lib:
    """libcrypto, or a :class:`BadKeyError` that says how to get it (and what gmalg can do)."""
    lib = _load()
    if isinstance(lib, str):
        if isinstance(_load_gmalg(), Gmalg):
            raise BadKeyError(
                f"SM2 signing and key generation are unavailable ({lib}); {HOW_TO_FIX}. "
                "(gmalg is installed, but ecard uses it only to verify.)"
            )
        raise BadKeyError(f"SM2 is unavailable ({lib}); {HOW_TO_FIX}; or, {GMALG_FIX}")
    return lib


def sm2_verify_unavailable() -> str | None:
    """``None`` if SM2 signatures can be verified here, else why not and how to fix it."""
    try:
        backend()
    except BadKeyError as exc:
        return exc.detail
    return None


def backend() -> Lib | Gmalg:
    """The backend public keys use: libcrypto, else gmalg, else a :class:`BadKeyError`."""
    lib = _load()
    if isinstance(lib, Lib):
        return lib
    gm = _load_gmalg()
    if isinstance(gm, Gmalg):
        return gm
    raise BadKeyError(
        f"SM2 verification is unavailable (libcrypto: {lib}; {gm}); {HOW_TO_FIX}; or, {GMALG_FIX}"
    )


def openssl_errors(lib: Lib) -> str:
    """Drain libcrypto's error queue into one string."""
    parts: list[str] = []
    buf = ctypes.create_string_buffer(256)
    while code := lib.ERR_get_error():
        lib.ERR_error_string_n(code, buf, len(buf))
        parts.append(buf.value.decode("ascii", "replace"))
    return "; ".join(parts) or "no detail from libcrypto"


def fail(lib: Lib, what: str) -> BadKeyError:
    return BadKeyError(f"{what}: {openssl_errors(lib)}")


def bio_bytes(lib: Lib, bio: int) -> bytes:
    ptr = ctypes.c_void_p()
    size = lib.BIO_ctrl(bio, _BIO_CTRL_INFO, 0, ctypes.byref(ptr))
    if size <= 0 or not ptr.value:
        return b""
    return ctypes.string_at(ptr.value, size)
