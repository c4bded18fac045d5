"""Strict deterministic CBOR: RFC 8949 vectors, every rejection rule, round trips, cbor2 interop."""

from __future__ import annotations

import contextlib
import tracemalloc
from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecard.errors import BadCborError
from ecard.formats import cbor
from ecard.formats.cbor import Tag

# --------------------------------------------------------------------------------------------
# helpers


def same(a: Any, b: Any) -> bool:
    """Equality that also compares types (so True != 1, b"" != "", [..] != (..))."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, Tag):
        return a.tag == b.tag and same(a.value, b.value)
    return bool(a == b)


def from_cbor2(value: Any) -> Any:
    """cbor2's decoded form, with CBORTag turned into our Tag."""
    if isinstance(value, cbor2.CBORTag):
        return Tag(value.tag, from_cbor2(value.value))
    if isinstance(value, list):
        return [from_cbor2(v) for v in value]
    if isinstance(value, dict):
        return {k: from_cbor2(v) for k, v in value.items()}
    return value


def to_cbor2(value: Any) -> Any:
    if isinstance(value, Tag):
        return cbor2.CBORTag(value.tag, to_cbor2(value.value))
    if isinstance(value, list):
        return [to_cbor2(v) for v in value]
    if isinstance(value, dict):
        return {k: to_cbor2(v) for k, v in value.items()}
    return value


def rejects(hex_data: str, **kwargs: Any) -> BadCborError:
    with pytest.raises(BadCborError) as info:
        cbor.decode(bytes.fromhex(hex_data), **kwargs)
    return info.value


# --------------------------------------------------------------------------------------------
# RFC 8949 Appendix A, the examples inside our profile

