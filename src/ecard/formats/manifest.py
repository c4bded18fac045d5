"""The trust-list manifest: the editable JSON an operator turns into a signed trust list.

A manifest is one JSON object (documented field by field in ``docs/trust.md``)::

    {"sequence": 1, "next_update_days": 7, "signers": [ENTRY, ...]}

    ENTRY = {"subject": str, "kid": hex str,          for people; ignored when read
             "certificate": PEM str,                   required: exactly one certificate
             "chain": [PEM str, ...],                  CA certificates above it, nearest first
             "regions": [str, ...] | null,             scope (null: any)
             "spec_versions": [str, ...] | null,
             "retired_at": ISO 8601 with zone | null,
             "compromised_at": ISO 8601 with zone | null}

:class:`Manifest` holds one as :class:`~ecard.formats.trustlist.TrustListEntry` values;
:meth:`Manifest.to_json` writes it and :meth:`Manifest.from_json` reads it strictly: an unknown
key, a value of the wrong JSON type or a bad value is a :class:`~ecard.errors.BadInputError`
naming the field (a bad scope is the :class:`~ecard.errors.BadListError` and a bad PEM the
:class:`~ecard.errors.BadCertificateError` that ``TrustListEntry`` and the certificate reader
raise, with the entry's position in front), never a ``KeyError`` or ``TypeError``.
:func:`entry_to_dict` and :func:`entry_from_dict` convert a single entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cryptography import x509

from ecard.crypto.x509 import certificate_to_pem, load_certificates
from ecard.errors import BadCertificateError, BadInputError, BadListError
from ecard.formats.cose import kid_for_certificate
from ecard.formats.trustlist import TrustListEntry

#: The keys of a manifest, and of one of its signer entries.
MANIFEST_KEYS: Final = frozenset({"sequence", "next_update_days", "signers"})
ENTRY_KEYS: Final = frozenset(
    {
        "subject",
        "kid",
        "certificate",
        "chain",
        "regions",
        "spec_versions",
        "retired_at",
        "compromised_at",
    }
)
#: ``next_update_days`` when a manifest leaves it out.
DEFAULT_NEXT_UPDATE_DAYS: Final = 7


def _pem(cert: x509.Certificate) -> str:
    return certificate_to_pem(cert).decode()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def entry_to_dict(entry: TrustListEntry) -> dict[str, Any]:
    """The manifest object of ``entry`` (every key of :data:`ENTRY_KEYS`, sets sorted)."""
    return {
        "subject": entry.certificate.subject.rfc4514_string(),
        "kid": kid_for_certificate(entry.certificate).hex(),
        "certificate": _pem(entry.certificate),
        "chain": [_pem(c) for c in entry.chain],
        "regions": None if entry.regions is None else sorted(entry.regions),
        "spec_versions": None if entry.spec_versions is None else sorted(entry.spec_versions),
        "retired_at": _iso(entry.retired_at),
        "compromised_at": _iso(entry.compromised_at),
    }


def _unknown(item: dict[str, Any], known: frozenset[str], what: str) -> None:
    extra = sorted(set(item) - known)
    if extra:
        raise BadInputError(f"{what}: unknown key(s) {', '.join(map(repr, extra))}")


def _strings(value: object, key: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInputError(f"{key!r} must be a list of strings or null")
    return value


def _when(value: object, key: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadInputError(f"{key!r} must be an ISO 8601 time string or null")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BadInputError(f"{key!r} is not an ISO 8601 time: {value!r}") from None
    if when.tzinfo is None:
        raise BadInputError(f"{key!r} needs a time zone, e.g. 2026-01-01T08:00:00+08:00")
    return when


def _certificates(value: object, key: str) -> list[x509.Certificate]:
    if not isinstance(value, str):
        raise BadInputError(f"{key!r} must be a PEM string")
    return load_certificates(value.encode())


def entry_from_dict(item: object) -> TrustListEntry:
    """The entry a manifest object describes; ``subject`` and ``kid`` are not read (the kid
    is derived from the certificate). Errors as in the module docstring."""
    if not isinstance(item, dict):
        raise BadInputError("a signer entry must be a JSON object")
    _unknown(item, ENTRY_KEYS, "signer entry")
    for key in ("subject", "kid"):
        if key in item and not isinstance(item[key], str):
            raise BadInputError(f"{key!r} must be a string")
    if "certificate" not in item:
        raise BadInputError("a signer entry needs 'certificate'")
    certs = _certificates(item["certificate"], "certificate")
    if len(certs) != 1:
        raise BadInputError(f"'certificate' must hold one certificate, not {len(certs)}")
    chain = item.get("chain", [])
    if not isinstance(chain, list):
        raise BadInputError("'chain' must be a list of PEM strings")
    regions = _strings(item.get("regions"), "regions")
    specs = _strings(item.get("spec_versions"), "spec_versions")
    return TrustListEntry(
        certificate=certs[0],
        chain=tuple(c for pem in chain for c in _certificates(pem, "chain")),
        regions=None if regions is None else frozenset(regions),
        spec_versions=None if specs is None else frozenset(specs),
        retired_at=_when(item.get("retired_at"), "retired_at"),
        compromised_at=_when(item.get("compromised_at"), "compromised_at"),
    )


#: The largest sequence a list header carries (a CBOR unsigned integer below 2**63).
MAX_SEQUENCE: Final = 2**63 - 1
#: The longest a trust list may be valid: ten years, in days.
MAX_NEXT_UPDATE_DAYS: Final = 3660


def _count(value: object, key: str, *, minimum: int, maximum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise BadInputError(f"{key!r} must be an integer from {minimum} to {maximum}")
    return value


@dataclass(frozen=True)
class Manifest:
    """A trust list before it is signed: its sequence, its lifetime in days, its signers."""

    sequence: int
    signers: tuple[TrustListEntry, ...]
    next_update_days: int = DEFAULT_NEXT_UPDATE_DAYS

    def __post_init__(self) -> None:
        _count(self.sequence, "sequence", minimum=0, maximum=MAX_SEQUENCE)
        _count(self.next_update_days, "next_update_days", minimum=1, maximum=MAX_NEXT_UPDATE_DAYS)
        object.__setattr__(self, "signers", tuple(self.signers))

    @classmethod
    def build(
        cls,
        certificates: Iterable[x509.Certificate],
        *,
        chain: Iterable[x509.Certificate] = (),
        regions: Iterable[str] | None = None,
        spec_versions: Iterable[str] | None = None,
        sequence: int = 1,
        next_update_days: int = DEFAULT_NEXT_UPDATE_DAYS,
    ) -> Manifest:
        """A manifest trusting each of ``certificates`` with the same ``chain`` and scope
        (``None``: any region or card specification)."""
        above = tuple(chain)
        region_set = None if regions is None else frozenset(regions)
        spec_set = None if spec_versions is None else frozenset(spec_versions)
        entries = tuple(
            TrustListEntry(
                certificate=cert, chain=above, regions=region_set, spec_versions=spec_set
            )
            for cert in certificates
        )
        return cls(sequence=sequence, signers=entries, next_update_days=next_update_days)

    def to_dict(self) -> dict[str, Any]:
        """The manifest as a JSON-ready object."""
        return {
            "sequence": self.sequence,
            "next_update_days": self.next_update_days,
            "signers": [entry_to_dict(e) for e in self.signers],
        }

    def to_json(self) -> str:
        """The manifest as indented JSON text, ending in a newline."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, data: bytes | str) -> Manifest:
        """Read a manifest strictly (see the module docstring)."""
        try:
            doc = json.loads(data)
        except ValueError as exc:
            raise BadInputError(f"not a trust-list manifest: not JSON ({exc})") from None
        except RecursionError:  # nesting deep enough to exhaust the stack
            raise BadInputError("not a trust-list manifest: nested too deeply") from None
        if not isinstance(doc, dict):
            raise BadInputError("not a trust-list manifest: not a JSON object")
        _unknown(doc, MANIFEST_KEYS, "trust-list manifest")
        for key in ("sequence", "signers"):
            if key not in doc:
                raise BadInputError(f"not a trust-list manifest: no {key!r}")
        items = doc["signers"]
        if not isinstance(items, list):
            raise BadInputError("'signers' must be a list of signer entries")
        entries = []
        for index, item in enumerate(items):
            try:
                entries.append(entry_from_dict(item))
            except (BadInputError, BadListError, BadCertificateError) as exc:
                raise type(exc)(f"signers[{index}]: {exc.detail}") from None
        return cls(
            sequence=doc["sequence"],
            signers=tuple(entries),
            next_update_days=doc.get("next_update_days", DEFAULT_NEXT_UPDATE_DAYS),
        )


__all__ = [
    "DEFAULT_NEXT_UPDATE_DAYS",
    "ENTRY_KEYS",
    "MANIFEST_KEYS",
    "Manifest",
    "entry_from_dict",
    "entry_to_dict",
]
