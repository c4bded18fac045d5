"""Identifiers on a social security card: parse, validate, compact and mask.

* Citizen ID number (公民身份号码, GB 11643-1999): 18 characters = 6-digit address (region) code,
  8-digit birth date ``YYYYMMDD``, 3-digit sequence (odd for men, even for women) and a check
  character computed with ISO 7064 MOD 11-2.
* Administrative region code (行政区划代码, GB/T 2260): 6 digits, validated *structurally* only.
* Social security card number (社会保障卡卡号): 9 upper-case Latin letters or digits.
* Holder names in Chinese characters, Chinese transliterations with a middle dot, or Latin letters.

Every function here is pure and raises :class:`ValueError` with a precise English reason. The
reasons never repeat the whole input: identifiers are personal data and error messages end up in
logs.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

__all__ = [
    "CITIZEN_ID_WEIGHTS",
    "NAME_MAX_LENGTH",
    "PROVINCE_CODES",
    "CitizenId",
    "citizen_id_check_char",
    "compact_citizen_id",
    "compact_region_code",
    "expand_citizen_id",
    "expand_region_code",
    "mask_card_number",
    "mask_citizen_id",
    "mask_name",
    "normalize_card_number",
    "normalize_citizen_id",
    "normalize_name",
    "normalize_region_code",
    "parse_citizen_id",
]

# --------------------------------------------------------------------------------------------
# Region codes (GB/T 2260)
# --------------------------------------------------------------------------------------------

#: The two-digit province-level prefixes of GB/T 2260 (provinces, autonomous regions,
#: municipalities, plus 71 Taiwan, 81 Hong Kong and 82 Macao).
PROVINCE_CODES: Final[frozenset[str]] = frozenset(
    [f"{n}" for n in range(11, 16)]
    + [f"{n}" for n in range(21, 24)]
    + [f"{n}" for n in range(31, 38)]
    + [f"{n}" for n in range(41, 47)]
    + [f"{n}" for n in range(50, 55)]
    + [f"{n}" for n in range(61, 66)]
    + ["71", "81", "82"]
)

_REGION_MIN: Final = 100000
_REGION_LIMIT: Final = 1_000_000


def _is_ascii_digits(value: str) -> bool:
    """True when ``value`` is non-empty and made only of the ASCII digits 0-9."""
    return value.isascii() and value.isdigit()


def _region_problem(code: str) -> str | None:
    """Why the 6 ASCII digits ``code`` are not a structurally valid region code, or ``None``."""
    if code[:2] not in PROVINCE_CODES:
        return f"unknown province prefix {code[:2]!r} (not a GB/T 2260 province-level code)"
    if code[2:4] == "00" and code[4:6] != "00":
        return (
            "invalid region structure: a province-level code (digits 3-4 are '00') must end in '00'"
        )
    return None


def normalize_region_code(value: str | int) -> str:
    """Validate an administrative region code (GB/T 2260) and return it as 6 ASCII digits.

    Accepts ``"110105"`` (surrounding whitespace is stripped) or the integer ``110105``. The check
    is structural only: 6 digits, a known province-level prefix (11-15, 21-23, 31-37, 41-46,
    50-54, 61-65, 71, 81, 82), and a province-level code (digits 3-4 ``"00"``) must also end in
    ``"00"``. The full GB/T 2260 code table is *not* shipped, so a well-formed code that was never
    assigned (or has been retired) is accepted.

    Raises:
        ValueError: with the reason the code is malformed.
    """
    if (
        type(value) is str
        and len(value) == 6
        and value.isascii()
        and value.isdigit()
        and value[:2] in PROVINCE_CODES
        and (value[2:4] != "00" or value[4:6] == "00")
    ):
        return value  # fast path: already canonical and valid
    if isinstance(value, bool):
        raise ValueError("region code must be a string or an integer, not a bool")
    if isinstance(value, int):
        if not 0 <= value < _REGION_LIMIT:
            raise ValueError("region code must be a 6-digit number")
        code = str(value)
    elif isinstance(value, str):
        code = value.strip()
    else:
        raise ValueError(f"region code must be a string or an integer, not {type(value).__name__}")
    if len(code) != 6:
        raise ValueError(f"region code must have exactly 6 digits, got {len(code)} characters")
    if not _is_ascii_digits(code):
        raise ValueError("region code must contain only the ASCII digits 0-9")
    problem = _region_problem(code)
    if problem is not None:
        raise ValueError(f"region code: {problem}")
    return code


def compact_region_code(value: str | int) -> int:
    """Return the region code as an integer (``"110105"`` -> ``110105``), validating it first."""
    return int(normalize_region_code(value))


def expand_region_code(n: int) -> str:
    """Return the 6-digit text form of a compact region code (``110105`` -> ``"110105"``).

    Raises:
        ValueError: ``n`` is not an int (bools are rejected), is out of range, or is not a
            structurally valid region code.
    """
    if type(n) is not int:
        raise ValueError(f"compact region code must be an int, not {type(n).__name__}")
    if not _REGION_MIN <= n < _REGION_LIMIT:
        raise ValueError("compact region code out of range (must be a 6-digit number)")
    return normalize_region_code(n)


# --------------------------------------------------------------------------------------------
# Citizen ID number (GB 11643-1999, ISO 7064 MOD 11-2)
# --------------------------------------------------------------------------------------------

#: Weight of each of the 17 leading digits: ``2 ** (17 - i) % 11`` for position ``i`` = 0..16.
CITIZEN_ID_WEIGHTS: Final[tuple[int, ...]] = tuple(pow(2, 17 - i, 11) for i in range(17))

# Check character indexed by (weighted sum mod 11).
_CHECK_CHARS: Final = "10X98765432"
_MIN_BIRTH: Final = date(1900, 1, 1)
_COMPACT_ID_LIMIT: Final = 10**17


def _check_char(first17: str) -> str:
    """MOD 11-2 check character of 17 ASCII digits (the caller guarantees the digits).

    Each weight is ``2 ** (17 - i) mod 11``, so the weighted sum is congruent (mod 11) to
    ``2 * sum(d_i * 2 ** (16 - i))``. Reading the digits as a base-13 numeral gives
    ``sum(d_i * 13 ** (16 - i))``, and ``13 = 2 (mod 11)``, so ``2 * int(first17, 13)`` has the
    same remainder as the weighted sum: one C-level ``int()`` call instead of a Python loop.
    (``int(..., 13)`` would also accept letters, signs and underscores, hence the precondition.)
    The tests cross-check this against :data:`CITIZEN_ID_WEIGHTS`.
    """
    return _CHECK_CHARS[(2 * int(first17, 13)) % 11]


def citizen_id_check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``) for 17 digits.

    Raises:
        ValueError: ``first17`` is not exactly 17 ASCII digits.
    """
    if not isinstance(first17, str) or len(first17) != 17 or not _is_ascii_digits(first17):
        raise ValueError("the check character is computed from exactly 17 ASCII digits")
    return _check_char(first17)


