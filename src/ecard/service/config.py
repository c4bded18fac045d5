"""Service settings: embedded defaults for a one-command demo, a TOML file and/or
``ECARD_SERVICE_*`` environment variables for a real deployment.

With no configuration the service runs in **demo mode**: a SQLite store and a demo issuer
(clearly marked as such on every page) created in the data folder, one-time codes written to
a local outbox. A deployment names its issuer key (:attr:`ServiceConfig.issuer`), and with
it the service leaves demo mode: then the list signer, the pseudonym and photo keys (read from
environment variables at start, never stored in the configuration, never logged) are required.

:func:`load_config` reads a TOML file (stdlib :mod:`tomllib`) and then the environment, which
wins: ``ECARD_SERVICE_<KEY>`` for a top-level key, ``ECARD_SERVICE_<SECTION>_<KEY>`` for a key
of a section (lists are comma-separated, booleans ``true``/``false``). Unknown keys, wrong
types and inconsistent settings are one :class:`ConfigError` (code ``CONFIG_INVALID``, English
and Chinese) naming the key, never its value. The layout is documented in docs/service.md.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from ecard.errors import BadInputError, Lang
from ecard.formats.presentation import PURPOSES
from ecard.signing.keysource import KeyFile, KeySource, Pkcs11Key

#: Where the demo keeps its store, keys and replay cache unless told otherwise.
DEFAULT_DATA_DIR: Final = Path("ecard-service")
#: Prefix of every environment variable the service reads its settings from.
ENV_PREFIX: Final = "ECARD_SERVICE_"
#: Default names of the variables holding the keys (hex) of a deployment.
PSEUDONYM_KEY_ENV: Final = "ECARD_SERVICE_PSEUDONYM_KEY"
PHOTO_KEY_ENV: Final = "ECARD_SERVICE_PHOTO_KEY"
#: Largest TOML configuration file read.
MAX_CONFIG_FILE: Final = 256 * 1024


class ConfigError(BadInputError):
    """The service configuration is not usable; ``key`` names the setting (never its value).

    The stable code is :data:`CODE` (``CONFIG_INVALID``); the library code is ``BAD_INPUT``.
    """

    #: The service's stable code for a bad configuration.
    CODE: Final = "CONFIG_INVALID"

    def __init__(self, key: str, en: str, zh: str) -> None:
        self.key = key
        super().__init__(f"{key}: {en}", detail_zh=f"{key}：{zh}")

    def message(self, lang: Lang = "en") -> str:
        """``service configuration is not valid: KEY: why`` in ``lang``."""
        if lang == "zh":
            return f"服务配置无效：{self.detail_zh}"
        return f"service configuration is not valid: {self.detail}"


@dataclass(frozen=True)
class KeyConfig:
    """A signing key (PEM file or PKCS#11) with its certificate and the CAs above it."""

    source: KeySource
    certificate: Path
    chain: tuple[Path, ...] = ()


@dataclass(frozen=True)
class CounterConfig:
    """What the counter verifies against and how strictly.

    ``trust``/``trust_list``/``revocation_list``/``roots``: files as ``ecard verify`` takes
    them; with none, the counter trusts this service's own issuer and its latest published
    revocation list. ``require_binding`` is **on** for the service (only live ``EC2:`` codes
    from the holder's phone); ``minimum_scope`` keeps every purpose but identity to the
    counter profile (no ID number).
    """

    trust: tuple[Path, ...] = ()
    trust_list: Path | None = None
    revocation_list: Path | None = None
    roots: tuple[Path, ...] = ()
    purposes: frozenset[str] = PURPOSES
    default_purpose: str = "pharmacy"
    require_binding: bool = True
    minimum_scope: bool = True
    presentation_max_age: int = 90
    presentation_max_ahead: int = 30


@dataclass(frozen=True)
class Limits:
    """Request size and rate limits (token buckets per client address and route)."""

    #: Largest request body, except the photo upload.
    max_body: int = 64 * 1024
    #: Largest body of ``POST /apply/photo``.
    max_photo_body: int = 6 * 1024 * 1024
    #: One-time code sending and sign-in: bucket size, then refills per minute.
    sensitive_burst: int = 10
    sensitive_per_minute: int = 10
    #: Verification: bucket size, then refills per second.
    verify_burst: int = 120
    verify_per_second: int = 20
    #: Most codes in one ``POST /api/verify/batch``.
    batch_max: int = 100


@dataclass(frozen=True)
class ServiceConfig:
    """What one running service is configured with."""

    #: Folder for the SQLite store, the demo PKI, the replay cache and the outbox.
    data_dir: Path = DEFAULT_DATA_DIR
    #: SQLAlchemy URL of the workflow store; ``None``: SQLite in :attr:`data_dir`.
    db_url: str | None = None
    #: Demo mode: a demo issuer and list signer made (once) in :attr:`data_dir`.
    demo: bool = True
    #: Language of pages when the browser does not choose (``zh`` or ``en``).
    default_lang: str = "zh"
    #: Extra settings a deployment sets (documented in docs/service.md).
    extra: dict[str, str] = field(default_factory=dict)
    #: The issuer's key and certificate (a deployment; ``None`` in demo mode).
    issuer: KeyConfig | None = None
    #: The revocation list signer's key (a PEM file) and certificate.
    list_signer: KeyConfig | None = None
    #: Names of the environment variables holding the pseudonym and photo keys (hex).
    pseudonym_key_env: str = PSEUDONYM_KEY_ENV
    photo_key_env: str = PHOTO_KEY_ENV
    counter: CounterConfig = field(default_factory=CounterConfig)
    limits: Limits = field(default_factory=Limits)
    #: Addresses of reverse proxies whose ``X-Forwarded-For`` is believed (uvicorn's option).
    forwarded_allow_ips: str = "127.0.0.1"

    @property
    def max_body(self) -> int:
        """Largest request body accepted, except photo uploads (``limits.max_body``)."""
        return self.limits.max_body

    @property
    def database_url(self) -> str:
        """The store URL in use."""
        return self.db_url or f"sqlite:///{self.data_dir / 'workflow.db'}"

    def secret(self, which: str) -> bytes:
        """The ``pseudonym`` or ``photo`` key of a deployment, from its environment variable
        (hex, at least 16 bytes for the pseudonym key, exactly 32 for the photo key)."""
        name = self.pseudonym_key_env if which == "pseudonym" else self.photo_key_env
        value = os.environ.get(name)
        if value is None:
            raise ConfigError(name, "environment variable is not set", "环境变量未设置")
        try:
            key = bytes.fromhex(value.strip())
        except ValueError:
            raise ConfigError(name, "is not hexadecimal", "不是十六进制") from None
        size_ok = len(key) == 32 if which == "photo" else len(key) >= 16
        if not size_ok:
            need = "32 bytes" if which == "photo" else "at least 16 bytes"
            raise ConfigError(name, f"must hold {need}", f"长度须为 {need}")
        return key


# -- reading ----------------------------------------------------------------------------------

_SECTIONS: Final = ("issuer", "list_signer", "counter", "limits", "secrets")
_TOP: Final = ("data_dir", "db_url", "default_lang", "forwarded_allow_ips")
_KEY_FIELDS: Final = (
    "key",
    "key_password_env",
    "pkcs11_module",
    "token",
    "key_label",
    "pin_env",
    "algorithm",
    "cert",
    "chain",
)
_SECTION_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "issuer": _KEY_FIELDS,
    "list_signer": _KEY_FIELDS,
    "counter": tuple(f.name for f in fields(CounterConfig)),
    "limits": tuple(f.name for f in fields(Limits)),
    "secrets": ("pseudonym_key_env", "photo_key_env"),
}
_LISTS: Final = frozenset({"chain", "trust", "roots", "purposes"})
_BOOLS: Final = frozenset({"require_binding", "minimum_scope"})
_INTS: Final = frozenset(f.name for f in fields(Limits)) | {
    "presentation_max_age",
    "presentation_max_ahead",
}


