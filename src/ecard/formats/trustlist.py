"""The body of a signed trust list: which document signers a verifier trusts, and how far.

Body (inside the list payload of :mod:`ecard.formats.lists`, type ``ecard-trust-list``)::

    {1: [entry, ...]}
    entry = {
      1: bstr            the document signer's certificate (DER); its kid is derived from it
      2: [bstr, ...]     the issuing CA certificates above it, nearest first (may be empty)
      ? 3: [uint, ...]   scope: GB/T 2260 region codes it may sign cards for; a province code
                         (110000) covers the whole province, a city code (110100) the city
      ? 4: [uint, ...]   scope: card specification versions it may sign, x100 (300 = "3.00")
      ? 5: uint          retired_at: signs nothing after this NumericDate; earlier cards stay valid
      ? 6: uint          compromised_at: everything claiming to be signed at or after it is revoked
    }

Absent scope keys mean "no restriction". No keys and no trust decisions here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ecard.crypto.x509 import load_der_certificate
from ecard.errors import BadCertificateError, BadListError
from ecard.identifiers import normalize_region_code

_CERT, _CHAIN, _REGIONS, _SPECS, _RETIRED, _COMPROMISED = 1, 2, 3, 4, 5, 6
_ENTRY_KEYS: Final = frozenset({1, 2, 3, 4, 5, 6})
#: Most entries in one trust list.
MAX_ENTRIES: Final = 1_000_000


def region_prefix(code: str) -> str:
    """The prefix a scope region code covers: ``110000`` -> ``11``, ``110100`` -> ``1101``."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


@dataclass(frozen=True)
class TrustListEntry:
    """One trusted document signer, with its scope and lifecycle marks."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    #: Region codes (6 digits) the signer may sign for; ``None``: any.
    regions: frozenset[str] | None = None
    #: Card specification versions (``"3.00"``) the signer may sign; ``None``: any.
    spec_versions: frozenset[str] | None = None
    retired_at: datetime | None = None
    compromised_at: datetime | None = None
    # the code prefixes the region scope covers, derived from ``regions``
    _prefixes: tuple[str, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.regions is not None:
            try:
                regions = frozenset(normalize_region_code(r) for r in self.regions)
            except ValueError as exc:
                raise BadListError(f"scope region: {exc}") from None
            object.__setattr__(self, "regions", regions)
            object.__setattr__(self, "_prefixes", tuple(sorted(map(region_prefix, regions))))
        if self.spec_versions is not None:
            for v in self.spec_versions:
                if len(v) != 4 or not (v[0].isdigit() and v[1] == "." and v[2:].isdigit()):
                    raise BadListError(f"scope card specification {v!r} is not like '3.00'")
        for name in ("retired_at", "compromised_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise BadListError(f"{name} must be timezone-aware")

    def covers_region(self, region: str) -> bool:
        """Whether the region scope includes the 6-digit ``region``."""
        return self._prefixes is None or region.startswith(self._prefixes)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def encode_trust_body(entries: Iterable[TrustListEntry]) -> dict[int, Any]:
    """The CBOR-ready body for ``entries``."""
    out: list[dict[int, Any]] = []
    for e in entries:
        item: dict[int, Any] = {_CERT: _der(e.certificate), _CHAIN: [_der(c) for c in e.chain]}
        if e.regions is not None:
            item[_REGIONS] = sorted(int(r) for r in e.regions)
        if e.spec_versions is not None:
            item[_SPECS] = sorted(int(v[0] + v[2:]) for v in e.spec_versions)
        if e.retired_at is not None:
            item[_RETIRED] = int(e.retired_at.timestamp())
        if e.compromised_at is not None:
            item[_COMPROMISED] = int(e.compromised_at.timestamp())
        out.append(item)
    return {1: out}


def _uint_list(value: object, what: str) -> list[int]:
    if not isinstance(value, list) or not all(type(v) is int and v >= 0 for v in value):
        raise BadListError(f"{what} must be an array of unsigned integers")
    return value


def _time(value: object, what: str) -> datetime:
    if type(value) is not int or not 0 <= value < 253402300800:  # up to 9999-12-31
        raise BadListError(f"{what} must be a NumericDate")
    return datetime.fromtimestamp(value, UTC)


def _cert(value: object, what: str) -> x509.Certificate:
    if not isinstance(value, bytes):
        raise BadListError(f"{what} must be a DER certificate")
    try:
        return load_der_certificate(value)
    except BadCertificateError as exc:
        raise BadListError(f"{what} is not a certificate: {exc.detail}") from None


def decode_trust_body(body: object) -> list[TrustListEntry]:
    """Parse a trust-list body; :class:`~ecard.errors.BadListError` if malformed."""
    if type(body) is not dict or body.keys() != {1} or not isinstance(body[1], list):
        raise BadListError("trust list body must be {1: [entries]}")
    if len(body[1]) > MAX_ENTRIES:
        raise BadListError(f"more than {MAX_ENTRIES} entries")
    entries: list[TrustListEntry] = []
    for i, item in enumerate(body[1]):
        where = f"entry {i}"
        if type(item) is not dict or not {_CERT, _CHAIN} <= item.keys() <= _ENTRY_KEYS:
            raise BadListError(f"{where}: must be a map with keys 1, 2 and optionally 3..6")
        chain = item[_CHAIN]
        if not isinstance(chain, list):
            raise BadListError(f"{where}: chain must be an array")
        regions = specs = None
        if _REGIONS in item:
            regions = frozenset(f"{r:06d}" for r in _uint_list(item[_REGIONS], f"{where} regions"))
        if _SPECS in item:
            raw = _uint_list(item[_SPECS], f"{where} card specifications")
            if not all(100 <= v <= 999 for v in raw):
                raise BadListError(f"{where}: card specification out of range")
            specs = frozenset(f"{v // 100}.{v % 100:02d}" for v in raw)
        entries.append(
            TrustListEntry(
                certificate=_cert(item[_CERT], f"{where} certificate"),
                chain=tuple(_cert(c, f"{where} chain") for c in chain),
                regions=regions,
                spec_versions=specs,
                retired_at=_time(item[_RETIRED], f"{where} retired_at")
                if _RETIRED in item
                else None,
                compromised_at=(
                    _time(item[_COMPROMISED], f"{where} compromised_at")
                    if _COMPROMISED in item
                    else None
                ),
            )
        )
    return entries


__all__ = [
    "MAX_ENTRIES",
    "TrustListEntry",
    "decode_trust_body",
    "encode_trust_body",
    "region_prefix",
]
