"""Time, one rule for the whole package: every instant is an aware ``datetime`` in UTC.

A naive ``datetime`` (no ``tzinfo``) is refused with a :class:`TypeError` at the call that
received it, never guessed to be UTC or local time: a card scanned in Beijing at 08:00 is
00:00 UTC, and a guess would move validity windows by eight hours.

>>> from datetime import datetime, timedelta, timezone
>>> utc(datetime(2026, 3, 1, 16, 0, tzinfo=timezone(timedelta(hours=8))))
datetime.datetime(2026, 3, 1, 8, 0, tzinfo=datetime.timezone.utc)
>>> utc(datetime(2026, 3, 1), "now")
Traceback (most recent call last):
    ...
TypeError: now must be timezone-aware (a naive datetime has no zone; pass tzinfo=datetime.UTC)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

#: A source of the current instant (aware); tests and batch jobs pass a fixed one.
Clock = Callable[[], datetime]


def utc(value: datetime, name: str = "datetime") -> datetime:
    """``value`` in UTC; :class:`TypeError` naming ``name`` if it is not an aware datetime."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError(
            f"{name} must be timezone-aware (a naive datetime has no zone; pass tzinfo=datetime.UTC)"
        )
    return value.astimezone(UTC)


def system_clock() -> datetime:
    """The system clock, in UTC."""
    return datetime.now(UTC)


def from_timestamp(seconds: int | float) -> datetime:
    """The aware UTC instant of a POSIX timestamp."""
    return datetime.fromtimestamp(seconds, UTC)


__all__ = ["Clock", "from_timestamp", "system_clock", "utc"]