def _validate_first17(first17: str) -> date:
    """Validate region and birth date of 17 ASCII digits; return the birth date."""
    problem = _region_problem(first17)
    if problem is not None:
        raise ValueError(f"citizen ID number: {problem}")
    try:
        birth = date.fromisoformat(first17[6:14])
    except ValueError as exc:
        raise ValueError(
            "citizen ID number: impossible birth date (characters 7-14 are not a real "
            f"calendar date YYYYMMDD: {exc})"
        ) from None
    if birth < _MIN_BIRTH:
        raise ValueError("citizen ID number: birth date is before 1900-01-01")
    return birth


def _fast_birth_date(value: str) -> date | None:
    """Birth date of an already canonical, valid citizen ID number; ``None`` if it is not.

    The hot path (every verified card goes through it): no error reporting, no copies.
    """
    if type(value) is not str or len(value) != 18 or not value.isascii():
        return None
    first17 = value[:17]
    if (
        first17.isdigit()
        and value[17] == _CHECK_CHARS[(2 * int(first17, 13)) % 11]
        and value[:2] in PROVINCE_CODES
        and (value[2:4] != "00" or value[4:6] == "00")
    ):
        try:
            birth = date.fromisoformat(value[6:14])
        except ValueError:
            return None
        if birth >= _MIN_BIRTH:
            return birth
    return None


