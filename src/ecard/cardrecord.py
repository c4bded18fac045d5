"""A resident-ID card checked by every rule of :class:`~ecard.card.Card` but not yet a model:
what the verifier carries, so that verifying a code and printing its JSON line never needs
pydantic.

Contract:

* :func:`record_from_fields` applies the models' rules to the values of a compact claim
  ``{1: name, 2: ssn, ..., 8: status}`` through the same functions the models use (the name,
  card number and region normalisers, the citizen ID check, the status parser, the date bounds
  and cross-field rules); it returns a :class:`ResidentRecord` exactly when
  ``Card.from_claim`` would accept the claim *and* the claim is canonical, else ``None`` (the
  caller then takes the models' way, which decides and words the problem).
  ``tests/test_card_fastpath.py`` holds it equal to the models both ways.
* :meth:`ResidentRecord.to_card` gives the very :class:`~ecard.card.Card` ``Card.from_claim``
  would (same values, same fields marked as set); it imports the models on first use.
* :class:`LazyCard` (required) and :class:`OptionalLazyCard` are the dataclass fields of
  :class:`~ecard.formats.cwt.Claims` and :class:`~ecard.verify.verifier.VerificationResult`
  that hold a card: each stores a model or a record, and reading it always gives a model (a
  record becomes its ``Card`` on first read, and stays that ``Card``).
  :func:`stored_card` reads what is stored without building a model, for the verifier's checks
  and the JSON writers, which use only attributes a record shares with the models.

This module imports neither pydantic nor the models.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Final, overload

from ecard.cardbase import (
    _COMPACT_ID_LIMIT,
    _EPOCH_ORDINAL,
    _MAX_DAYS,
    _MAX_EXPIRES,
    _MIN_ISSUED,
    _SHORTEST_17,
    _SPEC_TEXT,
    _STATUS_BY_VALUE,
    _STATUS_JSON,
    CardStatus,
)
from ecard.documents import DocumentType
from ecard.identifiers import (
    _check_char,
    _fast_birth_date,
    mask_citizen_id,
    mask_name,
    normalize_card_number,
    normalize_name,
    normalize_region_code,
)

if TYPE_CHECKING:
    from typing_extensions import TypeIs

    from ecard.card import Card
    from ecard.countercard import CounterCard

__all__ = [
    "CARD_KEY",
    "LazyCard",
    "OptionalLazyCard",
    "ResidentRecord",
    "card_json",
    "claims_card",
    "is_full",
    "record_from_fields",
    "stored_card",
]


class _RecordHolder:
    """The holder of a :class:`ResidentRecord`: what a resident-ID ``Holder`` answers for the
    verifier and its reports (``name``, ``ssn``, ``document``, ``masked_name``,
    ``masked_ssn``)."""

    __slots__ = ("name", "ssn")
    document: ClassVar[DocumentType] = DocumentType.RESIDENT_ID

    def __init__(self, name: str, ssn: str) -> None:
        self.name = name
        self.ssn = ssn

    @property
    def masked_name(self) -> str:
        """As ``Holder.masked_name``."""
        return mask_name(self.name)

    @property
    def masked_ssn(self) -> str:
        """As ``Holder.masked_ssn`` for a resident ID number."""
        return mask_citizen_id(self.ssn)

    def __repr__(self) -> str:
        return "_RecordHolder(<personal data>)"


class ResidentRecord:
    """The checked values of a resident-ID card: the attributes of a :class:`~ecard.card.Card`
    the verifier reads (``holder.name``, ``holder.ssn``, ``holder.document``, ``card_number``,
    ``region``, ``spec_version``, ``issued``, ``expires``, ``status``, ``profile``), and
    :meth:`to_card` for the model. ``repr`` shows no personal data."""

    __slots__ = (
        "card_number", "expires", "holder", "issued", "region", "spec_version", "status",
    )  # fmt: skip
    #: A record is always the full profile (a counter profile is its own model).
    profile: ClassVar[str] = "full"

    def __init__(
        self,
        name: str,
        ssn: str,
        card_number: str,
        region: str,
        spec_version: str,
        issued: date,
        expires: date,
        status: CardStatus,
    ) -> None:
        self.holder = _RecordHolder(name, ssn)
        self.card_number = card_number
        self.region = region
        self.spec_version = spec_version
        self.issued = issued
        self.expires = expires
        self.status = status

    def to_card(self) -> Card:
        """The :class:`~ecard.card.Card` of these values, as ``Card.from_claim`` makes it."""
        from ecard.cardfast import resident_card  # the models, loaded on first use

        holder = self.holder
        return resident_card(
            holder.name, holder.ssn, self.card_number, self.region, self.spec_version,
            self.issued, self.expires, self.status,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"ResidentRecord(<personal data>, status={self.status.name})"


#: Region codes already checked, by their integer (a pure function of the claim's value;
#: bounded, since a verifier sees a few thousand regions at most).
_REGION_TEXT: Final[dict[int, str]] = {}
#: Dates of day numbers already seen (bounded the same way).
_DAYS: Final[dict[int, date]] = {}
_MEMO_LIMIT: Final = 8192


def _region_text(region: int) -> str | None:
    """The canonical text of region ``region`` if the region normaliser keeps it as it is,
    else ``None``; remembered (up to :data:`_MEMO_LIMIT` regions)."""
    text = str(region)
    try:
        if normalize_region_code(text) != text:
            return None
    except ValueError:
        return None
    if len(_REGION_TEXT) < _MEMO_LIMIT:
        _REGION_TEXT[region] = text
    return text


def _day(days: int) -> date:
    """The date ``days`` after 1970-01-01 (0 <= days <= the last date); remembered (up to
    :data:`_MEMO_LIMIT` days)."""
    day = date.fromordinal(_EPOCH_ORDINAL + days)
    if len(_DAYS) < _MEMO_LIMIT:
        _DAYS[days] = day
    return day


def record_from_fields(
    name: str,
    ssn: int,
    card_number: str,
    region: int,
    spec: int,
    issued: int,
    expires: int,
    status: int,
) -> ResidentRecord | None:
    """The record of the claim ``{1: name, 2: ssn, ..., 8: status}`` (values of exactly these
    types: the caller checked them) when it is canonical and passes every rule of the models;
    ``None`` otherwise (the module docstring).

    The spec version ``_SPEC_TEXT[spec]`` always matches its pattern for ``100 <= spec < 1000``.
    """
    if not (
        0 <= ssn < _COMPACT_ID_LIMIT
        and 100_000 <= region < 1_000_000
        and 100 <= spec < 1000
        and 0 <= issued <= _MAX_DAYS
        and 0 <= expires <= _MAX_DAYS
    ):
        return None
    first17 = str(ssn) if ssn >= _SHORTEST_17 else f"{ssn:017d}"
    citizen_id = first17 + _check_char(first17)
    birth = _fast_birth_date(citizen_id)
    if birth is None:
        return None
    region_text = _REGION_TEXT.get(region)
    if region_text is None:
        region_text = _region_text(region)
        if region_text is None:
            return None
    state = _STATUS_BY_VALUE.get(status)  # what CardStatus.parse gives an int, or None
    if state is None:
        return None
    try:
        if normalize_name(name) != name or normalize_card_number(card_number) != card_number:
            return None
    except ValueError:
        return None
    day_issued = _DAYS.get(issued) or _day(issued)
    day_expires = _DAYS.get(expires) or _day(expires)
    if not (day_issued >= _MIN_ISSUED and birth <= day_issued < day_expires <= _MAX_EXPIRES):
        return None
    return ResidentRecord(
        name, citizen_id, card_number, region_text, _SPEC_TEXT[spec], day_issued, day_expires,
        state,
    )  # fmt: skip


#: Where a card field keeps what it holds, in the instance's ``__dict__`` (both fields are
#: named ``card``); the fast paths that fill an instance directly write it there too.
CARD_KEY: Final = "_card_stored"


class _CardSlot:
    """What both card fields share: the stored value, and the model built on first read."""

    def __set_name__(self, owner: type, name: str) -> None:
        if name != "card":  # CARD_KEY, stored_card and the fast paths name it so
            raise TypeError(f"a card field must be named 'card', not {name!r}")

    def _read(self, obj: object) -> Any:
        value = obj.__dict__.get(CARD_KEY)
        if type(value) is ResidentRecord:
            value = value.to_card()
            obj.__dict__[CARD_KEY] = value
        return value

    def __set__(self, obj: object, value: Card | CounterCard | ResidentRecord | None) -> None:
        obj.__dict__[CARD_KEY] = value  # also under a frozen dataclass: its __init__ sets it


class LazyCard(_CardSlot):
    """A required card field (module docstring): reading it gives the model."""

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> LazyCard: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> Card | CounterCard: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:  # what a dataclass asks for the field's default: there is none
            raise AttributeError(CARD_KEY)
        return self._read(obj)


class OptionalLazyCard(_CardSlot):
    """A card field that defaults to ``None`` (module docstring)."""

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> None: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> Card | CounterCard | None: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:  # the field's default
            return None
        return self._read(obj)


def is_full(card: Card | CounterCard | ResidentRecord) -> TypeIs[Card | ResidentRecord]:
    """Whether ``card`` is a full card (a ``Card`` or a record), not a counter profile."""
    return card.profile == "full"


def stored_card(obj: object) -> Card | CounterCard | ResidentRecord | None:
    """What ``obj``'s card field holds, without building a model."""
    stored: Card | CounterCard | ResidentRecord | None = obj.__dict__.get(CARD_KEY)
    return stored


def claims_card(claims: object) -> Card | CounterCard | ResidentRecord:
    """What a :class:`~ecard.formats.cwt.Claims`' required ``card`` holds, without building a
    model."""
    stored = stored_card(claims)
    if stored is None:  # pragma: no cover - Claims cannot be made without a card
        raise TypeError("claims without a card")
    return stored


def card_json(card: Card | ResidentRecord) -> dict[str, Any]:
    """``card.model_dump(mode="json")`` of a full card (or of the card a record makes),
    written out: the same keys in the same order, without pydantic's serialiser, which the
    verifier never otherwise needs."""
    holder = card.holder
    return {
        "holder": (
            {"name": holder.name, "ssn": holder.ssn}
            if holder.document is DocumentType.RESIDENT_ID
            else holder.model_dump(mode="json")  # type: ignore[union-attr]
        ),
        "card_number": card.card_number,
        "region": card.region,
        "spec_version": card.spec_version,
        "issued": card.issued.isoformat(),
        "expires": card.expires.isoformat(),
        "status": _STATUS_JSON[card.status],
    }