APPENDIX_A: list[tuple[Any, str]] = [
    (0, "00"),
    (1, "01"),
    (10, "0a"),
    (23, "17"),
    (24, "1818"),
    (25, "1819"),
    (100, "1864"),
    (1000, "1903e8"),
    (1000000, "1a000f4240"),
    (1000000000000, "1b000000e8d4a51000"),
    (18446744073709551615, "1bffffffffffffffff"),
    (-18446744073709551616, "3bffffffffffffffff"),
    (-1, "20"),
    (-10, "29"),
    (-100, "3863"),
    (-1000, "3903e7"),
    (False, "f4"),
    (True, "f5"),
    (None, "f6"),
    (b"", "40"),
    (b"\x01\x02\x03\x04", "4401020304"),
    ("", "60"),
    ("a", "6161"),
    ("IETF", "6449455446"),
    ('"\\', "62225c"),
    ("\u00fc", "62c3bc"),
    ("\u6c34", "63e6b0b4"),
    ("\U00010151", "64f0908591"),
    ([], "80"),
    ([1, 2, 3], "83010203"),
    ([1, [2, 3], [4, 5]], "8301820203820405"),
    (list(range(1, 26)), "98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
    ({}, "a0"),
    ({1: 2, 3: 4}, "a201020304"),
    ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
    (["a", {"b": "c"}], "826161a161626163"),
    (
        {"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"},
        "a56161614161626142616361436164614461656145",
    ),
]


@pytest.mark.parametrize(("value", "hex_data"), APPENDIX_A)
def test_appendix_a_encode(value: Any, hex_data: str) -> None:
    assert cbor.encode(value).hex() == hex_data


@pytest.mark.parametrize(("value", "hex_data"), APPENDIX_A)
def test_appendix_a_decode(value: Any, hex_data: str) -> None:
    assert same(cbor.decode(bytes.fromhex(hex_data)), value)


APPENDIX_A_TAGS: list[tuple[Tag, str]] = [
    (Tag(0, "2013-03-21T20:04:00Z"), "c074323031332d30332d32315432303a30343a30305a"),
    (Tag(1, 1363896240), "c11a514b67b0"),
    (Tag(23, b"\x01\x02\x03\x04"), "d74401020304"),
    (Tag(24, b"dIETF"), "d818456449455446"),
    (Tag(32, "http://www.example.com"), "d82076687474703a2f2f7777772e6578616d706c652e636f6d"),
    (Tag(2, b"\x01" + bytes(8)), "c249010000000000000000"),  # bignum 2**64, only as a Tag
]


@pytest.mark.parametrize(("value", "hex_data"), APPENDIX_A_TAGS)
def test_appendix_a_tags(value: Tag, hex_data: str) -> None:
    assert cbor.encode(value).hex() == hex_data
    assert same(cbor.decode(bytes.fromhex(hex_data), allowed_tags=frozenset({value.tag})), value)
    # ... and a tag is refused unless explicitly allowed
    assert "tag" in rejects(hex_data).detail


@pytest.mark.parametrize(
    "hex_data",
    [
        # floats
        "f90000", "f98000", "f93c00", "fb3ff199999999999a", "f93e00", "f97bff", "fa47c35000",
        "fa7f7fffff", "fb7e37e43c8800759c", "f90001", "f90400", "f9c400", "fbc010666666666666",
        "f97c00", "f97e00", "f9fc00", "fa7f800000", "fa7fc00000", "faff800000",
        "fb7ff0000000000000", "fb7ff8000000000000", "fbfff0000000000000",
        # undefined and simple values
        "f7", "f0", "f8ff",
        # tag over a float
        "c1fb41d452d9ec200000",
        # indefinite lengths
        "5f42010243030405ff", "7f657374726561646d696e67ff", "9fff", "9f018202039f0405ffff",
        "9f01820203820405ff", "83018202039f0405ff", "83019f0203ff820405",
        "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff",
        "bf61610161629f0203ffff", "826161bf61626163ff", "bf6346756ef563416d7421ff",
    ],
)  # fmt: skip
def test_appendix_a_outside_the_profile(hex_data: str) -> None:
    rejects(hex_data, allowed_tags=frozenset({1}))


def test_bignums_are_out_of_range_for_encode() -> None:
    with pytest.raises(
        ValueError, match="integer 18446744073709551616 is out of the CBOR range -2"
    ):
        cbor.encode(2**64)
    with pytest.raises(
        ValueError, match="integer -18446744073709551617 is out of the CBOR range -2"
    ):
        cbor.encode(-(2**64) - 1)
    assert cbor.encode(-(2**64)).hex() == "3bffffffffffffffff"


# --------------------------------------------------------------------------------------------
# deterministic encoding (RFC 8949 §4.2.1)


def test_rfc_8949_key_order_example() -> None:
    # §4.2.1 lists these keys in their deterministic order. Our maps only take int/str/bytes
    # keys, so check the rule on the encodings of all eight values, then on a real map.
    ordered: list[Any] = [10, 100, -1, "z", "aa", [100], [-1], False]
    encodings = [cbor.encode(v) for v in ordered]
    assert [e.hex() for e in encodings] == [
        "0a", "1864", "20", "617a", "626161", "811864", "8120", "f4",
    ]  # fmt: skip
    assert sorted(encodings) == encodings
    shuffled = {"aa": 5, -1: 3, "z": 4, 100: 2, 10: 1}
    assert cbor.encode(shuffled).hex() == "a5" + "0a01" + "186402" + "2003" + "617a04" + "62616105"


def test_bytewise_not_length_first() -> None:
    # RFC 7049 "canonical" would sort -1 (1 byte) before 100 (2 bytes); RFC 8949 does not.
    assert cbor.encode({-1: 0, 100: 0}).hex() == "a21864002000"
    # byte string keys (major 2) sort before text keys (major 3) of the same length
    assert cbor.encode({"a": 1, b"a": 2}).hex() == "a2416102616101"


def test_insertion_order_does_not_matter() -> None:
    a = {"iss": "CN", 1: b"x", -7: [1, {3: 4, 2: 5}], b"k": None}
    b = dict(reversed(list(a.items())))
    assert list(a) != list(b)
    assert cbor.encode(a) == cbor.encode(b)


def test_shortest_arguments_on_every_boundary() -> None:
    cases = {
        23: "17", 24: "1818", 255: "18ff", 256: "190100", 65535: "19ffff", 65536: "1a00010000",
        2**32 - 1: "1affffffff", 2**32: "1b0000000100000000",
        -24: "37", -25: "3818", -256: "38ff", -257: "390100",
    }  # fmt: skip
    for value, hex_data in cases.items():
        assert cbor.encode(value).hex() == hex_data
        assert cbor.decode(bytes.fromhex(hex_data)) == value
    assert cbor.encode("x" * 24)[:2].hex() == "7818"
    assert cbor.encode(b"x" * 256)[:3].hex() == "590100"
    assert cbor.encode([0] * 24)[:2].hex() == "9818"
    assert cbor.encode({i: 0 for i in range(24)})[:2].hex() == "b818"


def test_encode_accepts_tuples_buffers_and_enums() -> None:
    from enum import IntEnum, StrEnum

    class Alg(IntEnum):
        ES256 = -7

    class Kind(StrEnum):
        A = "a"

    assert cbor.encode((1, 2)) == cbor.encode([1, 2])
    assert cbor.encode(bytearray(b"ab")) == cbor.encode(memoryview(b"ab")) == cbor.encode(b"ab")
    assert cbor.encode({Alg.ES256: Kind.A}) == cbor.encode({-7: "a"})
    assert cbor.encode([Alg.ES256, Kind.A]) == cbor.encode([-7, "a"])


@pytest.mark.parametrize(
    ("value", "why"),
    [(1.0, "floats"), (float("nan"), "floats"), ([0.5], "floats"), ({1: 2.5}, "floats"),
     ({1.0: 1}, "map keys .* not float"), ({True: 1}, "map keys .* not bool"),
     ({None: 1}, "map keys .* not NoneType"), ({(1,): 2}, "map keys .* not tuple"),
     ({1, 2}, "cannot encode set"), (object(), "cannot encode object"),
     (complex(1, 2), "cannot encode complex"), (Tag(1.0, 1), "tag numbers must be int"),
     (Tag(True, 1), "tag numbers must be int")],
)  # fmt: skip
def test_encode_rejects_unsupported_types(value: Any, why: str) -> None:
    with pytest.raises(TypeError, match=why):
        cbor.encode(value)


def test_encode_rejects_bad_tag_numbers_and_surrogates_and_cycles() -> None:
    with pytest.raises(ValueError, match="tag number -1 is out of range 0"):
        cbor.encode(Tag(-1, 0))
    with pytest.raises(ValueError, match="tag number 18446744073709551616 is out of range 0"):
        cbor.encode(Tag(2**64, 0))
    with pytest.raises(ValueError):
        cbor.encode("\ud800")
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="value nested deeper than 256 levels"):
        cbor.encode(cyclic)


