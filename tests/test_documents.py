"""Identity documents: every type's number rules, one typed error per kind of bad number, and
cards carrying each kind of holder.

The numbers are built here with check characters computed by this file's own code (the MOD
11-2 weights written out, the ICAO 7-3-1 digit from its definition), and resident ID numbers are
cross-checked against python-stdnum's ``stdnum.cn.ric``, an independent implementation.
"""

from __future__ import annotations

import datetime as dt

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from ecard.card import DOCUMENT_KEY, Card, Holder
from ecard.documents import (
    DOCUMENT_MESSAGES,
    DocumentBirthDateError,
    DocumentCheckCharacterError,
    DocumentError,
    DocumentExpiredError,
    DocumentFormatError,
    DocumentProblem,
    DocumentRegionError,
    DocumentType,
    DocumentTypeMismatchError,
    TemporaryDocumentExpiredError,
    check_document_in_force,
    mask_document_number,
    parse_document,
)
from ecard.errors import ErrorCode
from ecard.formats.cwt import CLAIM_CARD, decode_claims
from ecard.formats.qrtext import decode as decode_text
from ecard.signing.issuer import Issuer
from ecard.verify.verifier import Verifier

# GB 11643 weights written out (not computed the library's way) and the check characters.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECKS = "10X98765432"


def mod11(first17: str) -> str:
    return first17 + CHECKS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def icao(chars: str) -> str:
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in chars]
    return chars + str(sum(v * (7, 3, 1)[i % 3] for i, v in enumerate(values)) % 10)


