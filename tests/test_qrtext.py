"""The EC1 wire text: prefix, Base45, the optional zlib layer and its size cap."""

from __future__ import annotations

import contextlib
import os
import tracemalloc
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecard.errors import (
    BadBase45Error,
    BadCompressionError,
    BadPrefixError,
    FormatError,
    TruncatedError,
)
from ecard.formats import base45, qrtext

# Something shaped like a COSE_Sign1: tag 18, then random (incompressible) bytes.
SMALL = b"\xd2\x84" + os.urandom(100)
# A repetitive payload, as a card with long repeated fields would be.
LARGE = b"\xd2\x84" + b"\x6a\xe5\xbc\xa0\xe4\xb8\x89\xe4\xb8\xb0\x00" * 60


def text_of(payload: bytes) -> str:
    return qrtext.PREFIX + base45.encode(payload)


def test_constants() -> None:
    assert qrtext.PREFIX == "EC1:"
    assert qrtext.MAX_TEXT_LENGTH == 4296
    assert qrtext.MAX_INFLATED == 16384


def test_small_payload_stays_uncompressed() -> None:
    text = qrtext.encode(SMALL)
    assert text == text_of(SMALL)
    assert qrtext.decode(text) == SMALL


def _ref_deflate(raw: bytes) -> bytes:
    """The documented writing settings, through the standard library."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 15, 4)
    return packer.compress(raw) + packer.flush()


def test_large_repetitive_payload_is_compressed_and_shorter() -> None:
    text = qrtext.encode(LARGE)
    payload = base45.decode(text[len(qrtext.PREFIX) :])
    assert qrtext.is_compressed(payload)
    assert payload == _ref_deflate(LARGE)
    assert payload[0] == 0x78  # CMF: deflate, 32 KiB window, as every decoder expects
    assert zlib.decompress(payload) == LARGE  # plain RFC 1950, any zlib reads it
    assert len(payload) <= len(zlib.compress(LARGE, 9)) * 1.01 + 2
    assert len(text) < len(text_of(LARGE))
    assert qrtext.decode(text) == LARGE


def test_forced_choices() -> None:
    forced = qrtext.encode(SMALL, compress=True)
    assert qrtext.is_compressed(base45.decode(forced[4:]))
    assert len(forced) > len(qrtext.encode(SMALL))
    assert qrtext.decode(forced) == SMALL
    plain = qrtext.encode(LARGE, compress=False)
    assert plain == text_of(LARGE)
    assert qrtext.decode(plain) == LARGE


def test_tie_keeps_uncompressed() -> None:
    # tag 18 then zeros: at some length zlib's output is exactly as long as its input
    ties = [
        raw for raw in (b"\xd2" + bytes(k) for k in range(40)) if len(_ref_deflate(raw)) == len(raw)
    ]
    assert ties
    for raw in ties:
        assert qrtext.encode(raw) == text_of(raw)
        longer = raw + b"\x00" * 8
        assert len(_ref_deflate(longer)) < len(longer)
        assert qrtext.encode(longer) == text_of(_ref_deflate(longer))


def test_bytes_that_look_like_zlib_are_always_compressed() -> None:
    raw = b"\x78" + os.urandom(50)  # first byte has CM = 8
    text = qrtext.encode(raw)
    assert qrtext.is_compressed(base45.decode(text[4:]))
    assert qrtext.decode(text) == raw
    with pytest.raises(ValueError, match="uncompressed payload would be read as zlib"):
        qrtext.encode(raw, compress=False)


def test_encode_refuses_empty_and_oversized() -> None:
    with pytest.raises(ValueError, match="nothing to encode"):
        qrtext.encode(b"")
    with pytest.raises(ValueError, match="fit"):
        qrtext.encode(b"\xd2" + os.urandom(3000))


def test_is_compressed() -> None:
    for level in range(10):
        for wbits in range(9, 16):
            comp = zlib.compressobj(level, zlib.DEFLATED, wbits)
            assert qrtext.is_compressed(comp.compress(LARGE) + comp.flush())
    assert [b for b in range(256) if qrtext.is_compressed(bytes([b]))] == list(range(8, 128, 16))
    assert not qrtext.is_compressed(b"\xd2\x84")  # tag 18, COSE_Sign1
    assert not qrtext.is_compressed(b"\x84")  # untagged COSE_Sign1
    assert not qrtext.is_compressed(b"\xd8\x3d\xd2")  # CWT tag 61 around tag 18
    assert not qrtext.is_compressed(b"")


def test_cwt_tag_is_not_taken_for_zlib() -> None:
    wrapped = b"\xd8\x3d" + SMALL  # 61(18([...]))
    assert qrtext.decode(text_of(wrapped)) == wrapped
    assert qrtext.encode(wrapped) == text_of(wrapped)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "BB8",
        "ec1:BB8",
        "Ec1:BB8",
        "HC1:BB8",
        "EC2:BB8",
        " EC1:BB8",
        "EC1",
        "EC:BB8",
        "\ufeffEC1:",
    ],
)
def test_bad_prefix(text: str) -> None:
    with pytest.raises(BadPrefixError):
        qrtext.decode(text)


@pytest.mark.parametrize("value", [b"EC1:BB8", None, 42])
def test_non_text_is_a_prefix_error(value: object) -> None:
    with pytest.raises(BadPrefixError):
        qrtext.decode(value)  # type: ignore[arg-type]


def test_prefix_checked_before_length() -> None:
    with pytest.raises(BadPrefixError):
        qrtext.decode("HC1:" + "0" * 5000)


def test_too_long_is_rejected_before_decoding() -> None:
    body = "0" * (qrtext.MAX_TEXT_LENGTH - len(qrtext.PREFIX))
    # exactly at the limit the Base45 is decoded (and found to be a bad length here or fine)
    at_limit = qrtext.PREFIX + body[: len(body) - len(body) % 3]
    assert len(at_limit) <= qrtext.MAX_TEXT_LENGTH
    assert qrtext.decode(at_limit) == bytes(len(body) // 3 * 2)
    with pytest.raises(BadBase45Error, match="too long"):
        qrtext.decode(qrtext.PREFIX + body + "0")
    # even when the excess is invalid Base45, length is what is reported
    with pytest.raises(BadBase45Error, match="too long"):
        qrtext.decode(qrtext.PREFIX + "#" * 5000)


@pytest.mark.parametrize("body", ["", "bb8", "BB#", "GGW", "V5", "BB8\n"])
def test_bad_base45(body: str) -> None:
    with pytest.raises(BadBase45Error):
        qrtext.decode(qrtext.PREFIX + body)


def test_a_text_cut_short_is_truncated_not_damaged() -> None:
    with pytest.raises(TruncatedError, match="cut short"):
        qrtext.decode(qrtext.PREFIX + "A")


def test_zlib_bomb_through_the_text() -> None:
    bomb = zlib.compress(bytes(2_000_000), 9)  # ~2 KB that inflate to 2 MB
    text = text_of(bomb)
    assert len(text) <= qrtext.MAX_TEXT_LENGTH
    with pytest.raises(BadCompressionError, match="more than"):
        qrtext.decode(text)


def test_ten_megabyte_bomb_is_bounded() -> None:
    bomb = zlib.compress(bytes(10_000_000), 9)
    tracemalloc.start()
    try:
        with pytest.raises(BadCompressionError, match="more than"):
            qrtext.decompress(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # the cap, not the 10 MB
    # as text it is too long for a QR code in the first place
    with pytest.raises(BadBase45Error, match="too long"):
        qrtext.decode(text_of(bomb))


def test_exactly_at_the_cap() -> None:
    at_cap = b"\xd2" + bytes(qrtext.MAX_INFLATED - 1)
    assert qrtext.decode(text_of(zlib.compress(at_cap, 9))) == at_cap
    over = at_cap + b"\x00"
    with pytest.raises(BadCompressionError, match="more than"):
        qrtext.decode(text_of(zlib.compress(over, 9)))


def test_truncated_zlib() -> None:
    stream = zlib.compress(LARGE, 9)
    for cut in (2, 3, len(stream) // 2, len(stream) - 1):
        with pytest.raises(TruncatedError, match="truncated"):
            qrtext.decode(text_of(stream[:cut]))


def test_header_only() -> None:
    with pytest.raises(TruncatedError, match="header truncated"):
        qrtext.decode(text_of(b"\x78"))
    with pytest.raises(TruncatedError, match="stream is truncated"):
        qrtext.decode(text_of(b"\x78\xda"))


def test_trailing_garbage_after_zlib_stream() -> None:
    stream = zlib.compress(LARGE, 9)
    with pytest.raises(BadCompressionError, match="trailing"):
        qrtext.decode(text_of(stream + b"\x00"))
    with pytest.raises(BadCompressionError, match="trailing"):
        qrtext.decode(text_of(stream + stream))


def test_bad_header_checksum() -> None:
    stream = bytearray(zlib.compress(LARGE, 9))
    stream[1] ^= 0x01
    with pytest.raises(BadCompressionError, match="checksum"):
        qrtext.decode(text_of(bytes(stream)))


def test_bad_window_size() -> None:
    cmf = 0x88  # CINFO = 8: a 64 KiB window, not allowed by RFC 1950
    flg = 31 - (cmf << 8) % 31
    stream = bytes([cmf, flg]) + zlib.compress(LARGE)[2:]
    with pytest.raises(BadCompressionError, match="window"):
        qrtext.decompress(stream)
    # in a QR text such a first byte is not zlib at all (0x88 opens a CBOR array of 8) and is
    # passed on for the COSE parser to judge
    assert not qrtext.is_compressed(stream)
    assert qrtext.decode(text_of(stream)) == stream


def test_preset_dictionary() -> None:
    comp = zlib.compressobj(9, zlib.DEFLATED, 15, zdict=b"\xe5\xbc\xa0\xe4\xb8\x89")
    stream = comp.compress(LARGE) + comp.flush()
    assert stream[1] & 0x20  # FDICT set
    with pytest.raises(BadCompressionError, match="dictionar"):
        qrtext.decode(text_of(stream))


def test_corrupt_deflate_data() -> None:
    stream = bytearray(zlib.compress(LARGE, 9))
    stream[-1] ^= 0xFF  # Adler-32 mismatch
    with pytest.raises(BadCompressionError):
        qrtext.decode(text_of(bytes(stream)))
    stream = bytearray(zlib.compress(LARGE, 9))
    stream[2] = 0xFF  # invalid block type
    with pytest.raises(BadCompressionError):
        qrtext.decode(text_of(bytes(stream)))


def test_non_zlib_payload_is_returned_as_is() -> None:
    for payload in (b"\xd2", b"\x84\x40\xa0\xf6\x40", b"\x00", b"\xff" * 7):
        assert qrtext.decode(text_of(payload)) == payload


@given(st.binary(min_size=1, max_size=2000))
def test_round_trip(raw: bytes) -> None:
    text = qrtext.encode(raw)
    assert text.startswith("EC1:")
    assert len(text) <= qrtext.MAX_TEXT_LENGTH
    assert qrtext.decode(text) == raw


@given(st.text(max_size=80))
def test_arbitrary_text_only_typed_errors(text: str) -> None:
    for candidate in (text, qrtext.PREFIX + text):
        with contextlib.suppress(FormatError):
            qrtext.decode(candidate)


@given(st.binary(max_size=300))
def test_arbitrary_payloads_only_typed_errors(payload: bytes) -> None:
    try:
        result = qrtext.decode(text_of(payload))
    except FormatError:
        return
    assert len(result) <= qrtext.MAX_INFLATED


@given(st.text(alphabet=base45.ALPHABET, max_size=120))
def test_arbitrary_base45_only_typed_errors(body: str) -> None:
    with contextlib.suppress(FormatError):
        qrtext.decode(qrtext.PREFIX + body)


def _cleaned_reference(text: str) -> tuple[str, tuple[str, ...]]:
    """What clean_scanned removes, written the plain way (no shortcut for common lines)."""
    blanks, bom = " \t\r\n\v\f", "\ufeff"
    stripped = text.lstrip(blanks + bom)
    lead = text[: len(text) - len(stripped)]
    notes = []
    if bom in lead:
        notes.append("removed a UTF-8 byte-order mark")
    if sum(1 for c in lead if c != bom):
        notes.append(
            f"removed {sum(1 for c in lead if c != bom)} blank character(s) before the code"
        )
    body = stripped.rstrip(blanks)
    after = sum(1 for c in stripped[len(body) :] if c in " \t\v\f")
    if after:
        notes.append(f"removed {after} blank character(s) after the code")
    return body, tuple(notes)


@given(
    st.lists(st.sampled_from([" ", "\t", "\r", "\n", "\v", "\f", "\ufeff"]), max_size=3),
    st.text(alphabet="EC1:AB \n\ufeff", max_size=6),
    st.lists(st.sampled_from([" ", "\t", "\r", "\n", "\v", "\f", "\ufeff"]), max_size=3),
)
def test_cleaning_a_scanned_line_takes_no_shortcut_that_changes_it(
    before: list[str], body: str, after: list[str]
) -> None:
    text = "".join(before) + body + "".join(after)
    assert qrtext.clean_scanned(text) == _cleaned_reference(text)
    for line in ("EC1:ABC", "EC1:ABC\n", "EC1:AB \n", "EC1:ABC\r\n", "\n", "x", ""):
        assert qrtext.clean_scanned(line) == _cleaned_reference(line)