# --------------------------------------------------------------------------------------------
# every rejection rule, one minimal input each


@pytest.mark.parametrize(
    ("hex_data", "why"),
    [
        ("", "empty input"),
        ("18", "truncated argument"),
        ("19ff", "truncated argument"),
        ("1a000100", "truncated argument"),
        ("1b00000001000000", "truncated argument"),
        ("6261", "truncated text"),
        ("4201", "truncated bytes"),
        ("8201", "truncated array"),
        ("a101", "truncated map"),
        ("a2010203", "truncated map"),
        ("c1", "truncated tag"),
        ("0102", "trailing byte"),
        ("8000", "trailing byte"),
        ("a0a0", "trailing byte"),
        ("5fff", "indefinite bytes"),
        ("7fff", "indefinite text"),
        ("9fff", "indefinite array"),
        ("bfff", "indefinite map"),
        ("ff", "break"),
        ("81ff", "break in array"),
        ("1f", "ai 31 on uint"),
        ("3f", "ai 31 on negint"),
        ("df00", "ai 31 on tag"),
        ("1800", "non-shortest uint8"),
        ("1817", "non-shortest uint8"),
        ("1900ff", "non-shortest uint16"),
        ("1a0000ffff", "non-shortest uint32"),
        ("1b00000000ffffffff", "non-shortest uint64"),
        ("3800", "non-shortest negint"),
        ("5800", "non-shortest bytes length"),
        ("780161", "non-shortest text length"),
        ("9800", "non-shortest array length"),
        ("b800", "non-shortest map length"),
        ("d80100", "non-shortest tag number"),
        ("f90000", "half float"),
        ("fa00000000", "single float"),
        ("fb0000000000000000", "double float"),
        ("f7", "undefined"),
        ("e0", "simple(0)"),
        ("f3", "simple(19)"),
        ("f820", "simple(32)"),
        ("f818", "two-byte simple below 32"),
        ("c000", "tag not allowed"),
        ("d820", "tag not allowed, truncated"),
        ("a1f401", "false as key"),
        ("a1f601", "null as key"),
        ("a18001", "array as key"),
        ("a1a001", "map as key"),
        ("a1c10001", "tag as key"),
        ("a2010101 02", "duplicate int key"),
        ("a2616101616102", "duplicate text key"),
        ("a2416101416102", "duplicate bytes key"),
        ("a2200020 00", "duplicate negative key"),
        ("a3010002000100", "duplicate key, not adjacent"),
        ("62c328", "invalid UTF-8"),
        ("62c080", "overlong UTF-8"),
        ("63eda080", "UTF-8 surrogate"),
        ("61ff", "invalid UTF-8 byte"),
        ("64f4908080", "code point above U+10FFFF"),
    ],
)
def test_rejection_rules(hex_data: str, why: str) -> None:
    rejects(hex_data.replace(" ", ""), allowed_tags=frozenset({1}))


