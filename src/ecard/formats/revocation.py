"""The revocation-list format: which credentials a verifier must refuse, offline, at scale.

A revocation list is a signed list (:mod:`ecard.formats.lists`) of type
:data:`~ecard.formats.lists.REVOCATION_LIST`. It names revoked credentials by
:func:`revocation_hash`, an 8-byte truncated SHA-256 over the document signer's ``kid`` and the
credential's ``cti``, so the list is per document signer and reveals neither kids nor credential
ids. Its body is one of::

    full list    {1: bstr}                       the hashes, concatenated, strictly increasing
    delta list   {1: bstr, 2: bstr, 3: uint}     hashes added, hashes removed, base sequence

A delta list turns the list with sequence ``base_sequence`` into the list with the delta's own
sequence; full lists and deltas share one sequence space. Unknown body keys are rejected.

:class:`RevocationSet` holds the hashes as one sorted ``array('Q')`` (8 bytes per entry: 10
million revoked credentials take 80 MB, plus a 1 MiB bucket index), looked up by binary
search. :func:`decode_revocation_body` parses a body, :func:`build_revocation_body` and
:func:`build_delta_body` write one, :func:`revocation_delta` computes a delta. :func:`entry_from_text` names the credential of a QR
text as the ``(kid, cti)`` pair a list is built from. No keys and no
trust here: the authenticated list (signature, signer's path, rollback) is
:class:`ecard.verify.revocation.RevocationList`; signing is :mod:`ecard.signing.revocation`.

A hash collision makes a valid credential look revoked with probability about ``n / 2**64`` per
lookup (5e-13 for 10 million entries); it can never make a revoked credential look valid.

>>> kid, cti = bytes(8), bytes(range(16))
>>> revoked = RevocationSet.from_hashes([revocation_hash(kid, cti)])
>>> revoked.is_revoked(kid, cti), revoked.is_revoked(b"\\x01" * 8, cti)
(True, False)
>>> RevocationSet.from_bytes(revoked.to_bytes()) == revoked
True
"""

from __future__ import annotations

import hashlib
import operator
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, Final, NamedTuple

from ecard.errors import BadInputError, BadListError
from ecard.formats import qrtext
from ecard.formats.cose import KID_SIZE, parse_sign1
from ecard.formats.cwt import MAX_CTI, MIN_CTI, decode_claims

HASH_SIZE: Final = 8
#: Domain separation prefix of :func:`revocation_hash`.
HASH_DOMAIN: Final = b"ecard-revocation-v1\x00"
#: Body keys of a revocation list.
BODY_HASHES: Final = 1
BODY_REMOVED: Final = 2
BODY_BASE_SEQUENCE: Final = 3

_FULL_KEYS: Final = frozenset({BODY_HASHES})
_DELTA_KEYS: Final = frozenset({BODY_HASHES, BODY_REMOVED, BODY_BASE_SEQUENCE})
_TYPECODE: Final = "Q"
_SWAP: Final = sys.byteorder == "little"
_CHUNK: Final = 1 << 20  # entries per chunk when streaming the set through a hash
_CONTENT_DOMAIN: Final = b"ecard-revocation-content-v1\x00"
_INDEX_TYPECODE: Final = "I"
_MAX_INDEX_BITS: Final = 18

_PREFIXES: Final = tuple(HASH_DOMAIN + bytes((n,)) for n in range(256))
_sha256: Final = hashlib.sha256

if array(_TYPECODE).itemsize != HASH_SIZE or array(_INDEX_TYPECODE).itemsize < 4:
    raise ImportError("array('Q') must hold 8-byte and array('I') 4-byte items")  # pragma: no cover


def revocation_hash(kid: bytes, cti: bytes) -> bytes:
    """The 8-byte revocation hash of credential ``cti`` signed by the document signer ``kid``.

    ``SHA-256(b"ecard-revocation-v1\\x00" || len(kid) as one byte || kid || cti)[:8]``. Binding
    ``kid`` makes entries per document signer: the same ``cti`` under another signer is a
    different entry. ``kid`` must be 1 to 255 bytes (:class:`ValueError` otherwise).

    >>> revocation_hash(bytes(8), bytes(8)).hex()
    '6c39f6dcfd2eee14'
    """
    n = len(kid)
    if not 0 < n < 256:
        raise ValueError("kid must be 1 to 255 bytes")
    return _sha256(_PREFIXES[n] + kid + cti).digest()[:HASH_SIZE]


def _hash_value(value: object) -> int:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"a revocation hash is bytes, not {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise ValueError(f"a revocation hash is {HASH_SIZE} bytes, not {len(value)}")
    return int.from_bytes(value, "big")


def _exact_array(n: int) -> array[int]:
    # array('Q', [0]) * n allocates exactly n items; frombytes/extend over-allocate by 1/16.
    return array(_TYPECODE, [0]) * n


