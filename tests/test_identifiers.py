"""Citizen ID numbers, region codes, card numbers and names: validation, compaction, masking."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import card_numbers, citizen_ids, latin_names, names, region_codes

from ecard.identifiers import (
    CITIZEN_ID_WEIGHTS,
    PROVINCE_CODES,
    CitizenId,
    citizen_id_check_char,
    compact_citizen_id,
    compact_region_code,
    expand_citizen_id,
    expand_region_code,
    mask_card_number,
    mask_citizen_id,
    mask_name,
    normalize_card_number,
    normalize_citizen_id,
    normalize_name,
    normalize_region_code,
    parse_citizen_id,
)

# The example of GB 11643-1999 itself.
GB_EXAMPLE = "11010519491231002X"


def reference_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 written out the textbook way, independent of the library."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def with_check(first17: str) -> str:
    return first17 + reference_check_char(first17)


# --------------------------------------------------------------------------- check character


def test_weights() -> None:
    assert CITIZEN_ID_WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("11010519491231002", "X"),
        ("44052418800101001", "4"),  # the second example of GB 11643-1999
        ("31011519900307123", "9"),
        ("51010820001229456", "4"),
        ("81000019991231001", "2"),
    ],
)
def test_known_check_chars(first17: str, check: str) -> None:
    assert citizen_id_check_char(first17) == check
    assert reference_check_char(first17) == check


@given(st.text("0123456789", min_size=17, max_size=17))
def test_check_char_matches_reference(first17: str) -> None:
    assert citizen_id_check_char(first17) == reference_check_char(first17)


@pytest.mark.parametrize("bad", ["", "1101051949123100", "110105194912310021", "1101051949123100a"])
def test_check_char_needs_17_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="17 ASCII digits"):
        citizen_id_check_char(bad)


@pytest.mark.parametrize(
    "bad", ["+1101051949123100", "1_101051949123100", "１１０１０５１９４９１２３１００"]
)
def test_check_char_rejects_what_int_would_accept(bad: str) -> None:
    with pytest.raises(
        ValueError, match="the check character is computed from exactly 17 ASCII digits"
    ):
        citizen_id_check_char(bad)


# --------------------------------------------------------------------------- citizen ID


@pytest.mark.parametrize(
    "valid",
    [
        GB_EXAMPLE,
        with_check("31011519900307123"),
        with_check("51010820001229456"),
        with_check("11010520000229001"),  # 29 February of a leap year
        with_check("65010219000101002"),  # earliest accepted birth date
        with_check("81000019991231001"),  # Hong Kong prefix, province-level region
    ],
)
def test_valid_ids(valid: str) -> None:
    assert normalize_citizen_id(valid) == valid


def test_normalize_strips_and_uppercases_x() -> None:
    assert normalize_citizen_id("  11010519491231002x\n") == GB_EXAMPLE
    assert normalize_citizen_id("\t" + GB_EXAMPLE + " ") == GB_EXAMPLE


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("", "18 characters, got 0"),
        ("11010519491231002", "18 characters, got 17"),
        ("11010519491231002XX", "18 characters, got 19"),
        ("1101051949123100AX", "first 17 characters must be ASCII digits"),
        ("１１０１０５１９４９１２３１００２X", "first 17 characters must be ASCII digits"),
        ("11010519491231002Y", "check character must be a digit 0-9 or 'X'"),
        (with_check("00010519491231002"), "unknown province prefix '00'"),
        (with_check("10010519491231002"), "unknown province prefix '10'"),
        (with_check("91010519491231002"), "unknown province prefix '91'"),
        (with_check("72010519491231002"), "unknown province prefix '72'"),
        (with_check("11000119491231002"), "invalid region structure"),
        (with_check("11010519990230002"), "impossible birth date"),
        (with_check("11010519991301002"), "impossible birth date"),
        (with_check("11010519990100002"), "impossible birth date"),
        (with_check("11010500000101002"), "impossible birth date"),
        (with_check("11010518991231002"), "before 1900-01-01"),
        ("440524188001010014", "before 1900-01-01"),  # GB example, valid check char
        ("110105194912310021", "wrong check character '1', it should be 'X'"),
        ("11010519491231002X".replace("X", "0"), "it should be 'X'"),
    ],
)
def test_rejections(bad: str, reason: str) -> None:
    with pytest.raises(ValueError, match="citizen ID number") as info:
        normalize_citizen_id(bad)
    assert reason in str(info.value)


def test_errors_do_not_echo_the_number() -> None:
    for bad in ("110105194912310021", with_check("11010519990230002")):
        with pytest.raises(ValueError) as info:
            normalize_citizen_id(bad)
        assert bad[:14] not in str(info.value)


def test_rejects_non_string() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        normalize_citizen_id(110105194912310021)  # type: ignore[arg-type]


def test_parse() -> None:
    parsed = parse_citizen_id("11010519491231002x")
    assert parsed == CitizenId(
        region="110105",
        birth_date=dt.date(1949, 12, 31),
        sequence="002",
        sex="F",
        check="X",
    )
    assert parsed.number == GB_EXAMPLE
    male = parse_citizen_id(with_check("31011519900307123"))
    assert male.sex == "M"
    assert male.sequence == "123"


def test_parsed_repr_is_masked() -> None:
    parsed = parse_citizen_id(GB_EXAMPLE)
    assert GB_EXAMPLE not in repr(parsed)
    assert "19491231" not in repr(parsed)
    assert "19491231" not in str(parsed)
    assert "110105********002X" in repr(parsed)


@given(citizen_ids())
def test_generated_ids_are_valid(value: str) -> None:
    assert normalize_citizen_id(value) == value
    parsed = parse_citizen_id(value)
    assert parsed.number == value
    assert value[17] == reference_check_char(value[:17])
    assert parsed.sex == ("M" if int(value[14:17]) % 2 else "F")


@given(citizen_ids(), st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_change_is_detected(value: str, pos: int, delta: int) -> None:
    digits = list(value)
    digits[pos] = str((int(digits[pos]) + delta) % 10)
    with pytest.raises(ValueError, match="citizen ID number: "):
        normalize_citizen_id("".join(digits))


@given(citizen_ids())
def test_compact_round_trip(value: str) -> None:
    n = compact_citizen_id(value)
    assert isinstance(n, int)
    assert 0 <= n < 10**17
    assert n == int(value[:17])
    assert expand_citizen_id(n) == value


def test_compact_example() -> None:
    assert compact_citizen_id("11010519491231002x") == 11010519491231002
    assert expand_citizen_id(11010519491231002) == GB_EXAMPLE


@pytest.mark.parametrize(
    ("n", "reason"),
    [
        (True, "must be an int"),
        (1.1e16, "must be an int"),
        ("11010519491231002", "must be an int"),
        (-1, "out of range"),
        (10**17, "out of range"),
        (0, "unknown province prefix '00'"),
        (11010519491231002 % 10**16, "unknown province prefix '01'"),
        (11000119491231002, "invalid region structure"),
        (11010519990230002, "impossible birth date"),
        (11010518991231002, "before 1900-01-01"),
    ],
)
def test_expand_rejections(n: object, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        expand_citizen_id(n)  # type: ignore[arg-type]
    assert reason in str(info.value)


def test_mask_citizen_id() -> None:
    assert mask_citizen_id(with_check("11010519491231002")) == "110105********002X"
    valid = with_check("11010519491231002")
    assert mask_citizen_id(valid.lower()) == "110105********002X"
    with pytest.raises(
        ValueError, match="citizen ID number: wrong check character '1', it should be 'X'"
    ):
        mask_citizen_id("110105194912310021")


@given(citizen_ids())
def test_mask_hides_the_birth_date(value: str) -> None:
    masked = mask_citizen_id(value)
    assert len(masked) == 18
    assert masked[:6] == value[:6]
    assert masked[6:14] == "*" * 8
    assert masked[14:] == value[14:]


# --------------------------------------------------------------------------- region codes


def test_province_codes() -> None:
    assert len(PROVINCE_CODES) == 34
    edges = {"11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65"}
    assert edges | {"71", "81", "82"} <= PROVINCE_CODES
    assert not {"10", "16", "20", "24", "38", "47", "55", "66", "70", "83", "99"} & PROVINCE_CODES


@pytest.mark.parametrize("valid", ["110105", "110000", "110100", "820000", "654321", "710000"])
def test_valid_regions(valid: str) -> None:
    assert normalize_region_code(valid) == valid
    assert normalize_region_code(int(valid)) == valid
    assert compact_region_code(valid) == int(valid)
    assert expand_region_code(int(valid)) == valid


def test_region_strips_whitespace() -> None:
    assert normalize_region_code(" 110105\n") == "110105"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("", "exactly 6 digits, got 0"),
        ("11010", "exactly 6 digits, got 5"),
        ("1101050", "exactly 6 digits, got 7"),
        ("11010a", "only the ASCII digits"),
        ("１１０１０５", "only the ASCII digits"),
        ("-11010", "only the ASCII digits"),
        ("100105", "unknown province prefix '10'"),
        ("990105", "unknown province prefix '99'"),
        ("110001", "invalid region structure"),
        ("110010", "invalid region structure"),
        (-110105, "6-digit number"),
        (1_000_000, "6-digit number"),
        (11010, "exactly 6 digits"),
        (True, "not a bool"),
        (110105.0, "not float"),
    ],
)
def test_region_rejections(bad: object, reason: str) -> None:
    with pytest.raises(ValueError, match="region code") as info:
        normalize_region_code(bad)  # type: ignore[arg-type]
    assert reason in str(info.value)


@pytest.mark.parametrize(
    ("n", "reason"),
    [
        (True, "must be an int"),
        ("110105", "must be an int"),
        (99999, "out of range"),
        (10**6, "out of range"),
        (110001, "invalid region structure"),
    ],
)
def test_expand_region_rejections(n: object, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        expand_region_code(n)  # type: ignore[arg-type]
    assert reason in str(info.value)


@given(region_codes())
def test_region_round_trip(code: str) -> None:
    assert normalize_region_code(code) == code
    assert expand_region_code(compact_region_code(code)) == code


# --------------------------------------------------------------------------- card numbers


def test_card_numbers() -> None:
    assert normalize_card_number("A12345678") == "A12345678"
    assert normalize_card_number("a1234567b") == "A1234567B"
    assert normalize_card_number(" 123456789 ") == "123456789"
    assert mask_card_number("a12345678") == "A1*****78"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("", "exactly 9 characters, got 0"),
        ("A1234567", "exactly 9 characters, got 8"),
        ("A123456789", "exactly 9 characters, got 10"),
        ("A1234567-", "only Latin letters"),
        ("A1234 678", "only Latin letters"),
        ("Ａ12345678", "only Latin letters"),
        ("Ä12345678", "only Latin letters"),
        (123456789, "must be a string"),
    ],
)
def test_card_number_rejections(bad: object, reason: str) -> None:
    with pytest.raises(ValueError, match="card number") as info:
        normalize_card_number(bad)  # type: ignore[arg-type]
    assert reason in str(info.value)


@given(card_numbers())
def test_generated_card_numbers(value: str) -> None:
    assert normalize_card_number(value) == value
    assert normalize_card_number(value.lower()) == value


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "valid",
    [
        "张三",
        "张三丰",
        "欧阳娜娜",
        "王",
        "买买提·艾力",
        "爱新觉罗·溥仪",
        "玛丽·安·史密斯",
        "𠀀𠀁",  # CJK Extension B
        "㐀丽",  # CJK Extension A
        "Zhang Sanfeng",
        "Jean-Luc Picard",
        "Seán O'Brien",
        "St. John",
        "Łukasz Żółw",
        "Zoë",
        "Ma·Li",
    ],
)
def test_valid_names(valid: str) -> None:
    assert normalize_name(valid) == valid


def test_name_normalisation() -> None:
    assert normalize_name("  张三丰\u3000") == "张三丰"
    assert normalize_name("买买提・艾力") == "买买提·艾力"  # U+30FB
    assert normalize_name("买买提•艾力") == "买买提·艾力"  # U+2022
    decomposed = unicodedata.normalize("NFD", "José")
    assert decomposed != "José"
    assert normalize_name(decomposed) == "José"
    assert normalize_name("丽" * 40) == "丽" * 40


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("丽" * 41, "too long: 41 characters"),
        ("A" * 41, "too long"),
        ("张3", "digits are not allowed"),
        ("张三１", "digits are not allowed"),
        ("张\x00三", "control or invisible"),
        ("张\u200b三", "control or invisible"),
        ("张\t三", "control or invisible"),
        ("Zhang\u00a0San", "only the ordinary space"),
        ("张三😀", "U+1F600 is not allowed"),
        ("张三!", "U+0021 is not allowed"),
        ("A×B", "U+00D7 is not allowed"),
        ("Zhang  San", "single spaces"),
        ("张 ·三", "next to the middle dot"),
        ("·张三", "must separate two name parts"),
        ("张三·", "must separate two name parts"),
        ("张··三", "must separate two name parts"),
        ("-", "at least one letter"),
        ("Zhang -", "at least one letter"),
        ("Zhang . San", "at least one letter"),
    ],
)
def test_name_rejections(bad: str, reason: str) -> None:
    with pytest.raises(ValueError, match="name") as info:
        normalize_name(bad)
    assert reason in str(info.value)


def test_name_rejects_non_string() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        normalize_name(b"Zhang")  # type: ignore[arg-type]


@given(names())
def test_generated_names_are_canonical(name: str) -> None:
    assert normalize_name(name) == name


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王", "*"),
        ("张三", "张*"),
        ("张三丰", "张*丰"),
        ("欧阳娜娜", "欧**娜"),
        ("买买提·艾力", "买*提·艾*"),
        ("爱新觉罗·溥仪", "爱**罗·溥*"),
        ("Zhang Sanfeng", "Z**** S******"),
        ("Jean-Luc Picard", "J******* P*****"),
        ("Ma·Li", "M*·L*"),
        ("  张三丰 ", "张*丰"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_mask_name_rejects_invalid() -> None:
    with pytest.raises(ValueError, match="invalid name: digits are not allowed"):
        mask_name("张3")


@given(names())
def test_mask_name_hides_something(name: str) -> None:
    masked = mask_name(name)
    assert len(masked) == len(name)
    assert "*" in masked
    assert masked != name


@given(latin_names())
def test_mask_latin_keeps_initials(name: str) -> None:
    masked = mask_name(name)
    assert [w[0] for w in masked.split(" ")] == [w[0] for w in name.split(" ")]
    assert set(masked.replace(" ", "")) - {w[0] for w in name.split(" ")} <= {"*"}
