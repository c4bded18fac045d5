"""Bulk issuance: card records in, signed QR texts out, every card journaled once, resumable.

Contract:

* **Identity.** A row's credential id (``cti``) is derived from the row's identity, the holder
  and region within the batch: ``HMAC-SHA-256(key, "ecard-batch-cti/1" 0 batch 0 ssn 0
  region)`` truncated to 8 bytes, under the journal's pseudonym key; for a holder of another
  identity document than a (temporary) resident ID card, ``ssn`` is ``TYPE:NUMBER``, as in the
  holder's journal pseudonym (:func:`~ecard.journal.pseudonyms.holder_identity`). The same
  person and region in the same batch always get the same ``cti``; without the key it reveals
  nothing.
* **Exactly once.** The parent alone writes, in input order, chunk by chunk: the chunk's result
  lines go to ``RESULTS.partial`` (flushed and fsynced); then, every :data:`JOURNAL_CHUNKS`
  chunks, the cards of those chunks are appended to the journal in one transaction (once the
  last chunk is handed out, whatever is pending is appended whenever no result is waiting, so
  the last commit overlaps the last chunks' work). While the parent commits, a thread of its
  own keeps taking the workers' results (:class:`~ecard.batch.engines.Ahead`), so the workers
  are not left idle. A row whose ``cti`` the journal already holds is reported
  ``duplicate`` and its new signature discarded. Nothing is released before the end: only when
  every row is done is ``RESULTS.partial`` renamed to ``RESULTS`` (and the texts file written).
* **Resumption.** Started again on a ``RESULTS.partial``, the batch keeps the result lines whose
  cards the journal holds, cuts the file after the last of them (a chunk written but not
  journaled was never released), and carries on after that line: the rows before it are
  validated again (not signed) and must have the same identity, else the input changed and the
  batch stops (:class:`~ecard.errors.BadInputError`).
* **Bounded.** Rows are streamed; at most the engine's window of chunks is in flight.
* **Keys.** Workers open the signer from a :class:`~ecard.signing.keysource.KeySource` and read
  the pseudonym key from the environment variable the job names; neither is ever pickled.

A bad row is a result line ``{"line": N, "status": "invalid", "code": "BAD_INPUT", "reason":
...}``: the reason names the field and the rule, never a value.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Final

from cryptography import x509

from ecard.batch.engines import Ahead, Engine
from ecard.batch.rows import InputFormat, RawRow, parse_row, read_rows
from ecard.card import Card
from ecard.errors import BadInputError, ErrorCode
from ecard.journal.pseudonyms import (
    card_holder_pseudonym,
    holder_identity,
    holder_pseudonym,
    pseudonym_key_from_hex,
)
from ecard.journal.store import Journal
from ecard.signing.issuer import Issuer
from ecard.signing.keysource import KeySource, environment_value

#: The result file's format name (its first line).
FORMAT: Final = "ecard-batch/1"
#: Rows per chunk (one task, one journal transaction).
DEFAULT_CHUNK: Final = 2000
#: Chunks whose cards go into the journal in one transaction (their result lines are written
#: chunk by chunk, before): 25 chunks of 2000 rows, 50,000 records a commit.
JOURNAL_CHUNKS: Final = 25
#: The journal connection's page cache during a batch (KiB), enough for a group's dirty pages.
JOURNAL_CACHE_KIB: Final = 256 * 1024
#: Chunk results the parent takes ahead of its writer at most (:class:`Ahead`): the engine's
#: window on a few workers, and on a large cluster no more than this, about 15 MB of results
#: (there the writer, not the workers, sets the pace, and results queued past this would only
#: wait in memory).
AHEAD_CHUNKS: Final = 12
_CTI_CONTEXT: Final = b"ecard-batch-cti/1\x00"
_CTI_SIZE: Final = 8


def row_cti(key: bytes, batch: str, card: Card) -> bytes:
    """The credential id of ``card`` in ``batch`` (see the module docstring)."""
    number = holder_identity(card.holder.ssn, card.holder.document)
    message = b"\x00".join((_CTI_CONTEXT + batch.encode(), number, card.region.encode()))
    return hmac.digest(key, message, "sha256")[:_CTI_SIZE]


@dataclass(frozen=True)
class IssueJob:
    """What every worker needs to issue, as picklable data without secrets: where the key is,
    the signer certificate (DER), the batch name, the environment variable holding the
    journal's hex pseudonym key, the issuance time (Unix seconds) and the claims' options."""

    key: KeySource
    certificate: bytes
    batch: str
    pseudonym_key_env: str
    iat: int
    iss: str = "CN"
    validity_days: int | None = None
    #: Pixels per module of a PNG picture of each issued code (level Q), or ``None`` for none.
    png_scale: int | None = None

    def __post_init__(self) -> None:
        if not self.batch or len(self.batch) > 128 or not self.batch.isprintable():
            raise BadInputError("the batch name must be 1-128 printable characters")
        if self.png_scale is not None and not 1 <= self.png_scale <= 32:
            raise BadInputError("the picture scale must be 1..32 pixels per module")


@dataclass
class _Context:
    issuer: Issuer
    key: bytes


_CONTEXTS: dict[IssueJob, _Context] = {}


def _context(job: IssueJob) -> _Context:
    """The issuer and pseudonym key of ``job`` in this process, opened once (a signer, and an
    HSM session, per worker process)."""
    ctx = _CONTEXTS.get(job)
    if ctx is None:
        validity = None if job.validity_days is None else timedelta(days=job.validity_days)
        certificate = x509.load_der_x509_certificate(job.certificate)
        issuer = Issuer(job.key.open(), certificate, iss=job.iss, validity=validity)
        key = pseudonym_key_from_hex(environment_value(job.pseudonym_key_env))
        ctx = _CONTEXTS[job] = _Context(issuer, key)
    return ctx


#: One chunk: its rows, and the ``cti`` already recorded for rows of a resumed prefix.
Chunk = tuple[list[tuple[int, RawRow]], dict[int, str]]
#: A row's outcome from a worker: (status, line, cti, holder pseudonym, content hash, its
#: result line, its PNG picture or ``b""``); the result line and the picture are made in the
#: worker, the parent only writes them.
Outcome = tuple[str, int, str, str, str, bytes, bytes]


def issue_chunk(job: IssueJob, chunk: Chunk) -> list[Outcome]:
    """Validate and sign one chunk (what a worker runs); rows of a resumed prefix are only
    checked against the ``cti`` recorded for them."""
    ctx = _context(job)
    rows, expected = chunk
    iat = datetime.fromtimestamp(job.iat, UTC)
    out: list[Outcome] = []
    for line, raw in rows:
        card = parse_row(raw)
        if isinstance(card, str):
            out.append(("invalid", line, "", "", "", _invalid(line, card), b""))
            continue
        cti = row_cti(ctx.key, job.batch, card)
        if line in expected:
            status = "done" if expected[line] == cti.hex() else "changed"
            out.append((status, line, "", "", "", b"", b""))
            continue
        try:
            issued = ctx.issuer.issue(card, iat=iat, cti=cti)
        except BadInputError as exc:  # e.g. the card expired before the batch's time
            out.append(("invalid", line, "", "", "", _invalid(line, exc.detail), b""))
            continue
        content = hashlib.sha256(issued.cose).hexdigest()
        holder = card_holder_pseudonym(ctx.key, card.holder.ssn, card.holder.document)
        cid = cti.hex()
        result = _issued_line(line, cid, issued.text)
        picture = b"" if job.png_scale is None else issued.png(level="Q", scale=job.png_scale)
        out.append(("issued", line, cid, holder, content, result, picture))
    return out


def _issued_line(line: int, cid: str, text: str) -> bytes:
    """The result line of an issued row: the bytes :func:`_dump` writes for it, formatted
    directly (a hex ``cti`` and an ``EC1:`` text hold no character JSON escapes)."""
    return f'{{"line":{line},"status":"issued","cti":"{cid}","text":"{text}"}}\n'.encode()


#: An issued row's result line as :func:`_issued_line` writes it; the QR text is group 1.
_ISSUED_LINE: Final = re.compile(
    rb'\{"line":[0-9]+,"status":"issued","cti":"[0-9a-f]+","text":"(EC1:[0-9A-Z $%*+./:-]+)"\}\n'
)


def _invalid(line: int, reason: str) -> bytes:
    return _dump(
        {"line": line, "status": "invalid", "code": ErrorCode.BAD_INPUT.value, "reason": reason}
    )


@dataclass
class IssueSummary:
    """What a batch did: counts by outcome (``issued`` in this run, ``resumed`` done before)."""

    issued: int = 0
    invalid: int = 0
    duplicate: int = 0
    resumed: int = 0
    results: str = ""
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def all_valid(self) -> bool:
        """Whether no row was invalid."""
        return self.invalid == 0


def _dump(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _journaled(journal: Journal, ctis: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ctis), 500):
        part = ctis[start : start + 500]
        marks = ",".join("?" * len(part))
        rows = journal.connection.execute(
            "SELECT credential_id FROM journal_records "  # noqa: S608 - placeholders only
            f"WHERE kind = 'card' AND credential_id IN ({marks})",
            part,
        ).fetchall()
        found.update(r[0] for r in rows)
    return found


def _parse_lines(fh: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """``(offset after the line, parsed line)``; ``None`` for a torn or unreadable line."""
    offset = fh.tell()
    for raw in fh:
        offset += len(raw)
        try:
            yield offset, json.loads(raw) if raw.endswith(b"\n") else None
        except ValueError:
            yield offset, None


def _recover(partial: Path, journal: Journal, job: IssueJob) -> tuple[IssueJob, int]:
    """Cut ``partial`` after its last journaled line; the job as the batch began (its time) and
    the last input line done."""
    with open(partial, "r+b") as fh:
        header_line = fh.readline()
        try:
            header = json.loads(header_line)
            ok = header.get("format") == FORMAT and header.get("batch") == job.batch
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            raise BadInputError(f"{partial} is not the result file of batch {job.batch!r}")
        job = replace(job, iat=int(header["iat"]))
        keep, last_line = fh.tell(), 0
        group: list[tuple[int, dict[str, Any]]] = []

        def settle() -> bool:
            nonlocal keep, last_line
            ctis = [o["cti"] for _, o in group if o.get("status") == "issued"]
            found = _journaled(journal, ctis)
            for end, obj in group:
                if obj.get("status") == "issued" and obj.get("cti") not in found:
                    return False
                keep, last_line = end, int(obj["line"])
            group.clear()
            return True

        for end, obj in _parse_lines(fh):
            if obj is None or not isinstance(obj.get("line"), int):
                break
            group.append((end, obj))
            if len(group) >= 500 and not settle():
                break
        else:
            settle()
        if group:
            settle()
        fh.truncate(keep)
    return job, last_line


def _expected(partial: Path, upto: int) -> Iterator[tuple[int, str]]:
    """``(line, cti)`` of the issued and duplicate rows recorded in ``partial`` up to line
    ``upto``, in order."""
    with open(partial, "rb") as fh:
        fh.readline()
        for _, obj in _parse_lines(fh):
            if obj is None or obj["line"] > upto:
                return
            if obj.get("status") in ("issued", "duplicate"):
                yield obj["line"], obj["cti"]


def _chunks(
    rows: Iterable[tuple[int, RawRow]], size: int, expected: Iterator[tuple[int, str]]
) -> Iterator[Chunk]:
    pending = next(expected, None)
    batch: list[tuple[int, RawRow]] = []
    known: dict[int, str] = {}
    for line, raw in rows:
        while pending is not None and pending[0] <= line:
            if pending[0] == line:
                known[line] = pending[1]
            pending = next(expected, None)
        batch.append((line, raw))
        if len(batch) >= size:
            yield batch, known
            batch, known = [], {}
    if batch:
        yield batch, known


def _until_end(chunks: Iterator[Chunk], done: threading.Event) -> Iterator[Chunk]:
    """``chunks``, setting ``done`` once the last of them is taken."""
    yield from chunks
    done.set()


def _write_picture(folder: Path, cti: str, picture: bytes) -> None:
    """``folder/CTI.png``, whole or not at all (written aside, then renamed)."""
    tmp = folder / f".{cti}.png.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(picture)
    os.replace(tmp, folder / f"{cti}.png")


def _write_texts(results: Path, texts: Path) -> None:
    tmp = texts.with_name(f".{texts.name}.tmp")
    with open(results, "rb") as src, open(tmp, "wb") as out:
        src.readline()
        for raw in src:
            match = _ISSUED_LINE.fullmatch(raw)
            if match is not None:  # the common case, without a JSON parse
                out.write(match[1] + b"\n")
                continue
            try:
                obj = json.loads(raw) if raw.endswith(b"\n") else None
            except ValueError:
                obj = None
            if isinstance(obj, dict) and obj.get("status") == "issued":
                out.write(obj["text"].encode() + b"\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, texts)


def issue_batch(
    source: str | os.PathLike[str],
    fmt: InputFormat,
    results: str | os.PathLike[str],
    job: IssueJob,
    *,
    journal: Journal,
    operator: str,
    engine: Engine | None = None,
    texts: str | os.PathLike[str] | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
    png_dir: str | os.PathLike[str] | None = None,
) -> IssueSummary:
    """Issue every valid row of ``source`` (see the module docstring); the summary.

    ``results`` is the result file (JSON Lines, one line per row after a header line, mode
    0600: it holds the QR texts); ``texts`` optionally one QR text per line. ``progress`` is
    called with the number of rows each finished chunk held. ``journal`` must hold the pseudonym
    key the job's environment variable names.

    ``png_dir`` (an existing folder) receives a PNG picture of each issued code, ``CTI.png``
    (level Q, ``job.png_scale`` pixels per module, default 8), made by the workers and written,
    like the result lines, before the chunk is journaled: a picture whose chunk was not
    journaled when the batch was killed is replaced when the row is signed again on resumption.
    Pictures are slow (tens of milliseconds each, pure Python): ask for them where needed.
    """
    if not 1 <= chunk_size <= 100_000:
        raise BadInputError("the chunk size must be 1..100000")
    probe = "11010519491231002X"  # the journal's key and the workers' must be one key
    worker_key = pseudonym_key_from_hex(environment_value(job.pseudonym_key_env))
    if journal.pseudonym(probe) != holder_pseudonym(worker_key, probe):
        raise BadInputError(
            f"the key in {job.pseudonym_key_env} is not the journal's pseudonym key"
        )
    final = Path(results)
    partial = final.with_name(final.name + ".partial")
    if final.exists() and not partial.exists():
        raise BadInputError(f"{final} exists: that batch is complete (choose another result file)")
    last = 0
    if partial.exists() and partial.stat().st_size == 0:  # killed before its header was written
        partial.unlink()
    if partial.exists():
        job, last = _recover(partial, journal, job)
    else:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            kid = hashlib.sha256(job.certificate).digest()[:8].hex()
            fh.write(_dump({"format": FORMAT, "batch": job.batch, "iat": job.iat, "kid": kid}))
            fh.flush()
            os.fsync(fh.fileno())
    pictures = None if png_dir is None else Path(png_dir)
    if pictures is not None:
        if not pictures.is_dir():
            raise BadInputError(f"{pictures} is not a folder (create it first)")
        if job.png_scale is None:
            job = replace(job, png_scale=8)
    summary = IssueSummary(results=str(final))
    engine = engine or Engine(1)
    kid_bytes = hashlib.sha256(job.certificate).digest()[:8]
    rows = read_rows(source, fmt)
    chunks = _chunks(rows, chunk_size, _expected(partial, last))
    # Journal appends go in groups of chunks: past a few hundred thousand records each new
    # record dirties a page of each of the journal's three indexes (random keys), so the rows a
    # commit holds decide how many pages it writes; the page cache holds a group's dirty pages.
    group = JOURNAL_CHUNKS * chunk_size
    pending: list[tuple[str, str, bytes, bytes]] = []
    pending_ctis: set[str] = set()
    cache = journal.connection.execute("PRAGMA cache_size").fetchone()[0]
    journal.connection.execute(f"PRAGMA cache_size = -{JOURNAL_CACHE_KIB}")
    submitted = threading.Event()  # set once the last chunk is handed to the engine
    ahead = Ahead(
        engine.map(issue_chunk, job, _until_end(chunks, submitted)),
        min(engine.window, AHEAD_CHUNKS) if engine.concurrent else 0,
    )
    try:
        with ahead, open(partial, "ab") as out:
            for outcomes in ahead:
                fresh = [o[2] for o in outcomes if o[0] == "issued"]
                known = _journaled(journal, fresh) if fresh else set()
                lines: list[bytes] = []
                for status, line, cti, holder, content, result, picture in outcomes:
                    if line <= last:
                        if status == "changed":
                            raise BadInputError(
                                f"line {line}: the input differs from the one this batch "
                                "began with (another holder or region): resume with the same "
                                "input"
                            )
                        summary.resumed += status == "done"
                        summary.invalid += status == "invalid"  # reported in the first run
                        continue
                    if status == "invalid":
                        summary.invalid += 1
                        lines.append(result)
                    elif cti in known or cti in pending_ctis:
                        summary.duplicate += 1
                        lines.append(_dump({"line": line, "status": "duplicate", "cti": cti}))
                    else:
                        pending_ctis.add(cti)
                        summary.issued += 1
                        pending.append((cti, holder, kid_bytes, bytes.fromhex(content)))
                        lines.append(result)
                        if pictures is not None:
                            _write_picture(pictures, cti, picture)
                if lines:  # the result lines first, on disk, then the journal
                    out.write(b"".join(lines))
                    out.flush()
                    os.fsync(out.fileno())
                # A full group; or, with every chunk handed out, what is pending whenever the
                # writer would otherwise wait: the last commit then overlaps the last chunks.
                if len(pending) >= group or (
                    pending and submitted.is_set() and not ahead.waiting()
                ):
                    journal.append_card_entries(pending, operator=operator)
                    pending, pending_ctis = [], set()
                if progress is not None:
                    progress(len(outcomes))
        if pending:
            journal.append_card_entries(pending, operator=operator)
    finally:
        journal.connection.execute(f"PRAGMA cache_size = {int(cache)}")
    if texts is not None:
        _write_texts(partial, Path(texts))
    os.replace(partial, final)
    with contextlib.suppress(OSError):
        os.chmod(final, 0o600)
    return summary


__all__ = [
    "AHEAD_CHUNKS",
    "DEFAULT_CHUNK",
    "FORMAT",
    "JOURNAL_CACHE_KIB",
    "JOURNAL_CHUNKS",
    "Chunk",
    "IssueJob",
    "IssueSummary",
    "Outcome",
    "issue_batch",
    "issue_chunk",
    "row_cti",
]