def _validate_citizen_id(value: str) -> tuple[str, date]:
    """Normalise and fully validate a citizen ID number; return it with its birth date."""
    birth = _fast_birth_date(value)
    if birth is not None:
        return value, birth
    return _validate_citizen_id_slow(value)


def _validate_citizen_id_slow(value: str) -> tuple[str, date]:
    """:func:`_validate_citizen_id` for non-canonical or invalid input: finds the reason."""
    if not isinstance(value, str):
        raise ValueError(f"citizen ID number must be a string, not {type(value).__name__}")
    s = value.strip()
    if len(s) != 18:
        raise ValueError(f"citizen ID number must have 18 characters, got {len(s)}")
    first17 = s[:17]
    if not _is_ascii_digits(first17):
        raise ValueError("citizen ID number: the first 17 characters must be ASCII digits 0-9")
    last = s[17]
    expected = _check_char(first17)
    if last == "x":
        last = "X"
        s = first17 + "X"
    elif last != "X" and not ("0" <= last <= "9"):
        raise ValueError("citizen ID number: the check character must be a digit 0-9 or 'X'")
    birth = _validate_first17(first17)
    if last != expected:
        raise ValueError(
            f"citizen ID number: wrong check character {last!r}, it should be {expected!r}"
        )
    return s, birth


def normalize_citizen_id(value: str) -> str:
    """Validate a citizen ID number (GB 11643-1999) and return its canonical 18-character form.

    Surrounding whitespace is stripped and a final lower-case ``x`` is upper-cased.

    Raises:
        ValueError: wrong length, non-digits, unknown province prefix, invalid region structure,
            impossible birth date, birth date before 1900-01-01, or wrong check character.
    """
    if _fast_birth_date(value) is not None:
        return value
    return _validate_citizen_id_slow(value)[0]


@dataclass(frozen=True, repr=False)
class CitizenId:
    """The parts of a valid citizen ID number. ``repr`` masks the birth date."""

    #: 6-digit address code (GB/T 2260) of the place of first registration.
    region: str
    #: Date of birth.
    birth_date: date
    #: 3-digit sequence number (odd for men, even for women).
    sequence: str
    #: ``"M"`` or ``"F"``, derived from the parity of the sequence number.
    sex: Literal["M", "F"]
    #: The check character, ``0``-``9`` or ``X``.
    check: str

    @property
    def number(self) -> str:
        """The full 18-character citizen ID number."""
        return f"{self.region}{self.birth_date:%Y%m%d}{self.sequence}{self.check}"

    def __repr__(self) -> str:
        return f"CitizenId('{self.region}********{self.sequence}{self.check}')"

    __str__ = __repr__


def parse_citizen_id(value: str) -> CitizenId:
    """Validate a citizen ID number and split it into its parts.

    Raises:
        ValueError: see :func:`normalize_citizen_id`.
    """
    s, birth = _validate_citizen_id(value)
    sequence = s[14:17]
    sex: Literal["M", "F"] = "M" if int(sequence) % 2 else "F"
    return CitizenId(region=s[:6], birth_date=birth, sequence=sequence, sex=sex, check=s[17])


def compact_citizen_id(value: str) -> int:
    """Return the 17 leading digits of a valid citizen ID number as an integer.

    The check character is derivable, and as a CBOR unsigned integer (< 10**17) the number
    costs 9 bytes instead of 19 for the text. :func:`expand_citizen_id` reverses this.

    Raises:
        ValueError: ``value`` is not a valid citizen ID number.
    """
    return int(normalize_citizen_id(value)[:17])