@pytest.mark.parametrize("major", range(8))
@pytest.mark.parametrize("ai", [28, 29, 30])
def test_reserved_additional_information(major: int, ai: int) -> None:
    data = bytes([major << 5 | ai]) + bytes(8)
    with pytest.raises(BadCborError, match="reserved"):
        cbor.decode(data, allowed_tags=frozenset(range(64)))


def test_keys_need_not_be_sorted_on_input() -> None:
    # insertion order as cwt / pycose write it: -1 before 1, "b" before "a"
    assert same(cbor.decode(bytes.fromhex("a420000100616200616100")), {-1: 0, 1: 0, "b": 0, "a": 0})
    # same spelling in different major types is not a duplicate
    assert cbor.decode(bytes.fromhex("a2416100616100")) == {b"a": 0, "a": 0}


def test_depth_limit() -> None:
    ok = b"\x81" * 16 + b"\x00"
    too_deep = b"\x81" * 17 + b"\x00"
    assert cbor.decode(ok) is not None
    with pytest.raises(BadCborError, match="deeper"):
        cbor.decode(too_deep)
    assert cbor.decode(too_deep, max_depth=17) is not None
    with pytest.raises(BadCborError, match="deeper"):
        cbor.decode(b"\x80", max_depth=0)
    assert cbor.decode(b"\x00", max_depth=0) == 0
    # maps and tags count too
    with pytest.raises(BadCborError, match="deeper"):
        cbor.decode(b"\xa1\x00" * 3 + b"\x00", max_depth=2)
    with pytest.raises(BadCborError, match="deeper"):
        cbor.decode(b"\xc1" * 3 + b"\x00", max_depth=2, allowed_tags=frozenset({1}))


@pytest.mark.parametrize("prefix", [b"\x81", b"\xa1\x00", b"\xc1", b"\x82\x00"])
def test_ten_thousand_levels(prefix: bytes) -> None:
    data = prefix * 10_000 + b"\x00" * 10_000
    for max_depth in (16, cbor.MAX_DEPTH_LIMIT):
        with pytest.raises(BadCborError):
            cbor.decode(data, max_depth=max_depth, allowed_tags=frozenset({1}))


def test_max_depth_is_bounded() -> None:
    with pytest.raises(ValueError, match="max_depth must be between 0 and 256"):
        cbor.decode(b"\x00", max_depth=cbor.MAX_DEPTH_LIMIT + 1)
    with pytest.raises(ValueError, match="max_items must be at least 1"):
        cbor.decode(b"\x00", max_items=0)


def test_item_limit() -> None:
    # 1 array + 4095 elements = 4096 items: fine; one more is not
    assert len(cbor.decode(cbor.encode([0] * 4095))) == 4095
    with pytest.raises(BadCborError, match="too many"):
        cbor.decode(cbor.encode([0] * 4096))
    # keys and values both count; so do tags
    assert cbor.decode(b"\xa1\x00\x00", max_items=3) == {0: 0}
    with pytest.raises(BadCborError, match="too many"):
        cbor.decode(b"\xa1\x00\x00", max_items=2)
    with pytest.raises(BadCborError, match="too many"):
        cbor.decode(b"\x81\xc1\x00", max_items=2, allowed_tags=frozenset({1}))
    assert cbor.decode(b"\x81\xc1\x00", max_items=3, allowed_tags=frozenset({1})) == [Tag(1, 0)]
    # nested containers add up
    with pytest.raises(BadCborError, match="too many"):
        cbor.decode(cbor.encode([[0] * 10] * 10), max_items=110)
    assert cbor.decode(cbor.encode([[0] * 10] * 10), max_items=111) == [[0] * 10] * 10


