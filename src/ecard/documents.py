"""Identity documents people apply with, each with its own number rules.

A social security number is the holder's citizen ID number (Social Insurance Law Art. 58); a
person without one applies with the document they hold. :class:`DocumentType` lists them:

=====================================  ==========================================================
document                               number
=====================================  ==========================================================
resident ID card 居民身份证            18 characters, GB 11643: region + ``YYYYMMDD`` + sequence
                                       + ISO 7064 MOD 11-2 check character
temporary resident ID 临时居民身份证   the same number; the card is valid 3 months from issue
HK/Macao residence permit 港澳居民居住证  ``810000`` (Hong Kong) or ``820000`` (Macao) + birth
                                       date + sequence + MOD 11-2
Taiwan residence permit 台湾居民居住证  ``830000`` + birth date + sequence + MOD 11-2
foreigner's permanent residence ID     18 characters: ``9`` + 2-digit province + 3-digit
(2023) 外国人永久居留身份证             numeric nationality (ISO 3166-1) + birth date + sequence
                                       + MOD 11-2
foreigner's permanent residence ID     15 characters: 3-letter nationality (ISO 3166-1
(2017)                                 alpha-3) + 4-digit place of acceptance + ``YYMMDD`` +
                                       2-digit sequence + check digit (weights 7, 3, 1)
Mainland travel permit for HK/Macao    ``H`` (Hong Kong) or ``M`` (Macao) + 8 digits, or + 10
residents 港澳居民来往内地通行证        digits (the last two count renewals)
Mainland travel permit for Taiwan      8 digits (the card issued since 2015) or 10 digits
residents 台湾居民来往大陆通行证
passport 护照                          Chinese: ``E`` + 8 digits or ``E`` + letter + 7 digits
                                       (``G`` + 8 digits on older ones); other countries' per
                                       ICAO 9303: 5-9 letters and digits
=====================================  ==========================================================

Every kind of bad number raises its own :class:`DocumentError` subclass with a stable
:class:`DocumentProblem` code and an English and Chinese message; the error never repeats the
number (identifiers are personal data, and errors end up in logs). The errors are also
``ValueError`` so that pydantic validators report them as field errors.

>>> doc = parse_document(DocumentType.HK_MACAO_RESIDENCE_PERMIT, "810000199408230021")
>>> doc.birth_date, doc.sex
(datetime.date(1994, 8, 23), 'F')
>>> parse_document(DocumentType.RESIDENT_ID, "810000199408230021")
Traceback (most recent call last):
...
ecard.documents.DocumentTypeMismatchError: the number belongs to another kind of document: ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum, StrEnum
from typing import ClassVar, Final, Literal

from ecard.errors import BadInputError, Lang
from ecard.identifiers import PROVINCE_CODES, _check_char, _region_problem

__all__ = [
    "DOCUMENT_MESSAGES",
    "TEMPORARY_ID_VALIDITY",
    "DocumentBirthDateError",
    "DocumentCheckCharacterError",
    "DocumentError",
    "DocumentExpiredError",
    "DocumentFormatError",
    "DocumentProblem",
    "DocumentRegionError",
    "DocumentType",
    "DocumentTypeMismatchError",
    "IdentityDocument",
    "TemporaryDocumentExpiredError",
    "check_document_in_force",
    "icao_check_digit",
    "mask_document_number",
    "normalize_document_number",
    "parse_document",
]


class DocumentType(IntEnum):
    """The kinds of identity document. The value is what a card claim carries (key 9)."""

    #: 居民身份证
    RESIDENT_ID = 1
    #: 临时居民身份证 (valid 3 months)
    TEMPORARY_RESIDENT_ID = 2
    #: 港澳居民居住证 (810000 Hong Kong, 820000 Macao)
    HK_MACAO_RESIDENCE_PERMIT = 3
    #: 台湾居民居住证 (830000)
    TAIWAN_RESIDENCE_PERMIT = 4
    #: 外国人永久居留身份证, 2023 format (18 characters)
    FOREIGN_PERMANENT_RESIDENCE_2023 = 5
    #: 外国人永久居留身份证, 2017 format (15 characters)
    FOREIGN_PERMANENT_RESIDENCE_2017 = 6
    #: 港澳居民来往内地通行证
    HK_MACAO_TRAVEL_PERMIT = 7
    #: 台湾居民来往大陆通行证
    TAIWAN_TRAVEL_PERMIT = 8
    #: 护照
    PASSPORT = 9

    def label(self, lang: Lang = "en") -> str:
        """The document's name in English or Chinese."""
        return _TYPE_LABELS[self][1 if lang == "zh" else 0]

    @property
    def mod11_number(self) -> bool:
        """True when the number is 18 characters with a MOD 11-2 check character (and a birth
        date at characters 7-14), so a card claim can carry it as a compact integer."""
        return self in _MOD11_TYPES

    @classmethod
    def parse(cls, value: object) -> DocumentType:
        """The member for a member, an int value (not a bool) or a name (any case).

        Raises:
            DocumentFormatError: anything else.
        """
        if type(value) is cls:
            return value
        if type(value) is int and value in _BY_VALUE:
            return _BY_VALUE[value]
        if type(value) is str and value.upper() in cls.__members__:
            return cls[value.upper()]
        raise DocumentFormatError("unknown identity document type")


