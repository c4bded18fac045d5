"""Bulk verification and audit: files of codes (or files to audit) over an engine, one JSON
line per input in input order, and the count of each outcome.

Contract: the parent loads the trust and lists once (checking and recording rollback state);
each worker loads the same :class:`~ecard.verify.loading.ListConfig` again *without* the state
file (a worker never writes state) and verifies as of the one time the parent fixed, so every
engine gives the same lines. A code's ``source`` is ``FILE:LINE`` (1-based; blank lines are
counted, not verified). Lines are read bounded (:data:`~ecard.batch.rows.MAX_LINE`); an
over-long line is verified as what it is (a bad code), never held whole. No private key is
reachable from here.

A line is byte for byte what ``ecard verify --json`` prints for the code, with ``"source"``
added last (:func:`result_line`; a valid resident card's line is written out directly, every
other result through ``to_dict``, and ``tests/test_batch.py`` holds both equal). A chunk comes
back as its lines joined and the count of each code: one string to pickle, not a tuple a code.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, TextIO

from ecard.batch.engines import Engine
from ecard.batch.rows import MAX_LINE
from ecard.errors import BadInputError, Lang
from ecard.verify.jsonline import quoted, valid_fields
from ecard.verify.loading import ListConfig, LoadedLists
from ecard.verify.verifier import VerificationResult, Verifier

#: Codes per chunk.
VERIFY_CHUNK: Final = 2000


@dataclass(frozen=True)
class VerifyJob:
    """What a verifying worker needs: the list configuration (paths), the time, the language."""

    config: ListConfig
    now: datetime
    lang: str = "en"


_LOADED: dict[ListConfig, LoadedLists] = {}


def _lists(config: ListConfig) -> LoadedLists:
    stateless = replace(config, state=None)
    loaded = _LOADED.get(stateless)
    if loaded is None:
        loaded = _LOADED[stateless] = stateless.load()
    return loaded


_VERIFIERS: dict[ListConfig, Verifier] = {}


def _verifier(config: ListConfig) -> Verifier:
    verifier = _VERIFIERS.get(config)
    if verifier is None:
        verifier = _VERIFIERS[config] = _lists(config).verifier(config.policy())
    return verifier


#: One JSON line, as ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` writes it,
#: with the encoder built once rather than per line.
_JSON_LINE: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def result_line(result: VerificationResult, lang: Lang, source: str) -> str:
    """The JSON line of ``result`` with its ``source``, without the line end: what
    ``ecard verify --json`` prints, plus ``"source"`` (see the module docstring)."""
    fields = valid_fields(result, lang)
    if fields is not None:
        return f'{{{fields},"source":{quoted(source)}}}'
    data = result.to_dict(lang)
    data["source"] = source
    return _JSON_LINE(data)


def verify_chunk(job: VerifyJob, chunk: list[tuple[str, str]]) -> tuple[dict[str, int], str]:
    """The count of each result code and the JSON lines (each ending in a line feed) of the
    ``(source, text)`` pairs, in order (what a worker runs)."""
    verifier = _verifier(job.config)
    lang: Lang = "zh" if job.lang == "zh" else "en"
    verify, now, line = verifier.verify, job.now, result_line
    counts: Counter[str] = Counter()
    out = []
    for source, text in chunk:
        result = verify(text, now=now)
        counts[result.code.value] += 1
        out.append(line(result, lang, source))
    out.append("")
    return dict(counts), "\n".join(out)


def code_lines(paths: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(FILE:LINE, text)`` for every non-blank line of the files, in order, bounded."""
    for path in paths:
        try:
            fh = open(path, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise BadInputError(f"cannot read {path!r}: {exc.strerror}") from None
        with fh:
            number = 0
            while raw := fh.readline(MAX_LINE + 1):
                number += 1
                if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                    while raw and not raw.endswith(b"\n"):
                        raw = fh.readline(MAX_LINE + 1)
                    yield f"{path}:{number}", "(line too long)"
                    continue
                text = raw.decode("utf-8", errors="replace")
                if text.strip():
                    yield f"{path}:{number}", text


def _chunked(items: Iterable[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def verify_batch(
    paths: Sequence[str],
    job: VerifyJob,
    out: TextIO,
    *,
    engine: Engine | None = None,
    chunk_size: int = VERIFY_CHUNK,
    progress: Callable[[int], None] | None = None,
) -> Counter[str]:
    """Verify every code in ``paths``, writing one JSON line per code to ``out`` in order; the
    count of each result code. The caller has loaded the lists once already (state, errors)."""
    counts: Counter[str] = Counter()
    engine = engine or Engine(1)
    for chunk_counts, lines in engine.map(
        verify_chunk, job, _chunked(code_lines(paths), chunk_size)
    ):
        out.write(lines)
        counts.update(chunk_counts)
        if progress is not None:
            progress(sum(chunk_counts.values()))
    out.flush()
    return counts


def audit_chunk(job: VerifyJob, chunk: list[str]) -> list[tuple[bool, str]]:
    """``(passed, JSON line)`` for every finding of every file in ``chunk`` (a worker runs it)."""
    from ecard.audit import audit

    lists = _lists(job.config)
    report = audit(
        chunk,
        trust=lists.trust,
        roots=lists.roots,
        crls=lists.crls,
        revocations=lists.revocations,
        now=job.now,
    )
    return [
        (f.passed, json.dumps(f.to_dict(), ensure_ascii=False, separators=(",", ":")))
        for f in report.findings
    ]


def audit_batch(
    paths: Sequence[str],
    job: VerifyJob,
    out: TextIO,
    *,
    engine: Engine | None = None,
    chunk_size: int = 8,
    progress: Callable[[int], None] | None = None,
) -> Counter[str]:
    """Audit every file, one JSON line per finding in order; counts of ``passed``/``failed``."""
    counts: Counter[str] = Counter()
    engine = engine or Engine(1)
    chunks = [list(paths[i : i + chunk_size]) for i in range(0, len(paths), chunk_size)]
    for findings, chunk in zip(engine.map(audit_chunk, job, chunks), chunks, strict=True):
        out.write("".join(line + "\n" for _, line in findings))
        counts.update("passed" if ok else "failed" for ok, _ in findings)
        if not findings:
            counts["failed"] += 1
        if progress is not None:
            progress(len(chunk))
    out.flush()
    return counts


__all__ = [
    "VERIFY_CHUNK",
    "VerifyJob",
    "audit_batch",
    "audit_chunk",
    "code_lines",
    "result_line",
    "verify_batch",
    "verify_chunk",
]