@pytest.mark.parametrize("major", [2, 3, 4, 5])
@pytest.mark.parametrize("length", [2**63, 2**64 - 1, 2**32 - 1, 1000])
def test_declared_length_beyond_input_fails_before_allocating(major: int, length: int) -> None:
    head = cbor.encode(length)
    data = bytes([major << 5 | (head[0] & 31)]) + head[1:] + b"\x00" * 16
    tracemalloc.start()
    try:
        with pytest.raises(BadCborError, match="truncated"):
            cbor.decode(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the declared length is refused before anything of that size is allocated (it would be a
    # MemoryError for 2**63); what the decoder allocates stays far below even the 1000 case
    assert peak < 64 * 1024, f"decoding allocated {peak} bytes"


def test_accepts_bytearray_and_memoryview_only() -> None:
    data = cbor.encode({1: [b"x", "y"]})
    assert cbor.decode(bytearray(data)) == cbor.decode(memoryview(data)) == {1: [b"x", "y"]}
    assert cbor.decode(memoryview(b"\xff" + data)[1:]) == {1: [b"x", "y"]}
    for bad in ("a1", None, 1, [0]):
        with pytest.raises(BadCborError):
            cbor.decode(bad)


def test_decoded_bytes_are_bytes() -> None:
    value = cbor.decode(bytearray(b"\x42ab"))
    assert type(value) is bytes


# --------------------------------------------------------------------------------------------
# property tests

# tags cbor2 leaves as plain CBORTag (it turns 1 into a datetime, strips 55799...)
ALL_TAGS = frozenset({18, 61, 98, 4000})

keys = st.one_of(st.integers(-(2**64), 2**64 - 1), st.text(max_size=8), st.binary(max_size=8))
leaves = st.one_of(
    st.integers(-(2**64), 2**64 - 1),
    st.integers(-300, 300),
    st.binary(max_size=40),
    st.text(max_size=40),
    st.booleans(),
    st.none(),
)


def values(tags: bool) -> st.SearchStrategy[Any]:
    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        options = [st.lists(children, max_size=6), st.dictionaries(keys, children, max_size=6)]
        if tags:
            options.append(st.builds(Tag, st.sampled_from(sorted(ALL_TAGS)), children))
        return st.one_of(options)

    return st.recursive(leaves, extend, max_leaves=25)


@given(values(tags=True))
def test_round_trip(value: Any) -> None:
    data = cbor.encode(value)
    back = cbor.decode(data, max_depth=cbor.MAX_DEPTH_LIMIT, allowed_tags=ALL_TAGS)
    assert same(back, value)
    assert cbor.encode(back) == data


@given(values(tags=True))
def test_cbor2_reads_what_we_write(value: Any) -> None:
    assert same(from_cbor2(cbor2.loads(cbor.encode(value))), value)


@given(values(tags=True))
def test_we_read_what_cbor2_writes(value: Any) -> None:
    data = cbor2.dumps(to_cbor2(value))
    assert same(cbor.decode(data, max_depth=cbor.MAX_DEPTH_LIMIT, allowed_tags=ALL_TAGS), value)


@given(st.dictionaries(keys, leaves, max_size=12))
def test_sorted_like_rfc_8949(value: dict[Any, Any]) -> None:
    data = cbor.encode(value)
    # walk the map: after the header come key, value, key, value...
    encoded_keys = [cbor.encode(k) for k in value]
    assert sorted(encoded_keys) == [
        cbor.encode(k) for k in cbor2.loads(data)
    ]  # cbor2 keeps wire order


@given(st.binary(max_size=64))
def test_fuzz_only_bad_cbor_error(data: bytes) -> None:
    with contextlib.suppress(BadCborError):
        cbor.decode(data, max_items=64, allowed_tags=frozenset({1, 18}))


@given(values(tags=True), st.data())
def test_fuzz_mutations_only_bad_cbor_error(value: Any, data: st.DataObject) -> None:
    raw = bytearray(cbor.encode(value))
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        i = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "flip" and raw:
            raw[i] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del raw[i:]
        else:
            raw.insert(i, data.draw(st.integers(0, 255)))
    with contextlib.suppress(BadCborError):
        cbor.decode(bytes(raw), allowed_tags=ALL_TAGS)


@pytest.mark.parametrize("head", range(256))
def test_every_initial_byte(head: int) -> None:
    # each initial byte alone and with all-0x00 / all-0xFF tails: a value or BadCborError
    for tail in (b"", b"\x00" * 9, b"\xff" * 9, b"\x01" * 30):
        with contextlib.suppress(BadCborError):
            cbor.decode(bytes([head]) + tail, allowed_tags=frozenset(range(256)))
    # a lone initial byte is only valid for the one-byte items
    one_byte_ok = head < 0x18 or 0x20 <= head < 0x38 or head in (0x40, 0x60, 0x80, 0xA0)
    one_byte_ok = one_byte_ok or head in (0xF4, 0xF5, 0xF6)
    if one_byte_ok:
        cbor.decode(bytes([head]))
    else:
        with pytest.raises(BadCborError):
            cbor.decode(bytes([head]), allowed_tags=frozenset(range(256)))