_TYPE_LABELS: Final[dict[DocumentType, tuple[str, str]]] = {
    DocumentType.RESIDENT_ID: ("resident ID card", "居民身份证"),
    DocumentType.TEMPORARY_RESIDENT_ID: ("temporary resident ID card", "临时居民身份证"),
    DocumentType.HK_MACAO_RESIDENCE_PERMIT: (
        "residence permit for Hong Kong and Macao residents",
        "港澳居民居住证",
    ),
    DocumentType.TAIWAN_RESIDENCE_PERMIT: (
        "residence permit for Taiwan residents",
        "台湾居民居住证",
    ),
    DocumentType.FOREIGN_PERMANENT_RESIDENCE_2023: (
        "foreigner's permanent residence ID card (2023)",
        "外国人永久居留身份证（2023 版）",
    ),
    DocumentType.FOREIGN_PERMANENT_RESIDENCE_2017: (
        "foreigner's permanent residence ID card (2017)",
        "外国人永久居留身份证（2017 版）",
    ),
    DocumentType.HK_MACAO_TRAVEL_PERMIT: (
        "Mainland travel permit for Hong Kong and Macao residents",
        "港澳居民来往内地通行证",
    ),
    DocumentType.TAIWAN_TRAVEL_PERMIT: (
        "Mainland travel permit for Taiwan residents",
        "台湾居民来往大陆通行证",
    ),
    DocumentType.PASSPORT: ("passport", "护照"),
}
_BY_VALUE: Final[dict[int, DocumentType]] = {m.value: m for m in DocumentType}
_MOD11_TYPES: Final = frozenset(
    {
        DocumentType.RESIDENT_ID,
        DocumentType.TEMPORARY_RESIDENT_ID,
        DocumentType.HK_MACAO_RESIDENCE_PERMIT,
        DocumentType.TAIWAN_RESIDENCE_PERMIT,
        DocumentType.FOREIGN_PERMANENT_RESIDENCE_2023,
    }
)

#: How long a temporary resident ID card is valid after its date of issue (3 months).
TEMPORARY_ID_VALIDITY: Final = 3


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class DocumentProblem(StrEnum):
    """What is wrong with a document number: one stable code per kind of bad number."""

    FORMAT = "DOCUMENT_FORMAT"
    REGION = "DOCUMENT_REGION"
    BIRTH_DATE = "DOCUMENT_BIRTH_DATE"
    CHECK_CHARACTER = "DOCUMENT_CHECK_CHARACTER"
    TYPE_MISMATCH = "DOCUMENT_TYPE_MISMATCH"
    TEMPORARY_EXPIRED = "DOCUMENT_TEMPORARY_EXPIRED"
    EXPIRED = "DOCUMENT_EXPIRED"