def _strictly_increasing(values: array[int]) -> bool:
    # No bytecode per entry (map/islice/all run in C): about 0.1 s per million entries.
    return all(map(operator.lt, values, islice(values, 1, None)))


class RevocationSet:
    """An immutable set of revocation hashes: a sorted, duplicate-free ``array('Q')``.

    Each 8-byte hash is stored as the unsigned integer it encodes big-endian, so the order of
    the integers is the byte order of the hashes. A small index over the top bits of the values
    (at most 2**18 buckets, 1 MiB) narrows each lookup to a binary search over a few dozen
    entries. The set never changes after construction, so it can be shared between threads
    freely.

    Build one with :meth:`from_hashes` (any order, duplicates merged) or :meth:`from_bytes`
    (the wire form: concatenated hashes, strictly increasing).
    """

    __slots__ = ("_index", "_shift", "_values")

    _values: array[int]
    _index: array[int]
    _shift: int

    def __init__(self, hashes: Iterable[bytes] = ()) -> None:
        """The set of ``hashes`` (8-byte values, in any order, duplicates merged)."""
        self._setup(array(_TYPECODE, sorted({_hash_value(h) for h in hashes})))

    def _setup(self, values: array[int]) -> None:
        # A bucket index over the top ``bits`` bits of the values: bucket b spans
        # values[index[b]:index[b + 1]]. A lookup then bisects about 32 entries (a few cache
        # lines) instead of the whole array: on a 10-million-entry set every probe of a plain
        # binary search is a cache (and TLB) miss. 2**18 buckets take 1 MiB.
        n = len(values)
        bits = min(_MAX_INDEX_BITS, max(0, n.bit_length() - 5))
        shift = 64 - bits
        index = array(_INDEX_TYPECODE, [0]) * ((1 << bits) + 1)
        # Boundaries grow monotonically; hashes are uniform, so the next boundary is almost
        # always within two mean bucket sizes: bisect that window, else the rest.
        window = max(1, (2 * n) >> bits)
        lo = 0
        for b in range(1, 1 << bits):
            target = b << shift
            hi = lo + window
            if hi < n and values[hi] >= target:
                lo = bisect_left(values, target, lo, hi)
            else:
                lo = bisect_left(values, target, lo)
            index[b] = lo
        index[1 << bits] = n
        self._values, self._index, self._shift = values, index, shift

    @classmethod
    def _wrap(cls, values: array[int]) -> RevocationSet:
        new = cls.__new__(cls)
        new._setup(values)
        return new

    @classmethod
    def from_hashes(cls, hashes: Iterable[bytes]) -> RevocationSet:
        """The set of ``hashes`` (8-byte values, in any order, duplicates merged).

        :class:`TypeError` or :class:`ValueError` for an item that is not 8 bytes.
        """
        return cls(hashes)

    @classmethod
    def from_entries(cls, entries: Iterable[tuple[bytes, bytes]]) -> RevocationSet:
        """The set of the :func:`revocation_hash` of each ``(kid, cti)`` in ``entries``."""
        return cls(revocation_hash(kid, cti) for kid, cti in entries)

    @classmethod
    def from_bytes(cls, data: bytes, *, check: bool = True) -> RevocationSet:
        """Parse the wire form: 8-byte big-endian hashes, concatenated, strictly increasing.

        :class:`~ecard.errors.BadListError` if the length is not a multiple of 8 or (with
        ``check``, the default) the hashes are not strictly increasing (unsorted or
        duplicated). ``check=False`` skips the order check for data already authenticated and
        checked; a set built from unsorted data answers lookups wrongly.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise BadListError(f"revocation hashes must be bytes, not {type(data).__name__}")
        if len(data) % HASH_SIZE:
            raise BadListError(f"{len(data)} bytes of hashes is not a multiple of {HASH_SIZE}")
        values = _exact_array(len(data) // HASH_SIZE)
        with memoryview(values) as view, view.cast("B") as raw:
            raw[:] = data
        if _SWAP:
            values.byteswap()
        if check and not _strictly_increasing(values):
            raise BadListError("revocation hashes are not strictly increasing")
        return cls._wrap(values)

    def to_bytes(self) -> bytes:
        """The wire form: the hashes, big-endian, concatenated in increasing order."""
        if not _SWAP:  # pragma: no cover - big-endian hosts
            return self._values.tobytes()
        values = array(_TYPECODE, self._values)
        values.byteswap()
        return values.tobytes()

    def _chunks(self) -> Iterator[bytes]:
        values = self._values
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            if _SWAP:
                chunk.byteswap()
            yield chunk.tobytes()

    def digest(self) -> bytes:
        """SHA-256 identifying the content (domain-separated; streamed, no full copy)."""
        h = hashlib.sha256(_CONTENT_DOMAIN)
        for chunk in self._chunks():
            h.update(chunk)
        return h.digest()

    def is_revoked(self, kid: bytes, cti: bytes) -> bool:
        """Whether credential ``cti`` of document signer ``kid`` is in the set."""
        value = int.from_bytes(revocation_hash(kid, cti), "big")
        b = value >> self._shift
        hi = self._index[b + 1]
        i = bisect_left(self._values, value, self._index[b], hi)
        return i < hi and self._values[i] == value

    def __contains__(self, item: object) -> bool:
        """Whether the 8-byte hash ``item`` is in the set (:class:`TypeError` or
        :class:`ValueError` if ``item`` is not 8 bytes)."""
        if type(item) is bytes and len(item) == HASH_SIZE:
            value = int.from_bytes(item, "big")
        else:
            value = _hash_value(item)
        b = value >> self._shift
        hi = self._index[b + 1]
        i = bisect_left(self._values, value, self._index[b], hi)
        return i < hi and self._values[i] == value

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[bytes]:
        """The hashes, in increasing order."""
        for value in self._values:
            yield value.to_bytes(HASH_SIZE, "big")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RevocationSet):
            return NotImplemented
        return self._values == other._values

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RevocationSet({len(self._values)} hashes)"

    @property
    def nbytes(self) -> int:
        """Memory taken by the hashes (8 bytes per entry) and their lookup index."""
        return len(self._values) * HASH_SIZE + len(self._index) * self._index.itemsize

    def apply_delta(
        self,
        added: RevocationSet | Iterable[bytes] = (),
        removed: RevocationSet | Iterable[bytes] = (),
    ) -> RevocationSet:
        """A new set: this one with ``added`` inserted and ``removed`` taken out.

        Strict, so that a delta applied to the wrong base cannot go unnoticed:
        :class:`~ecard.errors.BadListError` if a hash of ``added`` is already in the set or a
        hash of ``removed`` is not. Costs one copy of the set plus ``O(k log n)`` for ``k``
        changes.
        """
        add = added if isinstance(added, RevocationSet) else RevocationSet(added)
        rem = removed if isinstance(removed, RevocationSet) else RevocationSet(removed)
        base = self._values
        n = len(base)
        # (position in base, 0 = insert before it / 1 = drop it, value)
        edits: list[tuple[int, int, int]] = []
        for value in rem._values:
            i = bisect_left(base, value)
            if i == n or base[i] != value:
                raise BadListError(f"delta removes {value:016x}, which is not in the list")
            edits.append((i, 1, value))
        for value in add._values:
            i = bisect_left(base, value)
            if i < n and base[i] == value:
                raise BadListError(f"delta adds {value:016x}, which is already in the list")
            edits.append((i, 0, value))
        if not edits:
            return self
        edits.sort()
        out = _exact_array(n + len(add) - len(rem))
        with memoryview(base) as src, memoryview(out) as dst:
            start = at = 0
            for pos, kind, value in edits:
                dst[at : at + pos - start] = src[start:pos]
                at += pos - start
                if kind == 0:
                    out[at] = value
                    at += 1
                    start = pos
                else:
                    start = pos + 1
            dst[at:] = src[start:]
        return RevocationSet._wrap(out)


class RevocationBody(NamedTuple):
    """A parsed revocation-list body: ``removed`` and ``base_sequence`` are ``None`` for a
    full list."""

    hashes: RevocationSet
    removed: RevocationSet | None = None
    base_sequence: int | None = None

    @property
    def is_delta(self) -> bool:
        """Whether this body is a delta onto the list with sequence ``base_sequence``."""
        return self.base_sequence is not None


def decode_revocation_body(body: Any, *, check: bool = True) -> RevocationBody:
    """Parse the body of a revocation list (full or delta); :class:`BadListError` unless it is
    well formed (exact keys, byte strings of whole hashes strictly increasing, a sequence)."""
    if type(body) is not dict:
        raise BadListError("revocation list body must be a map")
    keys = body.keys()
    if keys == _FULL_KEYS:
        return RevocationBody(_hashes(body[BODY_HASHES], "hashes", check))
    if keys == _DELTA_KEYS:
        base = body[BODY_BASE_SEQUENCE]
        if type(base) is not int or not 0 <= base < 2**63:
            raise BadListError("base sequence must be a non-negative integer")
        return RevocationBody(
            _hashes(body[BODY_HASHES], "added hashes", check),
            _hashes(body[BODY_REMOVED], "removed hashes", check),
            base,
        )
    raise BadListError("revocation list body must have the keys {1} or {1, 2, 3}")


def _hashes(value: object, what: str, check: bool) -> RevocationSet:
    if type(value) is not bytes:
        raise BadListError(f"{what} must be a byte string")
    try:
        return RevocationSet.from_bytes(value, check=check)
    except BadListError as exc:
        raise BadListError(f"{what}: {exc.detail}") from None


#: What names revoked credentials: ``(kid, cti)`` pairs, or a ready :class:`RevocationSet`.
Entries = Iterable[tuple[bytes, bytes]] | RevocationSet


def entry_hash(kid: bytes, cti: bytes) -> bytes:
    """:func:`revocation_hash` of one credential, after checking the inputs have the sizes
    ecard credentials use (``kid`` 8 bytes, ``cti`` 8 to 64 bytes); otherwise
    :class:`~ecard.errors.BadInputError`."""
    if type(kid) is not bytes or len(kid) != KID_SIZE:
        raise BadInputError(f"kid must be {KID_SIZE} bytes")
    if type(cti) is not bytes or not MIN_CTI <= len(cti) <= MAX_CTI:
        raise BadInputError(f"cti must be {MIN_CTI} to {MAX_CTI} bytes")
    return revocation_hash(kid, cti)


def entry_set(entries: Entries) -> RevocationSet:
    """A :class:`RevocationSet` of ``(kid, cti)`` pairs (checked by :func:`entry_hash`); a
    :class:`RevocationSet` is returned as is."""
    if isinstance(entries, RevocationSet):
        return entries
    return RevocationSet.from_hashes(entry_hash(kid, cti) for kid, cti in entries)


def entry_from_text(text: str) -> tuple[bytes, bytes]:
    """The ``(kid, cti)`` naming the credential of a QR text (surrounding whitespace ignored),
    checked as :func:`entry_hash` does.

    The text is read with the strict parsers (``EC1:`` text, COSE_Sign1, CWT claims with the
    card), so anything that is not a card is refused with the error of the stage it fails:
    :class:`~ecard.errors.BadPrefixError`, :class:`~ecard.errors.BadBase45Error`,
    :class:`~ecard.errors.BadCompressionError`, :class:`~ecard.errors.BadCborError`,
    :class:`~ecard.errors.BadCoseError` or :class:`~ecard.errors.BadClaimsError`. The
    signature is not checked: revoking names a credential, it does not trust it.
    """
    msg = parse_sign1(qrtext.decode(text.strip()))
    entry = (msg.kid, decode_claims(msg.payload).cti)
    entry_hash(*entry)
    return entry


def entry_from_hex(pair: str) -> tuple[bytes, bytes]:
    """The ``(kid, cti)`` written as ``KID:CTI`` in hex; :class:`~ecard.errors.BadInputError`
    if it is not that form (the sizes are checked by :func:`entry_hash` when used)."""
    kid, sep, cti = pair.partition(":")
    try:
        if not sep:
            raise ValueError
        return bytes.fromhex(kid), bytes.fromhex(cti)
    except ValueError:
        raise BadInputError(f"--entry takes KID:CTI in hex, not {pair!r}") from None


def _as_set(hashes: RevocationSet | Iterable[bytes]) -> RevocationSet:
    return hashes if isinstance(hashes, RevocationSet) else RevocationSet.from_hashes(hashes)


def build_revocation_body(hashes: RevocationSet | Iterable[bytes]) -> dict[int, Any]:
    """The body of a full revocation list: ``{1: concatenated sorted hashes}``."""
    return {BODY_HASHES: _as_set(hashes).to_bytes()}


def build_delta_body(
    added: RevocationSet | Iterable[bytes],
    removed: RevocationSet | Iterable[bytes],
    base_sequence: int,
) -> dict[int, Any]:
    """The body of a delta list: ``{1: added, 2: removed, 3: base_sequence}``."""
    if type(base_sequence) is not int or not 0 <= base_sequence < 2**63:
        raise BadInputError("base_sequence must be a non-negative integer")
    add, rem = _as_set(added), _as_set(removed)
    both = [h for h in add if h in rem] if len(add) <= len(rem) else [h for h in rem if h in add]
    if both:
        raise BadInputError(f"{len(both)} hash(es) both added and removed")
    return {
        BODY_HASHES: add.to_bytes(),
        BODY_REMOVED: rem.to_bytes(),
        BODY_BASE_SEQUENCE: base_sequence,
    }


def revocation_delta(old: RevocationSet, new: RevocationSet) -> tuple[RevocationSet, RevocationSet]:
    """``(added, removed)`` turning ``old`` into ``new``."""
    added: list[bytes] = []
    removed: list[bytes] = []
    a, b = iter(old), iter(new)
    x, y = next(a, None), next(b, None)
    while True:
        if x is None:
            if y is None:
                break
            added.append(y)
            y = next(b, None)
        elif y is None or x < y:
            removed.append(x)
            x = next(a, None)
        elif y < x:
            added.append(y)
            y = next(b, None)
        else:
            x, y = next(a, None), next(b, None)
    return RevocationSet.from_hashes(added), RevocationSet.from_hashes(removed)
