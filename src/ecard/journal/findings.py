"""What verifying a journal can find: the finding codes, a finding, and how the raw issues the
verification passes collect become findings (merged into ranges, each with its message).

Contract: every code but ``UNSIGNED_TAIL`` is an error; consecutive issues of one code and
detail are merged into one range; messages name ``seq`` numbers, kids and column names, never
a stored value that could identify a person.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final


class FindingCode(StrEnum):
    """What verification found. Every code but ``UNSIGNED_TAIL`` is an error."""

    #: A stored value is not in the format (type, hex, kind, time, operator, head columns).
    MALFORMED = "MALFORMED"
    #: The record's fields do not hash to its ``record_hash``: it was changed.
    ALTERED = "ALTERED"
    #: Records are missing: a gap in ``seq``, or records renumbered to close one.
    REMOVED = "REMOVED"
    #: A genuine record sits at another ``seq`` than the one it was written at.
    REORDERED = "REORDERED"
    #: A record that was not in the original chain (it took a moved record's place, or
    #: duplicates a ``seq``).
    INSERTED = "INSERTED"
    #: A record does not chain onto the one before: one of them was replaced and re-hashed.
    BROKEN_LINK = "BROKEN_LINK"
    #: Records after the journal's end are missing: a signed head names a later ``seq``.
    TRUNCATED = "TRUNCATED"
    #: A validly signed head disagrees with the record at its ``seq``: the chain was rewritten.
    HEAD_MISMATCH = "HEAD_MISMATCH"
    #: The columns of a head row disagree with what its signature covers.
    HEAD_ALTERED = "HEAD_ALTERED"
    #: A head's signature does not verify with the certificate of its ``kid``.
    BAD_HEAD_SIGNATURE = "BAD_HEAD_SIGNATURE"
    #: No certificate was given for a head's ``kid``: the head cannot be checked.
    UNKNOWN_HEAD_KEY = "UNKNOWN_HEAD_KEY"
    #: Warning: records after the last valid signed head; removing or rewriting them would not
    #: be detectable until a head covering them is signed.
    UNSIGNED_TAIL = "UNSIGNED_TAIL"


WARNINGS: Final = frozenset({FindingCode.UNSIGNED_TAIL})
_ORDER: Final = {code: n for n, code in enumerate(FindingCode)}
#: Codes about one signed head each: never merged into ranges.
_HEAD_CODES: Final = frozenset(
    {
        FindingCode.HEAD_MISMATCH,
        FindingCode.HEAD_ALTERED,
        FindingCode.BAD_HEAD_SIGNATURE,
        FindingCode.UNKNOWN_HEAD_KEY,
        FindingCode.TRUNCATED,
    }
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: its code, the first (and last, for a range) ``seq`` concerned, a message."""

    code: FindingCode
    seq: int | None
    last_seq: int | None
    message: str

    @property
    def severity(self) -> str:
        """``"error"`` or ``"warning"``."""
        return "warning" if self.code in WARNINGS else "error"

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready values."""
        return {
            "code": self.code.value,
            "severity": self.severity,
            "seq": self.seq,
            "last_seq": self.last_seq,
            "message": self.message,
        }


@dataclass
class Issue:
    """What a verification pass noticed, before merging: a code, the ``seq`` (range) and the
    detail its message needs (see :func:`describe`)."""

    code: FindingCode
    seq: int | None
    last: int | None
    data: tuple[Any, ...] = ()


def span(first: int | None, last: int | None) -> str:
    """``record 3``, ``records 3..5`` or ``a record`` (no ``seq`` known)."""
    if first is None:
        return "a record"
    if last is None or last == first:
        return f"record {first}"
    return f"records {first}..{last}"


def _plural(issue: Issue, one: str, many: str) -> str:
    return one if issue.last is None or issue.last == issue.seq else many


def describe(issue: Issue) -> str:
    """The message of a (merged) issue."""
    code, where = issue.code, span(issue.seq, issue.last)
    if code is FindingCode.MALFORMED:
        return f"{issue.data[0]}: {issue.data[1]}"
    if code is FindingCode.ALTERED:
        return f"{where}: the fields do not match the record_hash (changed after writing)"
    if code is FindingCode.REORDERED:
        delta = issue.data[0]
        first, last = (issue.seq or 0) - delta, (issue.last or issue.seq or 0) - delta
        was = span(first, last).replace("records", "seq").replace("record", "seq")
        verb = _plural(issue, "was", "were")
        return f"{where} {verb} written as {was}: moved (swapped or renumbered)"
    if code is FindingCode.REMOVED:
        tail = "; the records after them were renumbered to hide the gap" if issue.data else ""
        return f"{where} {_plural(issue, 'is', 'are')} missing{tail}"
    if code is FindingCode.INSERTED:
        if issue.data and issue.data[0] == "duplicate":
            return f"{where}: more than one record has this seq"
        return f"{where} took the place of a moved genuine record: inserted"
    if code is FindingCode.BROKEN_LINK:
        if issue.data:
            return f"{where} does not start from the zero hash: the chain's start was replaced"
        return (
            f"record {issue.last} does not chain onto record {issue.seq}: record {issue.seq} "
            f"was changed or replaced and its hash recomputed, or record {issue.last} was forged"
        )
    if code is FindingCode.TRUNCATED:
        return f"{where} {_plural(issue, 'is', 'are')} missing at the end: {issue.data[0]} covers seq {issue.last}"
    if code is FindingCode.HEAD_MISMATCH:
        return f"{issue.data[0]} does not match record {issue.seq}: the chain was rewritten"
    if code is FindingCode.UNSIGNED_TAIL:
        lead = "no valid signed head covers" if issue.data else "after the last valid signed head:"
        return (
            f"{lead} {where}: removing or rewriting {_plural(issue, 'it', 'them')} would "
            "go unnoticed until a head covering it is signed"
        )
    return f"{issue.data[0]}: {issue.data[1]}"  # head findings: (label, detail)


def merge(issues: list[Issue]) -> list[Issue]:
    """Sort (errors first, by ``seq``, then code) and merge consecutive issues of the same code
    and data into ranges. ``issues`` is sorted in place; the result holds copies."""
    issues.sort(
        key=lambda i: (
            i.code in WARNINGS,
            i.seq is None,
            i.seq or 0,
            _ORDER[i.code],
            repr(i.data),
        ),
    )
    merged: list[Issue] = []
    for issue in issues:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.code is issue.code
            and prev.data == issue.data
            and prev.seq is not None
            and issue.seq is not None
            and issue.seq <= (prev.last if prev.last is not None else prev.seq) + 1
            and issue.code not in _HEAD_CODES
        ):
            end = issue.last if issue.last is not None else issue.seq
            prev.last = max(prev.last if prev.last is not None else prev.seq, end)
            continue
        merged.append(dataclasses.replace(issue))
    return merged


def to_finding(issue: Issue) -> Finding:
    """The :class:`Finding` of a merged issue."""
    return Finding(
        issue.code, issue.seq, issue.last if issue.last != issue.seq else None, describe(issue)
    )


__all__ = [
    "WARNINGS",
    "Finding",
    "FindingCode",
    "Issue",
    "describe",
    "merge",
    "span",
    "to_finding",
]