def _bad(key: str, en: str, zh: str) -> ConfigError:
    return ConfigError(key, en, zh)


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings the ``ECARD_SERVICE_*`` variables give, as a TOML-shaped dict."""
    out: dict[str, Any] = {}
    secret_names = {PSEUDONYM_KEY_ENV, PHOTO_KEY_ENV}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in secret_names:
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        if rest == "config":
            continue
        section = next((s for s in _SECTIONS if rest.startswith(s + "_")), None)
        if section is None:
            if rest not in _TOP:
                raise _bad(name, "unknown setting", "未知配置项")
            out[rest] = value
            continue
        key = rest[len(section) + 1 :]
        if key not in _SECTION_FIELDS[section]:
            raise _bad(name, "unknown setting", "未知配置项")
        if key in _LISTS:
            parsed: Any = [v.strip() for v in value.split(",") if v.strip()]
        elif key in _BOOLS:
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise _bad(name, "must be true or false", "须为 true 或 false")
            parsed = value.lower() in ("true", "1", "yes")
        elif key in _INTS:
            try:
                parsed = int(value)
            except ValueError:
                raise _bad(name, "must be an integer", "须为整数") from None
        else:
            parsed = value
        out.setdefault(section, {})[key] = parsed
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_CONFIG_FILE:
            raise _bad(str(path), "configuration file too large", "配置文件过大")
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise _bad(str(path), f"cannot be read ({exc.strerror})", "无法读取") from None
    except tomllib.TOMLDecodeError as exc:
        raise _bad(str(path), f"is not valid TOML ({exc})", "不是有效的 TOML") from None
    except UnicodeDecodeError:
        raise _bad(str(path), "is not UTF-8", "不是 UTF-8 编码") from None


def _typed(section: str, key: str, value: Any) -> Any:
    where = f"{section}.{key}" if section else key
    if key in _LISTS:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad(where, "must be a list of strings", "须为字符串列表")
        return value
    if key in _BOOLS:
        if not isinstance(value, bool):
            raise _bad(where, "must be true or false", "须为 true 或 false")
        return value
    if key in _INTS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _bad(where, "must be a non-negative integer", "须为非负整数")
        return value
    if not isinstance(value, str) or not value:
        raise _bad(where, "must be a non-empty string", "须为非空字符串")
    return value


def _key_config(section: str, raw: Mapping[str, Any], base: Path) -> KeyConfig | None:
    if not raw:
        return None
    for k, v in raw.items():
        _typed(section, k, v)
    if "cert" not in raw:
        raise _bad(f"{section}.cert", "is required with a key", "配置密钥时必须给出证书")
    module = raw.get("pkcs11_module")
    if module:
        if raw.get("key"):
            raise _bad(
                f"{section}.key",
                "give key or pkcs11_module, not both",
                "key 与 pkcs11_module 只能二选一",
            )
        missing = [k for k in ("token", "key_label", "pin_env") if not raw.get(k)]
        if missing:
            raise _bad(
                f"{section}.{missing[0]}",
                "is required with pkcs11_module",
                "使用 pkcs11_module 时必须给出",
            )
        source: KeySource = Pkcs11Key(
            module, raw["token"], raw["key_label"], raw["pin_env"], raw.get("algorithm")
        )
    elif raw.get("key"):
        source = KeyFile(str(base / raw["key"]), raw.get("key_password_env"), raw.get("algorithm"))
    else:
        raise _bad(
            f"{section}.key",
            "give key (PEM file) or pkcs11_module",
            "须给出 key（PEM 文件）或 pkcs11_module",
        )
    return KeyConfig(
        source=source,
        certificate=base / raw["cert"],
        chain=tuple(base / c for c in raw.get("chain", ())),
    )


def parse_config(data: Mapping[str, Any], base: Path = Path()) -> ServiceConfig:
    """A :class:`ServiceConfig` from TOML-shaped ``data`` (relative paths under ``base``)."""
    for key in data:
        if key not in _TOP and key not in _SECTIONS:
            raise _bad(key, "unknown setting", "未知配置项")
    sections: dict[str, dict[str, Any]] = {}
    for section in _SECTIONS:
        raw = data.get(section, {})
        if not isinstance(raw, Mapping):
            raise _bad(section, "must be a table", "须为表（section）")
        for key in raw:
            if key not in _SECTION_FIELDS[section]:
                raise _bad(f"{section}.{key}", "unknown setting", "未知配置项")
        sections[section] = dict(raw)
    top = {k: _typed("", k, data[k]) for k in _TOP if k in data}
    lang = top.get("default_lang", "zh")
    if lang not in ("zh", "en"):
        raise _bad("default_lang", "must be zh or en", "须为 zh 或 en")

    c = {k: _typed("counter", k, v) for k, v in sections["counter"].items()}
    purposes = frozenset(c.get("purposes", sorted(PURPOSES)))
    if not purposes or not purposes <= PURPOSES:
        raise _bad(
            "counter.purposes",
            f"must be some of {sorted(PURPOSES)}",
            f"须为 {sorted(PURPOSES)} 之一或多个",
        )
    default_purpose = c.get(
        "default_purpose", "pharmacy" if "pharmacy" in purposes else sorted(purposes)[0]
    )
    if default_purpose not in purposes:
        raise _bad(
            "counter.default_purpose",
            "must be one of counter.purposes",
            "须为 counter.purposes 之一",
        )
    for k in ("presentation_max_age", "presentation_max_ahead"):
        if not 0 <= c.get(k, 0) <= 600:
            raise _bad(f"counter.{k}", "must be 0..600 seconds", "须为 0..600 秒")
    counter = CounterConfig(
        trust=tuple(base / p for p in c.get("trust", ())),
        trust_list=base / c["trust_list"] if "trust_list" in c else None,
        revocation_list=base / c["revocation_list"] if "revocation_list" in c else None,
        roots=tuple(base / p for p in c.get("roots", ())),
        purposes=purposes,
        default_purpose=default_purpose,
        require_binding=c.get("require_binding", True),
        minimum_scope=c.get("minimum_scope", True),
        presentation_max_age=c.get("presentation_max_age", 90),
        presentation_max_ahead=c.get("presentation_max_ahead", 30),
    )
    if (counter.trust_list or counter.revocation_list) and not counter.roots:
        raise _bad(
            "counter.roots", "signed lists need the root they chain to", "签名名单须给出其根证书"
        )
    if counter.trust and counter.trust_list:
        raise _bad(
            "counter.trust", "give trust or trust_list, not both", "trust 与 trust_list 只能二选一"
        )

    limits_raw = {k: _typed("limits", k, v) for k, v in sections["limits"].items()}
    limits = Limits(**limits_raw)
    for k in ("max_body", "max_photo_body", "sensitive_burst", "verify_burst", "batch_max"):
        if getattr(limits, k) < 1:
            raise _bad(f"limits.{k}", "must be at least 1", "须至少为 1")

    secrets = {k: _typed("secrets", k, v) for k, v in sections["secrets"].items()}
    issuer = _key_config("issuer", sections["issuer"], base)
    list_signer = _key_config("list_signer", sections["list_signer"], base)
    if issuer is None and list_signer is not None:
        raise _bad("issuer", "a list signer without an issuer", "配置了名单签名者却未配置签发者")
    if issuer is not None:
        if list_signer is None:
            raise _bad(
                "list_signer", "is required with an issuer", "配置签发者时必须配置名单签名者"
            )
        if not isinstance(list_signer.source, KeyFile):
            raise _bad(
                "list_signer.key", "the list signer key is a PEM file", "名单签名密钥须为 PEM 文件"
            )
    data_dir = Path(top["data_dir"]) if "data_dir" in top else DEFAULT_DATA_DIR
    return ServiceConfig(
        data_dir=data_dir if data_dir.is_absolute() or "data_dir" not in top else base / data_dir,
        db_url=top.get("db_url"),
        demo=issuer is None,
        default_lang=lang,
        issuer=issuer,
        list_signer=list_signer,
        pseudonym_key_env=secrets.get("pseudonym_key_env", PSEUDONYM_KEY_ENV),
        photo_key_env=secrets.get("photo_key_env", PHOTO_KEY_ENV),
        counter=counter,
        limits=limits,
        forwarded_allow_ips=top.get("forwarded_allow_ips", "127.0.0.1"),
    )


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = {**out[k], **v}
        else:
            out[k] = v
    return out


def load_config(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> ServiceConfig:
    """The configuration from the TOML file ``path`` (or ``ECARD_SERVICE_CONFIG``), then the
    ``ECARD_SERVICE_*`` variables of ``environ`` (default :data:`os.environ`), then
    ``overrides`` (top-level keys such as ``data_dir``, ``db_url``: the command's options).
    With neither file nor variables: the demo defaults."""
    env = os.environ if environ is None else environ
    path = path or env.get(ENV_PREFIX + "CONFIG")
    data: dict[str, Any] = {}
    base = Path()
    if path:
        file = Path(path)
        data = _read_toml(file)
        base = file.parent
    data = _merge(data, _from_env(env))
    data = _merge(data, {k: str(v) for k, v in overrides.items() if v is not None})
    return parse_config(data, base)


__all__ = [
    "DEFAULT_DATA_DIR",
    "ENV_PREFIX",
    "PHOTO_KEY_ENV",
    "PSEUDONYM_KEY_ENV",
    "ConfigError",
    "CounterConfig",
    "KeyConfig",
    "Limits",
    "ServiceConfig",
    "load_config",
    "parse_config",
]
