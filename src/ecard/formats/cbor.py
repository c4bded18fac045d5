"""Strict, deterministic CBOR (RFC 8949) for the credential's claims and COSE structures.

Writing follows the *core deterministic encoding* of RFC 8949 §4.2.1:

* every integer, length and tag argument in its shortest form;
* definite lengths only;
* map keys sorted by the bytewise lexicographic order of their encodings (so ``10`` sorts before
  ``100`` before ``-1`` before ``"z"`` before ``"aa"``).

Reading is deliberately strict; :func:`decode` raises :class:`~ecard.errors.BadCborError` (and
nothing else) for:

* empty input, truncated items, and trailing bytes after the single top-level item;
* indefinite lengths and break codes, and the reserved additional information values 28-30;
* arguments that are not in their shortest form. This is RFC 8949 "preferred serialization"
  (§4.1); every mainstream encoder writes it, and requiring it means one value has exactly one
  encoding on the wire;
* floating-point numbers and every simple value other than ``false``, ``true`` and ``null``
  (``undefined`` and ``simple(n)`` included);
* tags not explicitly allowed by the caller;
* map keys that are not integers, text strings or byte strings, and duplicate map keys;
* text strings that are not valid UTF-8;
* nesting deeper than ``max_depth``, more than ``max_items`` data items in total, and declared
  lengths larger than what the remaining input could possibly hold (checked before anything is
  allocated).

Map keys are **not** required to arrive in sorted order: independent encoders (``cwt``,
``pycose``) write maps in insertion order, and a verifier has to read them.

The profile has no floats, so :func:`encode` raises :class:`TypeError` for them.
"""

from __future__ import annotations

import struct
from operator import itemgetter
from typing import Any, NamedTuple

from ecard.errors import BadCborError, TruncatedCborError

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_ITEMS",
    "MAX_DEPTH_LIMIT",
    "Tag",
    "decode",
    "encode",
    "encode_head",
    "short_string_span",
]

#: Default nesting limit of :func:`decode` (arrays, maps and tags each add one level).
DEFAULT_MAX_DEPTH = 16
#: Default limit of :func:`decode` on the total number of data items.
DEFAULT_MAX_ITEMS = 4096
#: The largest ``max_depth`` :func:`decode` accepts and the deepest value :func:`encode` writes;
#: keeps the reader's and writer's recursion far from Python's own recursion limit.
MAX_DEPTH_LIMIT = 256

_UINT64_LIMIT = 1 << 64


class Tag(NamedTuple):
    """A tagged data item (major type 6): tag number ``tag`` applied to ``value``."""

    tag: int
    """The tag number, 0 .. 2**64 - 1."""
    value: Any
    """The tagged content."""


# --------------------------------------------------------------------------------------------
# Encoding


def encode_head(major: int, arg: int) -> bytes:
    """The shortest initial byte(s) (RFC 8949 §3) for ``major`` type with argument ``arg``
    (0 <= arg < 2**64): the one head encoder ecard has; writers of fast paths use it too."""
    mt = major << 5
    if arg < 24:
        return bytes((mt | arg,))
    if arg < 0x100:
        return bytes((mt | 24, arg))
    if arg < 0x10000:
        return _PACK_16(mt | 25, arg)
    if arg < 0x100000000:
        return _PACK_32(mt | 26, arg)
    return _PACK_64(mt | 27, arg)


def short_string_span(data: bytes, pos: int, major: int) -> tuple[int, int] | None:
    """``(start, end)`` of the byte (``major`` 2) or text (3) string whose head is at ``pos``,
    for the heads fast paths read: one or two bytes in shortest form (lengths below 256);
    ``None`` for any other head (the strict decoder then reads the item, or rejects it). The
    end is not checked against ``len(data)``; an index past the end raises ``IndexError``."""
    head = data[pos]
    base = major << 5
    if base <= head < base + 24:
        return pos + 1, pos + 1 + head - base
    if head == base + 24:
        n = data[pos + 1]
        if n < 24:  # not the shortest form: the strict decoder rejects it
            return None
        return pos + 2, pos + 2 + n
    return None


_PACK_16 = struct.Struct(">BH").pack
_PACK_32 = struct.Struct(">BI").pack
_PACK_64 = struct.Struct(">BQ").pack


# Heads for arguments below 256, by major type: _HEADS[major][arg].
_HEADS: tuple[tuple[bytes, ...], ...] = tuple(
    tuple(encode_head(major, arg) for arg in range(256)) for major in range(8)
)
_UINT_HEADS = _HEADS[0]
_BYTES_HEADS = _HEADS[2]
_TEXT_HEADS = _HEADS[3]
_FIRST = itemgetter(0)


