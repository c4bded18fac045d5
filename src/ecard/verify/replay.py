"""The replay cache and the counter's challenges, shared by every process of one counter PC.

A presentation is accepted once. The cache remembers, for as long as the presentation could
still be accepted (its ``iat`` plus the policy's window), one key per accepted presentation:
SHA-256 over its protected header and payload (:attr:`Presentation.replay_key`), never over the
text or the signature, so a re-signed copy (ECDSA ``s -> n - s``) is the same presentation. It
holds nothing else: no card, no name, no text (PIPL: only the replay hash, only for the window).

Challenges (the short code a counter shows and a holder types into the phone) live in the same
store: issued with an expiry, consumed at most once.

The store is SQLite (standard library) in WAL mode: several verifier processes on one PC
open the same file, and the insert-or-fail of a primary key is atomic across them, so two
processes scanning the same screenshot at the same instant accept it at most once.
``synchronous=NORMAL`` is enough in WAL mode: every commit is in the WAL before the insert
returns, so other processes see it at once and a crashed process loses nothing; only a power
cut or an OS crash can lose the last commits, and a PC that has just restarted has lost its
counter session too (the window is two minutes, and challenges are issued anew). The sqlite3
module keeps the prepared statements (its statement cache), so a scan costs one insert. With
no path the store is two dictionaries, private to one :class:`ReplayCache` (the same rules,
without SQLite's cost on every scan). Size is capped
(:data:`MAX_ENTRIES`): expired rows are dropped first; when the cap is still reached the cache
refuses to go on (``REPLAY_CACHE_UNUSABLE``) rather than forget a live presentation.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Final

from ecard.errors import ReplayCacheError

#: Most live entries (presentations and challenges) the cache keeps.
MAX_ENTRIES: Final = 100_000
#: Writes between two sweeps within the same second.
_SWEEP_EVERY: Final = 64
#: How long opening the shared file may wait for another process creating it, in seconds.
_OPEN_SECONDS: Final = 10.0
#: Digits of a counter challenge.
CHALLENGE_DIGITS: Final = 6

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS seen (key BLOB PRIMARY KEY, expires INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS challenges (code TEXT PRIMARY KEY, expires INTEGER NOT NULL)",
)


class ReplayCache:
    """Presentations already accepted and challenges outstanding, until they expire.

    ``path`` is the SQLite file every verifier process of the PC shares (created if missing);
    ``None`` keeps the cache in memory for this object only.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else os.fspath(path)
        self._lock = threading.Lock()
        self._swept_at = -1
        self._writes = 0
        #: The in-memory store (no path): key -> expiry, challenge -> expiry.
        self._seen: dict[bytes, int] | None = None
        self._challenges: dict[str, int] = {}
        if self.path is None:
            self._seen = {}
            return
        # Two counter processes starting at once may both find the file new: switching it to
        # WAL needs a moment alone with it, and SQLite answers "locked" at once there rather
        # than waiting its busy timeout, so opening is retried for up to _OPEN_SECONDS.
        deadline = time.monotonic() + _OPEN_SECONDS
        while True:
            try:
                self._db = self._open(self.path)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise ReplayCacheError(f"cannot open the replay cache: {exc}") from None
                time.sleep(0.02)
            except sqlite3.Error as exc:
                raise ReplayCacheError(f"cannot open the replay cache: {exc}") from None

    @staticmethod
    def _open(path: str) -> sqlite3.Connection:
        db = sqlite3.connect(
            path,
            timeout=10.0,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                db.execute(statement)
        except sqlite3.Error:
            db.close()
            raise
        return db

    def close(self) -> None:
        """Close the database connection (an in-memory store is dropped)."""
        if self._seen is None:
            self._db.close()
        else:
            self._seen.clear()
            self._challenges.clear()

    def _room(self, now: int) -> None:
        """Drop expired rows and check the cap: once per second of ``now`` or every
        :data:`_SWEEP_EVERY` writes, not on every scan (the cap is a bound, not a count)."""
        self._writes += 1
        if now == self._swept_at and self._writes < _SWEEP_EVERY:
            return
        self._swept_at, self._writes = now, 0
        seen = self._seen
        if seen is not None:
            for gone in [k for k, expires in seen.items() if expires <= now]:
                del seen[gone]
            challenges = self._challenges
            for code in [k for k, expires in challenges.items() if expires <= now]:
                del challenges[code]
            count = len(seen) + len(self._challenges)
            if count >= MAX_ENTRIES:
                raise ReplayCacheError(f"{count} live entries: the cache is full")
            return
        db = self._db
        db.execute("DELETE FROM seen WHERE expires <= ?", (now,))
        db.execute("DELETE FROM challenges WHERE expires <= ?", (now,))
        (count,) = db.execute(
            "SELECT (SELECT count(*) FROM seen) + (SELECT count(*) FROM challenges)"
        ).fetchone()
        if count >= MAX_ENTRIES:
            raise ReplayCacheError(f"{count} live entries: the cache is full")

    def record(self, key: bytes, *, expires: int, now: int) -> bool:
        """Remember ``key`` until ``expires`` (seconds since the epoch); ``False`` if it is
        already there and live (a replay), atomically across processes."""
        try:
            with self._lock:
                self._room(now)
                seen = self._seen
                if seen is not None:
                    key = bytes(key)
                    if seen.get(key, now) > now:
                        return False
                    seen[key] = expires
                    return True
                try:
                    self._db.execute("INSERT INTO seen VALUES (?, ?)", (bytes(key), expires))
                except sqlite3.IntegrityError:
                    return False
                return True
        except sqlite3.Error as exc:
            raise ReplayCacheError(f"cannot write the replay cache: {exc}") from None

    def issue_challenge(self, *, expires: int, now: int) -> str:
        """A fresh numeric challenge, outstanding until ``expires``."""
        import secrets  # here, not at start-up: most verifiers never ask a challenge

        try:
            with self._lock:
                self._room(now)
                while True:
                    code = f"{secrets.randbelow(10**CHALLENGE_DIGITS):0{CHALLENGE_DIGITS}d}"
                    if self._seen is not None:
                        if self._challenges.get(code, now) > now:
                            continue
                        self._challenges[code] = expires
                        return code
                    try:
                        self._db.execute("INSERT INTO challenges VALUES (?, ?)", (code, expires))
                    except sqlite3.IntegrityError:
                        continue
                    return code
        except sqlite3.Error as exc:
            raise ReplayCacheError(f"cannot write the replay cache: {exc}") from None

    def consume_challenge(self, code: str, *, now: int) -> bool:
        """Whether ``code`` was outstanding and live; it is not any more (at most one taker)."""
        try:
            with self._lock:
                if self._seen is not None:
                    return self._challenges.pop(code, now) > now
                cursor = self._db.execute(
                    "DELETE FROM challenges WHERE code = ? AND expires > ?", (code, now)
                )
                return cursor.rowcount == 1
        except sqlite3.Error as exc:
            raise ReplayCacheError(f"cannot write the replay cache: {exc}") from None

    def __repr__(self) -> str:
        return f"ReplayCache({self.path or ':memory:'})"


__all__ = ["CHALLENGE_DIGITS", "MAX_ENTRIES", "ReplayCache"]