def flip_check(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")


RESIDENT = mod11("11010519491231002")
HK_PERMIT = mod11("81000019940823002")
MACAO_PERMIT = mod11("82000020010101003")
TW_PERMIT = mod11("83000019800229004")
FOREIGN_2023 = mod11("93184019850615001")  # Shanghai (31), nationality 840 (USA)
FOREIGN_2017 = icao("USA31101201151")  # USA, place 3110, born (19/20)120115, sequence 1

VALID = [
    (DocumentType.RESIDENT_ID, RESIDENT, dt.date(1949, 12, 31), "F"),
    (DocumentType.TEMPORARY_RESIDENT_ID, RESIDENT, dt.date(1949, 12, 31), "F"),
    (DocumentType.HK_MACAO_RESIDENCE_PERMIT, HK_PERMIT, dt.date(1994, 8, 23), "F"),
    (DocumentType.HK_MACAO_RESIDENCE_PERMIT, MACAO_PERMIT, dt.date(2001, 1, 1), "M"),
    (DocumentType.TAIWAN_RESIDENCE_PERMIT, TW_PERMIT, dt.date(1980, 2, 29), "F"),
    (DocumentType.FOREIGN_PERMANENT_RESIDENCE_2023, FOREIGN_2023, dt.date(1985, 6, 15), "M"),
    (DocumentType.FOREIGN_PERMANENT_RESIDENCE_2017, FOREIGN_2017, None, None),
    (DocumentType.HK_MACAO_TRAVEL_PERMIT, "H12345678", None, None),
    (DocumentType.HK_MACAO_TRAVEL_PERMIT, "M1234567801", None, None),
    (DocumentType.TAIWAN_TRAVEL_PERMIT, "12345678", None, None),
    (DocumentType.TAIWAN_TRAVEL_PERMIT, "1234567890", None, None),
    (DocumentType.PASSPORT, "E12345678", None, None),
]


@pytest.mark.parametrize(("kind", "number", "birth", "sex"), VALID)
def test_valid_numbers(kind: DocumentType, number: str, birth: dt.date | None, sex: str) -> None:
    doc = parse_document(kind, f"  {number.lower()} ")
    assert doc.type is kind and doc.number == number
    assert doc.birth_date == birth and doc.sex == sex
    assert number not in repr(doc)


def test_nationalities_and_passports() -> None:
    assert parse_document(5, FOREIGN_2023).nationality == "840"
    assert parse_document("foreign_permanent_residence_2017", FOREIGN_2017).nationality == "USA"
    assert parse_document(9, "EA1234567", nationality="chn").nationality == "CHN"
    assert parse_document(9, "G12345678", nationality="CHN").number == "G12345678"
    assert parse_document(9, "X1234567", nationality="DEU").nationality == "DEU"


BAD = [
    # format
    (DocumentType.RESIDENT_ID, RESIDENT[:17], DocumentFormatError),
    (DocumentType.RESIDENT_ID, RESIDENT[:16] + "AX", DocumentFormatError),
    (DocumentType.RESIDENT_ID, "１１０１０５１９４９１２３１００２X", DocumentFormatError),
    (DocumentType.HK_MACAO_TRAVEL_PERMIT, "H1234567", DocumentFormatError),
    (DocumentType.HK_MACAO_TRAVEL_PERMIT, "A12345678", DocumentFormatError),
    (DocumentType.TAIWAN_TRAVEL_PERMIT, "123456789", DocumentFormatError),
    (DocumentType.FOREIGN_PERMANENT_RESIDENCE_2017, "US131101201151X", DocumentFormatError),
    (DocumentType.PASSPORT, "E123", DocumentFormatError),
    (DocumentType.PASSPORT, "AB-12345", DocumentFormatError),
    # region
    (DocumentType.RESIDENT_ID, mod11("99010519491231002"), DocumentTypeMismatchError),
    (DocumentType.RESIDENT_ID, mod11("10010519491231002"), DocumentRegionError),
    (DocumentType.RESIDENT_ID, mod11("11000519491231002"), DocumentRegionError),
    (DocumentType.HK_MACAO_RESIDENCE_PERMIT, mod11("84000019940823002"), DocumentRegionError),
    (
        DocumentType.FOREIGN_PERMANENT_RESIDENCE_2023,
        mod11("90184019850615001"),
        DocumentRegionError,
    ),
    (
        DocumentType.FOREIGN_PERMANENT_RESIDENCE_2023,
        mod11("98184019850615001"),
        DocumentRegionError,
    ),
    (DocumentType.FOREIGN_PERMANENT_RESIDENCE_2017, icao("USA99101201151"), DocumentRegionError),
    # birth date
    (DocumentType.RESIDENT_ID, mod11("11010519490230002"), DocumentBirthDateError),
    (DocumentType.RESIDENT_ID, mod11("11010518991231002"), DocumentBirthDateError),
    (DocumentType.TAIWAN_RESIDENCE_PERMIT, mod11("83000019810229004"), DocumentBirthDateError),
    (DocumentType.FOREIGN_PERMANENT_RESIDENCE_2017, icao("USA31101213151"), DocumentBirthDateError),
    # check character
    (DocumentType.RESIDENT_ID, flip_check(RESIDENT), DocumentCheckCharacterError),
    (DocumentType.HK_MACAO_RESIDENCE_PERMIT, flip_check(HK_PERMIT), DocumentCheckCharacterError),
    (DocumentType.TAIWAN_RESIDENCE_PERMIT, flip_check(TW_PERMIT), DocumentCheckCharacterError),
    (
        DocumentType.FOREIGN_PERMANENT_RESIDENCE_2023,
        flip_check(FOREIGN_2023),
        DocumentCheckCharacterError,
    ),
    (
        DocumentType.FOREIGN_PERMANENT_RESIDENCE_2017,
        flip_check(FOREIGN_2017),
        DocumentCheckCharacterError,
    ),
    # type / prefix mismatch
    (DocumentType.RESIDENT_ID, HK_PERMIT, DocumentTypeMismatchError),
    (DocumentType.TEMPORARY_RESIDENT_ID, TW_PERMIT, DocumentTypeMismatchError),
    (DocumentType.RESIDENT_ID, FOREIGN_2023, DocumentTypeMismatchError),
    (DocumentType.HK_MACAO_RESIDENCE_PERMIT, RESIDENT, DocumentTypeMismatchError),
    (DocumentType.HK_MACAO_RESIDENCE_PERMIT, TW_PERMIT, DocumentTypeMismatchError),
    (DocumentType.TAIWAN_RESIDENCE_PERMIT, HK_PERMIT, DocumentTypeMismatchError),
    (DocumentType.FOREIGN_PERMANENT_RESIDENCE_2023, RESIDENT, DocumentTypeMismatchError),
    (
        DocumentType.FOREIGN_PERMANENT_RESIDENCE_2023,
        mod11("93115619850615001"),  # nationality 156 = China
        DocumentTypeMismatchError,
    ),
    (DocumentType.FOREIGN_PERMANENT_RESIDENCE_2017, FOREIGN_2023, DocumentTypeMismatchError),
    (
        DocumentType.FOREIGN_PERMANENT_RESIDENCE_2017,
        icao("CHN31101201151"),
        DocumentTypeMismatchError,
    ),
    (DocumentType.HK_MACAO_TRAVEL_PERMIT, "12345678", DocumentTypeMismatchError),
    (DocumentType.TAIWAN_TRAVEL_PERMIT, "H12345678", DocumentTypeMismatchError),
]


@pytest.mark.parametrize(("kind", "number", "error"), BAD)
def test_each_kind_of_bad_number_has_its_error(
    kind: DocumentType, number: str, error: type[DocumentError]
) -> None:
    with pytest.raises(error) as info:
        parse_document(kind, number)
    exc = info.value
    assert exc.code is ErrorCode.BAD_INPUT and isinstance(exc, ValueError)
    assert exc.message("en").startswith(DOCUMENT_MESSAGES[exc.problem][0])
    assert exc.message("zh").startswith(DOCUMENT_MESSAGES[exc.problem][1])
    for text in (str(exc), exc.message("zh"), repr(exc)):
        assert number not in text and number[:-1] not in text


def test_chinese_passport_rules() -> None:
    with pytest.raises(DocumentFormatError):
        parse_document(DocumentType.PASSPORT, "X1234567", nationality="CHN")
    with pytest.raises(DocumentFormatError):
        parse_document(DocumentType.PASSPORT, "EI1234567", nationality="CHN")  # no I or O
    with pytest.raises(DocumentFormatError):
        parse_document(DocumentType.PASSPORT, "E12345678", nationality="China")


def test_unknown_type_and_non_string() -> None:
    with pytest.raises(DocumentFormatError):
        parse_document(42, RESIDENT)
    with pytest.raises(DocumentFormatError):
        parse_document(True, RESIDENT)  # type: ignore[arg-type]
    with pytest.raises(DocumentFormatError):
        parse_document(DocumentType.RESIDENT_ID, 110105194912310021)  # type: ignore[arg-type]


def test_temporary_resident_id_is_valid_three_months() -> None:
    doc = parse_document(DocumentType.TEMPORARY_RESIDENT_ID, RESIDENT, issued=dt.date(2025, 11, 30))
    check_document_in_force(doc, dt.date(2026, 2, 27))  # last day: 30 Nov + 3 months - 1 day
    with pytest.raises(TemporaryDocumentExpiredError) as info:
        check_document_in_force(doc, dt.date(2026, 2, 28))
    assert info.value.problem is DocumentProblem.TEMPORARY_EXPIRED
    assert "临时居民身份证" in info.value.message("zh")
    with pytest.raises(DocumentFormatError):  # the 3 months need a date of issue
        check_document_in_force(parse_document(2, RESIDENT), dt.date(2026, 1, 1))


def test_expired_document() -> None:
    doc = parse_document(DocumentType.PASSPORT, "E12345678", expires=dt.date(2026, 2, 28))
    check_document_in_force(doc, dt.date(2026, 2, 28))
    with pytest.raises(DocumentExpiredError):
        check_document_in_force(doc, dt.date(2026, 3, 1))
    with pytest.raises(DocumentFormatError):
        parse_document(9, "E12345678", issued=dt.date(2026, 1, 2), expires=dt.date(2026, 1, 1))


def test_every_problem_has_both_messages() -> None:
    assert set(DOCUMENT_MESSAGES) == set(DocumentProblem)
    for en, zh in DOCUMENT_MESSAGES.values():
        assert en.isascii() and not zh.isascii()


def test_masking() -> None:
    assert mask_document_number(1, RESIDENT) == "110105********002X"
    assert mask_document_number(7, "H12345678") == "H12****78"
    assert mask_document_number(9, "X1234567") == "X12***67"


# ----------------------------------------------------------------- against python-stdnum


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    st.sampled_from(["110105", "110101", "310101"]),  # regions in stdnum's table
    st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)),
    st.integers(0, 999),
    st.sampled_from("0123456789X"),
)
def test_resident_ids_agree_with_stdnum(region: str, birth: dt.date, seq: int, last: str) -> None:
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    assert ric.calc_check_digit(first17 + "0") == mod11(first17)[-1]
    number = first17 + last
    ours = True
    try:
        parse_document(DocumentType.RESIDENT_ID, number)
    except DocumentCheckCharacterError:
        ours = False
    assert ours == ric.is_valid(number)