def _encode_int(value: int) -> bytes:
    if value >= 0:
        if value < 256:
            return _UINT_HEADS[value]
        if value >= _UINT64_LIMIT:
            raise ValueError(f"integer {value} is out of the CBOR range -2**64 .. 2**64-1")
        return encode_head(0, value)
    arg = -1 - value
    if arg < 256:
        return _HEADS[1][arg]
    if arg >= _UINT64_LIMIT:
        raise ValueError(f"integer {value} is out of the CBOR range -2**64 .. 2**64-1")
    return encode_head(1, arg)


def _encode_text(value: str) -> bytes:
    raw = value.encode()
    n = len(raw)
    return (_TEXT_HEADS[n] if n < 256 else encode_head(3, n)) + raw


def _encode_bytes(value: bytes) -> bytes:
    n = len(value)
    return (_BYTES_HEADS[n] if n < 256 else encode_head(2, n)) + value


def _encode_key(key: Any) -> bytes:
    t = type(key)
    if t is int:
        return _encode_int(key)
    if t is str:
        return _encode_text(key)
    if t is bytes:
        return _encode_bytes(key)
    if isinstance(key, bool):
        raise TypeError("map keys must be int, str or bytes, not bool")
    if isinstance(key, int):
        return _encode_int(int(key))
    if isinstance(key, str):
        return _encode_text(str.__str__(key))
    if isinstance(key, bytes | memoryview):
        return _encode_bytes(bytes(key))
    raise TypeError(f"map keys must be int, str or bytes, not {type(key).__name__}")


def _encode_item(obj: Any, out: list[bytes], depth: int) -> None:
    """Append the encoding of ``obj`` to ``out``; ``depth`` counts the enclosing containers."""
    t = type(obj)
    if t is int:
        out.append(_encode_int(obj))
    elif t is str:
        out.append(_encode_text(obj))
    elif t is bytes:
        out.append(_encode_bytes(obj))
    elif t is dict:
        _encode_map(obj, out, depth)
    elif t is list or t is tuple:
        _encode_array(obj, out, depth)
    elif obj is None:
        out.append(b"\xf6")
    elif obj is True:
        out.append(b"\xf5")
    elif obj is False:
        out.append(b"\xf4")
    elif t is Tag:
        _encode_tag(obj, out, depth)
    # Subclasses (IntEnum, StrEnum...), other buffers, and what is not supported.
    elif isinstance(obj, bool):
        out.append(b"\xf5" if obj else b"\xf4")
    elif isinstance(obj, int):
        out.append(_encode_int(int(obj)))
    elif isinstance(obj, str):
        out.append(_encode_text(str.__str__(obj)))
    elif isinstance(obj, bytes | bytearray | memoryview):
        out.append(_encode_bytes(bytes(obj)))
    elif isinstance(obj, Tag):
        _encode_tag(obj, out, depth)
    elif isinstance(obj, dict):
        _encode_map(obj, out, depth)
    elif isinstance(obj, list | tuple):
        _encode_array(obj, out, depth)
    elif isinstance(obj, float):
        raise TypeError("floats are not part of the deterministic CBOR profile")
    else:
        raise TypeError(f"cannot encode {type(obj).__name__} as CBOR")


def _check_depth(depth: int) -> None:
    if depth >= MAX_DEPTH_LIMIT:
        raise ValueError(f"value nested deeper than {MAX_DEPTH_LIMIT} levels (cyclic?)")


def _encode_array(obj: list[Any] | tuple[Any, ...], out: list[bytes], depth: int) -> None:
    _check_depth(depth)
    depth += 1
    n = len(obj)
    append = out.append
    append(_HEADS[4][n] if n < 256 else encode_head(4, n))
    for value in obj:
        t = type(value)
        if t is int:
            append(_UINT_HEADS[value] if 0 <= value < 256 else _encode_int(value))
        elif t is str:
            append(_encode_text(value))
        else:
            _encode_item(value, out, depth)


def _encode_map(obj: dict[Any, Any], out: list[bytes], depth: int) -> None:
    _check_depth(depth)
    depth += 1
    n = len(obj)
    append = out.append
    append(_HEADS[5][n] if n < 256 else encode_head(5, n))
    pairs = [
        (_UINT_HEADS[k] if type(k) is int and 0 <= k < 256 else _encode_key(k), v)
        for k, v in obj.items()
    ]
    pairs.sort(key=_FIRST)
    previous = b""
    for key, value in pairs:
        if key == previous:
            raise ValueError("two map keys have the same encoding")
        previous = key
        append(key)
        t = type(value)
        if t is int:
            append(_UINT_HEADS[value] if 0 <= value < 256 else _encode_int(value))
        elif t is str:
            append(_encode_text(value))
        else:
            _encode_item(value, out, depth)