def expand_citizen_id(n: int) -> str:
    """Rebuild the full citizen ID number from :func:`compact_citizen_id` output.

    Zero-pads to 17 digits, appends the computed check character and validates the result.

    Raises:
        ValueError: ``n`` is not an int (bools are rejected), is outside ``[0, 10**17)``, or the
            digits are not a valid citizen ID number (province prefix, region, birth date).
    """
    if type(n) is not int:
        raise ValueError(f"compact citizen ID number must be an int, not {type(n).__name__}")
    if not 0 <= n < _COMPACT_ID_LIMIT:
        raise ValueError("compact citizen ID number out of range [0, 10**17)")
    first17 = f"{n:017d}"
    _validate_first17(first17)
    return first17 + _check_char(first17)


def mask_citizen_id(value: str) -> str:
    """Mask the birth date of a citizen ID number: ``110105194912310021`` -> ``110105********0021``.

    Raises:
        ValueError: ``value`` is not a valid citizen ID number.
    """
    s = normalize_citizen_id(value)
    return f"{s[:6]}********{s[14:]}"


# --------------------------------------------------------------------------------------------
# Card number
# --------------------------------------------------------------------------------------------

_CARD_NUMBER_RE: Final = re.compile(r"[0-9A-Z]{9}")


def normalize_card_number(value: str) -> str:
    """Validate a social security card number and return it upper-cased.

    The number has exactly 9 characters, each an ASCII digit or Latin letter; lower-case letters
    are accepted and upper-cased, surrounding whitespace is stripped.

    Raises:
        ValueError: wrong length or a character other than A-Z, a-z, 0-9.
    """
    if type(value) is str and _CARD_NUMBER_RE.fullmatch(value) is not None:
        return value  # fast path: already canonical
    if not isinstance(value, str):
        raise ValueError(f"card number must be a string, not {type(value).__name__}")
    s = value.strip()
    if not s.isascii():
        raise ValueError("card number must contain only Latin letters A-Z and digits 0-9")
    s = s.upper()
    if _CARD_NUMBER_RE.fullmatch(s) is None:
        if len(s) != 9:
            raise ValueError(f"card number must have exactly 9 characters, got {len(s)}")
        raise ValueError("card number must contain only Latin letters A-Z and digits 0-9")
    return s


def mask_card_number(value: str) -> str:
    """Mask a card number for display, keeping the first 2 and last 2 characters.

    ``A12345678`` -> ``A1*****78``.

    Raises:
        ValueError: ``value`` is not a valid card number.
    """
    s = normalize_card_number(value)
    return f"{s[:2]}*****{s[7:]}"


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

#: Longest accepted name, in code points (after NFC normalisation).
NAME_MAX_LENGTH: Final = 40

_MIDDLE_DOT: Final = "\u00b7"
_CJK: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Latin letters: ASCII, Latin-1 letters (without U+00D7 and U+00F7), Latin Extended-A.
_LATIN: Final = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f"
# Grammar: name = part ("·" part)*; part = word (" " word)*; a word is letters/ideographs and
# the punctuation - ' . with at least one letter. Character classes only (no alternation) and
# possessive quantifiers keep the match linear and fast.
_LETTER: Final = f"[{_CJK}{_LATIN}]"
_PUNCT_CHARS: Final = r"\-'."
_WORD: Final = f"[{_PUNCT_CHARS}]*+{_LETTER}[{_CJK}{_LATIN}{_PUNCT_CHARS}]*+"
_PART: Final = f"{_WORD}(?: {_WORD})*+"
_CJK_RUN_RE: Final = re.compile(f"[{_CJK}]+")


@functools.cache
def _name_re() -> re.Pattern[str]:
    """The whole name grammar. Compiling its classes (ideographs beyond U+FFFF, repeated)
    takes tens of milliseconds, so it happens on the first name that is not all ideographs,
    not at import: ``ecard verify`` starts without it."""
    return re.compile(f"{_PART}(?:{_MIDDLE_DOT}{_PART})*+")


@functools.cache
def _allowed_char_re() -> re.Pattern[str]:
    """One allowed character (for the reason a name failed); compiled on first use."""
    return re.compile(f"[{_CJK}{_LATIN} {_PUNCT_CHARS}{_MIDDLE_DOT}]")