#: Per problem: (English, Chinese) summary.
DOCUMENT_MESSAGES: Final[dict[DocumentProblem, tuple[str, str]]] = {
    DocumentProblem.FORMAT: (
        "the document number has the wrong length or characters",
        "证件号码长度或字符不符合规定",
    ),
    DocumentProblem.REGION: (
        "the document number has an unknown region or place code",
        "证件号码中的地区代码无效",
    ),
    DocumentProblem.BIRTH_DATE: (
        "the birth date in the document number is impossible",
        "证件号码中的出生日期无效",
    ),
    DocumentProblem.CHECK_CHARACTER: (
        "the check character of the document number is wrong",
        "证件号码校验码错误",
    ),
    DocumentProblem.TYPE_MISMATCH: (
        "the number belongs to another kind of document",
        "证件号码与证件类型不符",
    ),
    DocumentProblem.TEMPORARY_EXPIRED: (
        "the temporary resident ID card is more than 3 months old",
        "临时居民身份证已超过 3 个月有效期",
    ),
    DocumentProblem.EXPIRED: ("the identity document has expired", "证件已过有效期"),
}


class DocumentError(BadInputError, ValueError):
    """A document number or document is unusable. ``problem`` says which kind of bad; the
    ``ErrorCode`` stays ``BAD_INPUT``. The detail never contains the number."""

    problem: ClassVar[DocumentProblem] = DocumentProblem.FORMAT

    def message(self, lang: Lang = "en") -> str:
        """The summary for :attr:`problem` in ``lang``, followed by the (English) detail."""
        en, zh = DOCUMENT_MESSAGES[self.problem]
        summary = zh if lang == "zh" else en
        if not self.detail:
            return summary
        return f"{summary}{'：' if lang == 'zh' else ': '}{self.detail}"


class DocumentFormatError(DocumentError):
    """Wrong length, characters or prefix letter for the document type."""

    problem = DocumentProblem.FORMAT


class DocumentRegionError(DocumentError):
    """Unknown province or region code, or an impossible place/nationality code."""

    problem = DocumentProblem.REGION


class DocumentBirthDateError(DocumentError):
    """The birth date in the number is not a calendar date, or is before 1900."""

    problem = DocumentProblem.BIRTH_DATE


class DocumentCheckCharacterError(DocumentError):
    """The check character does not match the rest of the number."""

    problem = DocumentProblem.CHECK_CHARACTER


class DocumentTypeMismatchError(DocumentError):
    """A well-formed number of another document type (a residence permit number given as a
    resident ID, a Chinese nationality on a foreigner's card...)."""

    problem = DocumentProblem.TYPE_MISMATCH


class TemporaryDocumentExpiredError(DocumentError):
    """A temporary resident ID card past its 3 months."""

    problem = DocumentProblem.TEMPORARY_EXPIRED


class DocumentExpiredError(DocumentError):
    """A document past its date of expiry."""

    problem = DocumentProblem.EXPIRED


# --------------------------------------------------------------------------------------------
# Number rules
# --------------------------------------------------------------------------------------------

_MIN_BIRTH: Final = date(1900, 1, 1)
_PERMIT_PREFIXES: Final[dict[str, DocumentType]] = {
    "810000": DocumentType.HK_MACAO_RESIDENCE_PERMIT,
    "820000": DocumentType.HK_MACAO_RESIDENCE_PERMIT,
    "830000": DocumentType.TAIWAN_RESIDENCE_PERMIT,
}
#: ISO 3166-1 numeric code of China: no foreigner's card carries it.
_CHINA_NUMERIC: Final = "156"
_CHINA_ALPHA3: Final = "CHN"
_HK_MACAO_TRAVEL_RE: Final = re.compile(r"[HM](?:[0-9]{8}|[0-9]{10})")
_TAIWAN_TRAVEL_RE: Final = re.compile(r"[0-9]{8}|[0-9]{10}")
_CN_PASSPORT_RE: Final = re.compile(r"[EG][0-9]{8}|E[A-HJ-NP-Z][0-9]{7}")
_PASSPORT_RE: Final = re.compile(r"[A-Z0-9]{5,9}")
_FOREIGN_2017_RE: Final = re.compile(r"[A-Z]{3}[0-9]{12}")
_ICAO_WEIGHTS: Final = (7, 3, 1)