def _encode_tag(obj: Tag, out: list[bytes], depth: int) -> None:
    number = obj.tag
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError("tag numbers must be int")
    if not 0 <= number < _UINT64_LIMIT:
        raise ValueError(f"tag number {number} is out of range 0 .. 2**64-1")
    _check_depth(depth)
    out.append(encode_head(6, int(number)))
    _encode_item(obj.value, out, depth + 1)


def encode(obj: Any) -> bytes:
    """Encode ``obj`` as RFC 8949 §4.2.1 core deterministic CBOR.

    Supported: ``int`` (-2**64 .. 2**64-1), ``bytes``/``bytearray``/``memoryview``, ``str``,
    ``list``/``tuple`` (arrays), ``dict`` (maps with ``int``, ``str`` or ``bytes`` keys), ``bool``,
    ``None`` and :class:`Tag`. Integer and string subclasses (``IntEnum``, ``StrEnum``) encode as
    their base type.

    Raises:
        ValueError: an integer or tag number is out of range, a text string holds a lone
            surrogate, or the value nests deeper than :data:`MAX_DEPTH_LIMIT` levels.
        TypeError: a float, a map key of another type, or any other unsupported object.
    """
    out: list[bytes] = []
    _encode_item(obj, out, 0)
    return b"".join(out)


# --------------------------------------------------------------------------------------------
# Decoding


def decode(
    data: bytes | bytearray | memoryview,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_items: int = DEFAULT_MAX_ITEMS,
    allowed_tags: frozenset[int] = frozenset(),
) -> Any:
    """Decode exactly one CBOR data item from ``data`` under the strict profile.

    Returns ``int``, ``bytes``, ``str``, ``list``, ``dict``, ``bool``, ``None`` or :class:`Tag`
    (only for tag numbers in ``allowed_tags``).

    Args:
        data: the encoded item; ``bytes``, ``bytearray`` or ``memoryview``.
        max_depth: how deeply arrays, maps and tags may nest (a top-level array is depth 1);
            at most :data:`MAX_DEPTH_LIMIT`.
        max_items: the most data items (every key, value, element and tag counts) in total.
        allowed_tags: tag numbers that may appear; any other tag is an error.

    Raises:
        BadCborError: for anything outside the profile described in the module docstring.
        ValueError: ``max_depth`` or ``max_items`` is out of range (a programming error).
    """
    if type(data) is not bytes:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise BadCborError(f"expected bytes, got {type(data).__name__}")
        try:
            data = bytes(data)
        except (TypeError, ValueError, BufferError) as exc:  # e.g. a released memoryview
            raise BadCborError(f"unreadable buffer: {exc}") from None
    if not 0 <= max_depth <= MAX_DEPTH_LIMIT:
        raise ValueError(f"max_depth must be between 0 and {MAX_DEPTH_LIMIT}")
    if max_items < 1:
        raise ValueError("max_items must be at least 1")
    end = len(data)
    if end == 0:
        raise BadCborError("empty input")
    ib = data[0]
    try:
        if 0x80 <= ib < 0xB8 and not 0x98 <= ib < 0xA0 and max_depth:
            # Shortcut for the usual top level, an array or map with fewer than 24 entries.
            count = ib & 31
            is_map = ib >= 0xA0
            budget = max_items - 1 - (2 * count if is_map else count)
            if budget < 0:
                raise BadCborError("too many data items")
            value, pos, _ = _read(data, 1, end, count, is_map, 1, max_depth, budget, allowed_tags)
        else:
            items, pos, _ = _read(data, 0, end, 1, False, 0, max_depth, max_items - 1, allowed_tags)
            value = items[0]
    except RecursionError:  # pragma: no cover - depth is bounded by MAX_DEPTH_LIMIT
        raise BadCborError("nesting too deep") from None
    if pos != end:
        raise BadCborError(f"{end - pos} trailing byte(s) after the top-level item")
    return value


_U16 = struct.Struct(">H").unpack_from
_U32 = struct.Struct(">I").unpack_from
_U64 = struct.Struct(">Q").unpack_from
_KEY_TYPES = frozenset((int, str, bytes))