_DOT_VARIANTS: Final = str.maketrans({"\u30fb": _MIDDLE_DOT, "\u2022": _MIDDLE_DOT})


def _name_problem(name: str) -> str:
    """Explain why a stripped, NFC-normalised name failed the grammar."""
    for ch in name:
        if _allowed_char_re().fullmatch(ch) is None:
            cp = f"U+{ord(ch):04X}"
            if ch.isdigit():
                return f"digits are not allowed ({cp})"
            category = unicodedata.category(ch)
            if category.startswith("C"):
                return f"control or invisible characters are not allowed ({cp})"
            if category.startswith("Z") or ch.isspace():
                return f"only the ordinary space U+0020 may separate words ({cp})"
            return f"character {cp} is not allowed in a name"
    if "  " in name:
        return "words must be separated by single spaces"
    if f" {_MIDDLE_DOT}" in name or f"{_MIDDLE_DOT} " in name:
        return "no space is allowed next to the middle dot '·'"
    if name.startswith(_MIDDLE_DOT) or name.endswith(_MIDDLE_DOT) or _MIDDLE_DOT * 2 in name:
        return "the middle dot '·' must separate two name parts"
    return "every word must contain at least one letter or Chinese character"


def normalize_name(value: str) -> str:
    """Validate a holder's name and return its canonical form.

    NFC-normalises, strips surrounding whitespace and turns the middle-dot look-alikes
    U+30FB (``・``) and U+2022 (``•``) into U+00B7 (``·``). Accepted: 1-40 characters made of CJK
    ideographs (U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, U+20000-3134F), Latin letters (ASCII,
    Latin-1 and Latin Extended-A), single spaces between words, ``-``, ``'``, ``.`` and the middle
    dot separating the parts of transliterated names (``买买提·艾力``). Every word needs at least
    one letter or ideograph.

    Raises:
        ValueError: empty, too long, a digit, a control character, an emoji or other disallowed
            character, double spaces, or a misplaced middle dot.
    """
    if not isinstance(value, str):
        raise ValueError(f"name must be a string, not {type(value).__name__}")
    name = unicodedata.normalize("NFC", value).strip()
    if _CJK_RUN_RE.fullmatch(name) is not None and len(name) <= NAME_MAX_LENGTH:
        return name  # fast path: the common all-ideograph name
    if "\u30fb" in name or "\u2022" in name:
        name = name.translate(_DOT_VARIANTS)
    if not name:
        raise ValueError("name is empty")
    if len(name) > NAME_MAX_LENGTH:
        raise ValueError(
            f"name is too long: {len(name)} characters, at most {NAME_MAX_LENGTH} allowed"
        )
    if _name_re().fullmatch(name) is None:
        raise ValueError(f"invalid name: {_name_problem(name)}")
    return name


def _mask_chinese(part: str) -> str:
    """Keep the first and last character of a run of ideographs, mask the middle."""
    n = len(part)
    if n == 1:
        return "*"
    if n == 2:
        return part[0] + "*"
    return part[0] + "*" * (n - 2) + part[-1]


def _mask_latin(part: str) -> str:
    """Keep the first character of each word, mask every other character."""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in part.split(" "))


def mask_name(value: str) -> str:
    """Mask a name for display.

    Chinese names keep the first and last character (``张三`` -> ``张*``, ``张三丰`` -> ``张*丰``,
    ``欧阳娜娜`` -> ``欧**娜``); names with a middle dot are masked part by part
    (``买买提·艾力`` -> ``买*提·艾*``); Latin names keep the first letter of each word
    (``Zhang Sanfeng`` -> ``Z**** S******``).

    Raises:
        ValueError: ``value`` is not a valid name (see :func:`normalize_name`).
    """
    name = normalize_name(value)
    parts = []
    for part in name.split(_MIDDLE_DOT):
        if _CJK_RUN_RE.fullmatch(part):
            parts.append(_mask_chinese(part))
        else:
            parts.append(_mask_latin(part))
    return _MIDDLE_DOT.join(parts)