def icao_check_digit(chars: str) -> str:
    """The ICAO 9303 check digit (weights 7, 3, 1; ``0-9`` as themselves, ``A-Z`` as 10-35,
    ``<`` as 0) of ``chars``, as used by the 15-character foreigner's permanent residence ID.

    Raises:
        DocumentFormatError: a character outside ``0-9``, ``A-Z`` and ``<``.
    """
    total = 0
    for i, ch in enumerate(chars):
        if "0" <= ch <= "9":
            value = ord(ch) - 48
        elif "A" <= ch <= "Z":
            value = ord(ch) - 55
        elif ch == "<":
            value = 0
        else:
            raise DocumentFormatError("only 0-9, A-Z and '<' carry an ICAO check digit")
        total += value * _ICAO_WEIGHTS[i % 3]
    return str(total % 10)


def _clean(number: object) -> str:
    """Strip and upper-case a number; a non-string is a format error."""
    if not isinstance(number, str):
        raise DocumentFormatError(f"a document number is a string, not {type(number).__name__}")
    s = number.strip().upper()
    if not s.isascii():
        raise DocumentFormatError("a document number has only ASCII letters and digits")
    return s


def _birth(yyyymmdd: str) -> date:
    """The birth date of 8 digits, or :class:`DocumentBirthDateError`."""
    try:
        birth = date.fromisoformat(yyyymmdd)
    except ValueError:
        raise DocumentBirthDateError("characters for the birth date are not a real date") from None
    if birth < _MIN_BIRTH:
        raise DocumentBirthDateError("the birth date is before 1900-01-01")
    return birth


def _mod11(s: str, what: str) -> tuple[date, Literal["M", "F"]]:
    """Check the 18-character MOD 11-2 layout shared by IDs, permits and the 2023 card (the
    caller checked the prefix); return birth date and sex."""
    if len(s) != 18:
        raise DocumentFormatError(f"{what} has 18 characters, got {len(s)}")
    if not (s[:17].isdigit() and (s[17].isdigit() or s[17] == "X")):
        raise DocumentFormatError(f"{what}: 17 digits and a check character 0-9 or X")
    birth = _birth(s[6:14])
    if s[17] != _check_char(s[:17]):
        raise DocumentCheckCharacterError(f"{what}: MOD 11-2 check character does not match")
    return birth, ("M" if int(s[14:17]) % 2 else "F")


def _other_type(s: str) -> DocumentType | None:
    """The document type an 18-character number's prefix says it is, for mismatch errors."""
    if s[:6] in _PERMIT_PREFIXES:
        return _PERMIT_PREFIXES[s[:6]]
    if s[:1] == "9":
        return DocumentType.FOREIGN_PERMANENT_RESIDENCE_2023
    return None


@dataclass(frozen=True, repr=False)
class IdentityDocument:
    """A validated identity document. ``repr`` shows the masked number only."""

    #: Which kind of document.
    type: DocumentType
    #: The canonical number (stripped, upper-case).
    number: str
    #: Birth date where the number holds one (``None`` for travel permits, passports and the
    #: 2017 foreigner's card, whose ``YYMMDD`` does not say the century).
    birth_date: date | None = None
    #: ``"M"``/``"F"`` where the number encodes it.
    sex: Literal["M", "F"] | None = None
    #: Nationality: ISO 3166-1 numeric (2023 card) or alpha-3 (2017 card, passports).
    nationality: str | None = None
    #: Date of issue, where known (required for a temporary resident ID's 3 months).
    issued: date | None = None
    #: Date of expiry, where the document has one.
    expires: date | None = None

    @property
    def masked(self) -> str:
        """The number with its middle masked (:func:`mask_document_number`)."""
        return mask_document_number(self.type, self.number)

    def __repr__(self) -> str:
        return f"IdentityDocument({self.type.name}, '{self.masked}')"

    __str__ = __repr__


def _resident(s: str, doc_type: DocumentType) -> IdentityDocument:
    what = doc_type.label()
    if len(s) == 18 and s[:17].isdigit():
        other = _other_type(s)
        if other is not None:
            raise DocumentTypeMismatchError(f"the number's prefix is that of a {other.label()}")
        problem = _region_problem(s[:6])
        if problem is not None:
            raise DocumentRegionError(f"{what}: {problem.split(' (')[0]}")
    birth, sex = _mod11(s, what)
    return IdentityDocument(doc_type, s, birth, sex)