def _read(
    data: bytes,
    pos: int,
    end: int,
    count: int,
    is_map: bool,
    depth: int,
    max_depth: int,
    budget: int,
    tags: frozenset[int],
) -> tuple[Any, int, int]:
    """Read ``count`` items (``count`` key/value pairs if ``is_map``) starting at ``pos``.

    Returns (list or dict, next position, remaining item budget). ``depth`` is the nesting level
    of the items read here; ``budget`` is how many more data items containers may announce.
    Scalars are decoded inline; only arrays, maps and tags recurse, so one call per container.
    """
    items: list[Any] = []
    append = items.append
    for _ in range(2 * count if is_map else count):
        if pos >= end:
            raise TruncatedCborError("truncated: expected another data item", needed=pos + 1)
        ib = data[pos]
        pos += 1
        # Fast paths for the commonest items: small unsigned integers and short text strings.
        if ib < 0x18:
            append(ib)
            continue
        if 0x60 <= ib < 0x78:
            stop = pos + ib - 0x60
            if stop > end:
                raise TruncatedCborError(
                    "truncated: text string longer than the remaining input", needed=stop
                )
            try:
                append(data[pos:stop].decode())  # bytes.decode() is always UTF-8, strict
            except UnicodeDecodeError:
                raise BadCborError("text string is not valid UTF-8") from None
            pos = stop
            continue
        major = ib >> 5
        ai = ib & 31
        if ai < 24:
            arg = ai
        elif major == 7:
            if ai == 24:
                raise BadCborError("simple values other than false/true/null are not allowed")
            if ai < 28:
                raise BadCborError("floating-point numbers are not allowed")
            if ai == 31:
                raise BadCborError("unexpected break code")
            raise BadCborError(f"reserved additional information value {ai}")
        elif ai == 24:
            if pos >= end:
                raise TruncatedCborError("truncated argument", needed=end + 1)
            arg = data[pos]
            pos += 1
            if arg < 24:
                raise BadCborError("argument not in shortest form")
        elif ai == 25:
            if pos + 2 > end:
                raise TruncatedCborError("truncated argument", needed=end + 1)
            arg = _U16(data, pos)[0]
            pos += 2
            if arg < 0x100:
                raise BadCborError("argument not in shortest form")
        elif ai == 26:
            if pos + 4 > end:
                raise TruncatedCborError("truncated argument", needed=end + 1)
            arg = _U32(data, pos)[0]
            pos += 4
            if arg < 0x10000:
                raise BadCborError("argument not in shortest form")
        elif ai == 27:
            if pos + 8 > end:
                raise TruncatedCborError("truncated argument", needed=end + 1)
            arg = _U64(data, pos)[0]
            pos += 8
            if arg < 0x100000000:
                raise BadCborError("argument not in shortest form")
        elif ai == 31:
            raise BadCborError("indefinite lengths are not allowed")
        else:
            raise BadCborError(f"reserved additional information value {ai}")

        if major == 0:
            append(arg)
        elif major == 3:
            stop = pos + arg
            if stop > end:
                raise TruncatedCborError(
                    "truncated: text string longer than the remaining input", needed=stop
                )
            try:
                append(data[pos:stop].decode())
            except UnicodeDecodeError:
                raise BadCborError("text string is not valid UTF-8") from None
            pos = stop
        elif major == 2:
            stop = pos + arg
            if stop > end:
                raise TruncatedCborError(
                    "truncated: byte string longer than the remaining input", needed=stop
                )
            append(data[pos:stop])
            pos = stop
        elif major == 1:
            append(-1 - arg)
        elif major == 5 or major == 4:
            if major == 5:
                if arg > (end - pos) >> 1:  # every pair takes at least two bytes
                    raise TruncatedCborError(
                        "truncated: map longer than the remaining input", needed=pos + 2 * arg
                    )
                budget -= 2 * arg
            else:
                if arg > end - pos:  # every element takes at least one byte
                    raise TruncatedCborError(
                        "truncated: array longer than the remaining input", needed=pos + arg
                    )
                budget -= arg
            if budget < 0:
                raise BadCborError("too many data items")
            if depth >= max_depth:
                raise BadCborError(f"nested deeper than {max_depth} levels")
            value, pos, budget = _read(
                data, pos, end, arg, major == 5, depth + 1, max_depth, budget, tags
            )
            append(value)
        elif major == 6:
            if arg not in tags:
                raise BadCborError(f"tag {arg} is not allowed")
            budget -= 1
            if budget < 0:
                raise BadCborError("too many data items")
            if depth >= max_depth:
                raise BadCborError(f"nested deeper than {max_depth} levels")
            value, pos, budget = _read(data, pos, end, 1, False, depth + 1, max_depth, budget, tags)
            append(Tag(arg, value[0]))
        elif arg == 20:
            append(False)
        elif arg == 21:
            append(True)
        elif arg == 22:
            append(None)
        elif arg == 23:
            raise BadCborError("undefined is not allowed")
        else:
            raise BadCborError("simple values other than false/true/null are not allowed")
    if not is_map:
        return items, pos, budget
    keys = items[0::2]
    if not _KEY_TYPES.issuperset(map(type, keys)):
        raise BadCborError("map keys must be integers, text strings or byte strings")
    result = dict(zip(keys, items[1::2]))  # noqa: B905 - equal lengths
    if len(result) != count:
        raise BadCborError("duplicate map key")
    return result, pos, budget
