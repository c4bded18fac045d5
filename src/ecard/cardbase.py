"""The card's parts that need no pydantic: :class:`CardStatus`, card dates in China time, and
the limits of the compact claim.

Contract: importing this module loads neither pydantic nor any model; :mod:`ecard.card` (the
pydantic models) and the verifier's fast path (:mod:`ecard.cardrecord`) both take these
names from here, so a verifier that prints a card's JSON never builds a model class. Every
name is re-exported by :mod:`ecard.card`, where callers find them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Final

from ecard.errors import Lang

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

__all__ = ["CardStatus", "day_start", "day_start_timestamp"]

_UNIX_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


def day_start_timestamp(day: date) -> int:
    """Seconds since the Unix epoch at midnight starting ``day`` in China Standard Time."""
    return (day.toordinal() - _UNIX_EPOCH_ORDINAL) * 86400 - 8 * 3600


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in China Standard Time, as an aware UTC datetime."""
    return datetime.fromtimestamp(day_start_timestamp(day), UTC)


class CardStatus(IntEnum):
    """Status of a card. The compact claim holds the integer, JSON the lower-case name.

    Validation accepts a member, its integer value or its name (``"active"`` or ``"ACTIVE"``);
    JSON serialisation writes the lower-case name.
    """

    #: 正常: the card is in use.
    ACTIVE = 1
    #: 挂失/暂停: reported lost or temporarily suspended.
    SUSPENDED = 2
    #: 注销: cancelled for good.
    CANCELLED = 3

    def label(self, lang: Lang = "en") -> str:
        """Human-readable status in English (``"en"``) or Chinese (``"zh"``)."""
        return _STATUS_LABELS[self][1 if lang == "zh" else 0]

    @classmethod
    def parse(cls, value: object) -> CardStatus:
        """Return the member for a member, an int value (not a bool) or a name.

        Raises:
            ValueError: anything else.
        """
        if type(value) is int:
            member = _STATUS_BY_VALUE.get(value)
            if member is None:
                raise ValueError(f"unknown card status {value} (expected 1, 2 or 3)")
            return member
        if type(value) is cls:
            return value
        if type(value) is str:
            member = _STATUS_BY_NAME.get(value)
            if member is None:
                raise ValueError(
                    "unknown card status name (expected 'active', 'suspended' or 'cancelled')"
                )
            return member
        raise ValueError(f"card status must be an int or a name, not {type(value).__name__}")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Validate with :meth:`parse`; serialise to the lower-case name in JSON mode."""
        from pydantic_core import core_schema  # pydantic asks this only once it is loaded

        return core_schema.no_info_plain_validator_function(
            cls.parse,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _status_to_json, when_used="json"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """JSON Schema: one of the lower-case names."""
        return {"title": "CardStatus", "type": "string", "enum": [m.name.lower() for m in cls]}


def _status_to_json(status: CardStatus) -> str:
    """JSON form of a status: the lower-case member name."""
    return _STATUS_JSON[status]


#: Each status's JSON text (:func:`_status_to_json`), for the writers that build JSON by hand.
_STATUS_JSON: Final[dict[CardStatus, str]] = {m: m.name.lower() for m in CardStatus}
_STATUS_BY_VALUE: Final[dict[int, CardStatus]] = {m.value: m for m in CardStatus}
_STATUS_BY_NAME: Final[dict[str, CardStatus]] = {
    **{m.name.lower(): m for m in CardStatus},
    **{m.name: m for m in CardStatus},
}
_STATUS_LABELS: Final[dict[CardStatus, tuple[str, str]]] = {
    CardStatus.ACTIVE: ("active", "正常"),
    CardStatus.SUSPENDED: ("suspended", "挂失/暂停"),
    CardStatus.CANCELLED: ("cancelled", "注销"),
}


_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_MAX_DAYS: Final = date.max.toordinal() - _EPOCH_ORDINAL
_MIN_ISSUED: Final = date(1990, 1, 1)
_MAX_EXPIRES: Final = date(2199, 12, 31)
_COMPACT_ID_LIMIT: Final = 10**17
_SHORTEST_17: Final = 10**16


_SPEC_TEXT: Final[tuple[str, ...]] = tuple(f"{v // 100}.{v % 100:02d}" for v in range(1000))