def _permit(s: str, doc_type: DocumentType) -> IdentityDocument:
    what = doc_type.label()
    if len(s) == 18 and s[:17].isdigit() and _PERMIT_PREFIXES.get(s[:6]) is not doc_type:
        other = _other_type(s)
        if other is not None or s[:2] in PROVINCE_CODES:
            label = other.label() if other is not None else DocumentType.RESIDENT_ID.label()
            raise DocumentTypeMismatchError(f"the number's prefix is that of a {label}")
        raise DocumentRegionError(f"{what}: the number starts with an unknown prefix")
    birth, sex = _mod11(s, what)
    return IdentityDocument(doc_type, s, birth, sex)


def _foreign_2023(s: str) -> IdentityDocument:
    what = DocumentType.FOREIGN_PERMANENT_RESIDENCE_2023.label()
    if len(s) == 18 and s[:17].isdigit():
        if s[0] != "9":
            other = _other_type(s)
            label = (other or DocumentType.RESIDENT_ID).label()
            raise DocumentTypeMismatchError(f"the number's prefix is that of a {label}")
        if s[1:3] not in PROVINCE_CODES or s[1:3] in {"71", "81", "82"}:
            raise DocumentRegionError(f"{what}: unknown province of acceptance")
        if s[3:6] == _CHINA_NUMERIC:
            raise DocumentTypeMismatchError(f"{what}: nationality cannot be China")
        if s[3:6] == "000":
            raise DocumentRegionError(f"{what}: impossible nationality code")
    birth, sex = _mod11(s, what)
    return IdentityDocument(
        DocumentType.FOREIGN_PERMANENT_RESIDENCE_2023, s, birth, sex, nationality=s[3:6]
    )


def _foreign_2017(s: str) -> IdentityDocument:
    what = DocumentType.FOREIGN_PERMANENT_RESIDENCE_2017.label()
    if len(s) == 18:
        raise DocumentTypeMismatchError(f"{what} has 15 characters; 18 is the 2023 card's length")
    if _FOREIGN_2017_RE.fullmatch(s) is None:
        raise DocumentFormatError(f"{what}: 3 letters and 12 digits")
    if s[:3] == _CHINA_ALPHA3:
        raise DocumentTypeMismatchError(f"{what}: nationality cannot be China")
    if s[3:5] not in PROVINCE_CODES or s[3:5] in {"71", "81", "82"}:
        raise DocumentRegionError(f"{what}: unknown province of acceptance")
    valid_in_a_century = False
    for century in ("19", "20"):  # the number does not say which
        try:
            date.fromisoformat(f"{century}{s[7:13]}")
        except ValueError:
            continue
        valid_in_a_century = True
    if not valid_in_a_century:
        raise DocumentBirthDateError(f"{what}: characters 8-13 are not a real date YYMMDD")
    if s[14] != icao_check_digit(s[:14]):
        raise DocumentCheckCharacterError(f"{what}: the 7-3-1 check digit does not match")
    return IdentityDocument(
        DocumentType.FOREIGN_PERMANENT_RESIDENCE_2017, s, None, None, nationality=s[:3]
    )


def _travel(s: str, doc_type: DocumentType) -> IdentityDocument:
    if doc_type is DocumentType.HK_MACAO_TRAVEL_PERMIT:
        if _HK_MACAO_TRAVEL_RE.fullmatch(s) is None:
            if _TAIWAN_TRAVEL_RE.fullmatch(s) is not None:
                raise DocumentTypeMismatchError("digits alone are a Taiwan travel permit number")
            raise DocumentFormatError(f"{doc_type.label()}: H or M and 8 or 10 digits")
    elif _TAIWAN_TRAVEL_RE.fullmatch(s) is None:
        if _HK_MACAO_TRAVEL_RE.fullmatch(s) is not None:
            raise DocumentTypeMismatchError("H/M and digits are a HK/Macao travel permit number")
        raise DocumentFormatError(f"{doc_type.label()}: 8 or 10 digits")
    return IdentityDocument(doc_type, s)


def _passport(s: str, nationality: str | None) -> IdentityDocument:
    if nationality is not None and (
        not isinstance(nationality, str)
        or len(nationality) != 3
        or not nationality.isascii()
        or not nationality.isalpha()
    ):
        raise DocumentFormatError("a passport's nationality is an ISO 3166-1 alpha-3 code")
    nat = nationality.upper() if nationality is not None else None
    if nat == _CHINA_ALPHA3:
        if _CN_PASSPORT_RE.fullmatch(s) is None:
            raise DocumentFormatError("a Chinese passport number: E or G and 8 digits")
    elif _PASSPORT_RE.fullmatch(s) is None:
        raise DocumentFormatError("a passport number has 5 to 9 letters or digits (ICAO 9303)")
    return IdentityDocument(DocumentType.PASSPORT, s, nationality=nat)