# ----------------------------------------------------------------- cards with each holder


def _card(kind: DocumentType, number: str) -> Card:
    return Card(
        holder=Holder(name="Anna Müller", document=kind, ssn=number),
        card_number="A12345678",
        region="310115",
        issued=dt.date(2024, 1, 15),
        expires=dt.date(2034, 1, 15),
    )


@pytest.mark.parametrize(("kind", "number"), [(k, n) for k, n, _, _ in VALID[1:]])
def test_card_carries_each_holder(
    kind: DocumentType, number: str, issuer: Issuer, verifier: Verifier
) -> None:
    card = _card(kind, number)
    claim = card.to_claim()
    assert claim[DOCUMENT_KEY] == kind.value
    assert claim[2] == (int(number[:17]) if kind.mod11_number else number)
    assert Card.from_claim(claim) == card
    assert Card.model_validate_json(card.model_dump_json()) == card
    assert number not in repr(card) and card.masked()["document"] == kind.name.lower()
    result = verifier.verify(issuer.issue(card).text)
    assert result.code is ErrorCode.OK and result.card == card


def test_resident_id_card_keeps_its_encoding(card: Card, issuer: Issuer) -> None:
    """Resident-ID cards have no key 9 and no ``document`` in JSON: existing codes still read."""
    assert DOCUMENT_KEY not in card.to_claim()
    assert "document" not in card.model_dump_json()
    raw = cbor2.loads(decode_claims_payload(issuer.issue(card).text))
    assert sorted(raw[CLAIM_CARD]) == [1, 2, 3, 4, 5, 6, 7, 8]


def decode_claims_payload(text: str) -> bytes:
    payload: bytes = cbor2.loads(decode_text(text)).value[2]
    assert decode_claims(payload).card is not None
    return payload


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({DOCUMENT_KEY: 1}, "left out for a resident ID"),
        ({DOCUMENT_KEY: 99}, "not a known document type"),
        ({DOCUMENT_KEY: "passport"}, "must be an integer"),
        ({DOCUMENT_KEY: 9, 2: 12345678}, r"2 \(ssn\) must be a text string"),
        ({DOCUMENT_KEY: 9, 2: "e12345678"}, "canonical"),
        ({DOCUMENT_KEY: 7, 2: "E12345678"}, "wrong length or characters"),
    ],
)
def test_document_claim_is_strict(card: Card, patch: dict[int, object], reason: str) -> None:
    claim: dict[int, object] = {**card.to_claim(), **patch}
    with pytest.raises(ValueError, match=reason):
        Card.from_claim(claim)
