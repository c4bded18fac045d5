"""The result of verifying a journal and its renderings: a text report for people (what
``ecard journal verify`` prints) and JSON-ready values.

Contract: a :class:`JournalReport` is ``ok`` unless an error finding exists or findings were
left off; at most :data:`MAX_FINDINGS` findings are listed, after merging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ecard.journal.findings import Finding, FindingCode, Issue, merge, to_finding

#: Most findings a report lists (consecutive ones are merged into ranges first).
MAX_FINDINGS: Final = 1000


@dataclass(frozen=True)
class JournalReport:
    """The result of verifying a journal. ``ok`` unless an error finding exists."""

    #: Number of record rows read.
    records: int
    #: Highest ``seq`` of the original chain that is accounted for (0 if empty).
    last_seq: int
    #: Signed heads examined (stored and external) and how many verified and matched.
    heads: int
    valid_heads: int
    #: Highest ``seq`` a valid, matching signed head covers (0 if none).
    signed_seq: int
    findings: tuple[Finding, ...]
    #: Findings left off past :data:`MAX_FINDINGS`.
    omitted: int = 0

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings that are errors."""
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings that are warnings."""
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        """True if no error was found (warnings allowed)."""
        return not self.errors and not self.omitted

    @property
    def first_bad_seq(self) -> int | None:
        """The lowest ``seq`` an error concerns (``None`` if none names one)."""
        seqs = [f.seq for f in self.errors if f.seq is not None]
        return min(seqs) if seqs else None

    def codes(self) -> set[FindingCode]:
        """The codes found (errors and warnings)."""
        return {f.code for f in self.findings}

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (what ``ecard journal verify --json`` prints)."""
        return {
            "ok": self.ok,
            "records": self.records,
            "last_seq": self.last_seq,
            "heads": self.heads,
            "valid_heads": self.valid_heads,
            "signed_seq": self.signed_seq,
            "first_bad_seq": self.first_bad_seq,
            "findings": [f.to_dict() for f in self.findings],
            "omitted": self.omitted,
        }

    def render(self) -> str:
        """A text report for people (what ``ecard journal verify`` prints)."""
        verdict = "OK" if self.ok else "FAILED"
        lines = [
            f"journal {verdict}: {self.records} record(s), last seq {self.last_seq}; "
            f"{self.valid_heads} of {self.heads} signed head(s) valid, "
            f"signed up to seq {self.signed_seq}"
        ]
        for f in self.findings:
            lines.append(f"  {f.severity:7} {f.code.value:18} {f.message}")
        if self.omitted:
            lines.append(f"  ... {self.omitted} more finding(s) left off")
        return "\n".join(lines)


def build_report(
    issues: list[Issue],
    *,
    records: int,
    last_seq: int,
    heads: int,
    valid_heads: int,
    signed_seq: int,
) -> JournalReport:
    """The report of the verification passes' ``issues`` (merged, capped at
    :data:`MAX_FINDINGS`) and counts."""
    merged = merge(issues)
    return JournalReport(
        records=records,
        last_seq=last_seq,
        heads=heads,
        valid_heads=valid_heads,
        signed_seq=signed_seq,
        findings=tuple(to_finding(i) for i in merged[:MAX_FINDINGS]),
        omitted=max(0, len(merged) - MAX_FINDINGS),
    )


__all__ = ["MAX_FINDINGS", "JournalReport", "build_report"]