def parse_document(
    doc_type: DocumentType | int | str,
    number: str,
    *,
    nationality: str | None = None,
    issued: date | None = None,
    expires: date | None = None,
) -> IdentityDocument:
    """Validate ``number`` as a document of ``doc_type`` and return the document.

    Surrounding whitespace is stripped and letters upper-cased. ``nationality`` (ISO 3166-1
    alpha-3) applies to passports; ``issued`` and ``expires`` are recorded for
    :func:`check_document_in_force`.

    Raises:
        DocumentError: one subclass per kind of bad number (format, region, birth date, check
            character, type mismatch).
    """
    kind = DocumentType.parse(doc_type)
    s = _clean(number)
    if kind in (DocumentType.RESIDENT_ID, DocumentType.TEMPORARY_RESIDENT_ID):
        doc = _resident(s, kind)
    elif kind in (DocumentType.HK_MACAO_RESIDENCE_PERMIT, DocumentType.TAIWAN_RESIDENCE_PERMIT):
        doc = _permit(s, kind)
    elif kind is DocumentType.FOREIGN_PERMANENT_RESIDENCE_2023:
        doc = _foreign_2023(s)
    elif kind is DocumentType.FOREIGN_PERMANENT_RESIDENCE_2017:
        doc = _foreign_2017(s)
    elif kind is DocumentType.PASSPORT:
        doc = _passport(s, nationality)
    else:
        doc = _travel(s, kind)
    if issued is not None and expires is not None and expires < issued:
        raise DocumentFormatError("the document's expiry is before its issue")
    if issued is None and expires is None:
        return doc
    return IdentityDocument(
        doc.type, doc.number, doc.birth_date, doc.sex, doc.nationality, issued, expires
    )


def _add_months(day: date, months: int) -> date:
    """``day`` plus calendar months, clamped to the end of a shorter month."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def check_document_in_force(doc: IdentityDocument, today: date) -> None:
    """Refuse a document that is not in force on ``today``.

    A temporary resident ID card is valid :data:`TEMPORARY_ID_VALIDITY` months from its date
    of issue (which it must carry); any document with ``expires`` before ``today`` is expired.

    Raises:
        TemporaryDocumentExpiredError: a temporary ID past 3 months.
        DocumentExpiredError: a document past its expiry date.
        DocumentFormatError: a temporary ID without a date of issue, or issued after ``today``.
    """
    if doc.type is DocumentType.TEMPORARY_RESIDENT_ID:
        if doc.issued is None:
            raise DocumentFormatError("a temporary resident ID card needs its date of issue")
        if doc.issued > today:
            raise DocumentFormatError("the date of issue is in the future")
        last = _add_months(doc.issued, TEMPORARY_ID_VALIDITY) - timedelta(days=1)
        if today > last:
            raise TemporaryDocumentExpiredError(f"valid until {last.isoformat()}")
    if doc.expires is not None and doc.expires < today:
        raise DocumentExpiredError(f"expired on {doc.expires.isoformat()}")


def normalize_document_number(doc_type: DocumentType | int | str, number: str) -> str:
    """The canonical number of a valid document (see :func:`parse_document`)."""
    return parse_document(doc_type, number).number


def mask_document_number(doc_type: DocumentType | int | str, number: str) -> str:
    """Mask a document number for display: the birth date of 18-character numbers (as
    :func:`ecard.identifiers.mask_citizen_id`), the middle of the others (first 3 and last 2
    characters kept).

    >>> mask_document_number(DocumentType.HK_MACAO_TRAVEL_PERMIT, "H12345678")
    'H12****78'
    """
    kind = DocumentType.parse(doc_type)
    s = _clean(number)
    if kind.mod11_number and len(s) == 18:
        return f"{s[:6]}********{s[14:]}"
    keep = 3 if len(s) > 6 else 1
    return s[:keep] + "*" * max(len(s) - keep - 2, 1) + s[-2:]
