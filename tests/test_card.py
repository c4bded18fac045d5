"""The card model: validation, JSON and compact-claim round trips, masking."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from tests.strategies import cards

from ecard.card import CLAIM_KEYS, REDACTED, Card, CardStatus, Holder

SSN = "11010519491231002X"
NAME = "张三丰"
#: Born 2024-01-16, the day after make_card()'s issue date.
BORN_DAY_AFTER_ISSUE = "110105202401160012"


def make_card(**changes: Any) -> Card:
    fields: dict[str, Any] = {
        "holder": {"name": NAME, "ssn": SSN},
        "card_number": "A12345678",
        "region": "110105",
        "issued": dt.date(2024, 1, 15),
        "expires": dt.date(2034, 1, 15),
    }
    fields.update(changes)
    return Card.model_validate(fields)


@pytest.fixture
def claim() -> dict[int, Any]:
    return make_card().to_claim()


def days(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


# --------------------------------------------------------------------------- the model


def test_defaults_and_properties() -> None:
    card = make_card(card_number="a12345678")
    assert card.card_number == "A12345678"
    assert card.spec_version == "3.00"
    assert card.status is CardStatus.ACTIVE
    assert card.holder.birth_date == dt.date(1949, 12, 31)
    assert card.holder.sex == "F"
    assert card.holder.masked_name == "张*丰"
    assert card.holder.masked_ssn == "110105********002X"


def test_holder_normalises() -> None:
    holder = Holder(name=" 张三丰 ", ssn=" 11010519491231002x ")
    assert holder.name == NAME
    assert holder.ssn == SSN


def test_frozen_and_extra_forbidden() -> None:
    card = make_card()
    with pytest.raises(ValidationError):
        card.region = "110106"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="photo"):
        make_card(photo="x")
    with pytest.raises(ValidationError, match="nickname"):
        Holder.model_validate({"name": NAME, "ssn": SSN, "nickname": "x"})


def test_hashable_and_equal() -> None:
    assert make_card() == make_card()
    assert hash(make_card()) == hash(make_card())
    assert make_card() != make_card(status=2)


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"expires": dt.date(2024, 1, 15)}, "expires", "must be after issued"),
        ({"expires": dt.date(2020, 1, 1)}, "expires", "must be after issued"),
        ({"expires": dt.date(2200, 1, 1)}, "expires", "2199-12-31"),
        ({"issued": dt.date(1989, 12, 31)}, "issued", "1990-01-01"),
        (
            {"holder": {"name": NAME, "ssn": BORN_DAY_AFTER_ISSUE}},
            "issued",
            "before the holder's birth date",
        ),
        ({"card_number": "A1234567"}, "card_number", "exactly 9 characters"),
        ({"card_number": 123456789}, "card_number", "valid string"),
        ({"region": "110001"}, "region", "invalid region structure"),
        ({"region": 110105}, "region", "valid string"),
        ({"spec_version": "3.0"}, "spec_version", "pattern"),
        ({"spec_version": "03.00"}, "spec_version", "pattern"),
        ({"spec_version": "3.000"}, "spec_version", "pattern"),
        ({"spec_version": "3.00\n"}, "spec_version", "pattern"),
        ({"spec_version": "３.00"}, "spec_version", "pattern"),
        ({"spec_version": "3.٠٠"}, "spec_version", "pattern"),
        ({"status": 4}, "status", "unknown card status 4"),
        ({"status": True}, "status", "not bool"),
        ({"status": "lost"}, "status", "unknown card status name"),
        ({"holder": {"name": "张3", "ssn": SSN}}, "holder.name", "digits are not allowed"),
        ({"holder": {"name": NAME, "ssn": "110105194912310021"}}, "holder.ssn", "check character"),
        ({"holder": {"name": b"Zhang", "ssn": SSN}}, "holder.name", "valid string"),
    ],
)
def test_validation_errors_name_field_and_reason(
    changes: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(ValidationError) as info:
        make_card(**changes)
    errors = info.value.errors(include_input=False)
    assert len(errors) == 1
    assert ".".join(str(p) for p in errors[0]["loc"]) == field
    text = str(info.value)
    assert field in text
    assert reason in text


def test_issued_on_birth_day_is_fine() -> None:
    card = make_card(holder={"name": NAME, "ssn": "110105202401150017"})
    assert card.holder.birth_date == card.issued


def test_validation_errors_do_not_echo_personal_data() -> None:
    with pytest.raises(ValidationError) as info:
        make_card(holder={"name": "张三丰3", "ssn": "110105194912310021"})
    text = str(info.value)
    assert "110105194912310021" not in text
    assert "19491231" not in text
    assert "张三丰" not in text
    assert len(info.value.errors()) == 2


# --------------------------------------------------------------------------- repr and masking


def test_repr_and_str_are_masked() -> None:
    card = make_card(holder={"name": "Zhang Sanfeng", "ssn": SSN})
    for text in (repr(card), str(card), repr(card.holder), str(card.holder), f"{card!r}"):
        assert SSN not in text
        assert "19491231" not in text
        assert "Zhang" not in text
        assert "Sanfeng" not in text
        assert "A12345678" not in text
    assert "Z**** S******" in repr(card.holder)
    assert "110105********002X" in repr(card)
    assert NAME not in repr(make_card())
    assert "张*丰" in str(make_card())


@given(cards())
def test_repr_never_shows_the_full_ssn(card: Card) -> None:
    text = repr(card) + str(card)
    assert card.holder.ssn not in text
    assert card.holder.ssn[6:14] not in text
    if len(card.holder.name) > 1:
        assert repr(card.holder.name) not in text  # quoted: 'Ca' is in 'Card(' itself


def test_masked_dict() -> None:
    assert make_card().masked() == {
        "name": "张*丰",
        "ssn": "110105********002X",
        "card_number": "A1*****78",
        "region": "110105",
        "spec_version": "3.00",
        "issued": "2024-01-15",
        "expires": "2034-01-15",
        "status": "active",
    }


# --------------------------------------------------------------------------- status


def test_status_json_form() -> None:
    card = make_card(status=CardStatus.SUSPENDED)
    data = json.loads(card.model_dump_json())
    assert data["status"] == "suspended"
    assert card.model_dump()["status"] is CardStatus.SUSPENDED
    assert card.model_dump(mode="json")["status"] == "suspended"


@pytest.mark.parametrize(
    ("given_status", "expected"),
    [
        (1, CardStatus.ACTIVE),
        (2, CardStatus.SUSPENDED),
        (3, CardStatus.CANCELLED),
        (CardStatus.CANCELLED, CardStatus.CANCELLED),
        ("active", CardStatus.ACTIVE),
        ("CANCELLED", CardStatus.CANCELLED),
    ],
)
def test_status_inputs(given_status: object, expected: CardStatus) -> None:
    assert make_card(status=given_status).status is expected


def test_status_from_json_int_and_name() -> None:
    base = json.loads(make_card().model_dump_json())
    for raw, expected in ((3, CardStatus.CANCELLED), ("suspended", CardStatus.SUSPENDED)):
        base["status"] = raw
        assert Card.model_validate_json(json.dumps(base)).status is expected


def test_status_labels_and_schema() -> None:
    assert CardStatus.ACTIVE.label() == "active"
    assert CardStatus.SUSPENDED.label("zh") == "挂失/暂停"
    assert CardStatus.CANCELLED.label("zh") == "注销"
    schema = Card.model_json_schema()
    status_schema = json.dumps(schema)
    assert '"active"' in status_schema and '"cancelled"' in status_schema


# --------------------------------------------------------------------------- JSON


def test_json_shape() -> None:
    assert json.loads(make_card().model_dump_json()) == {
        "holder": {"name": NAME, "ssn": SSN},
        "card_number": "A12345678",
        "region": "110105",
        "spec_version": "3.00",
        "issued": "2024-01-15",
        "expires": "2034-01-15",
        "status": "active",
    }


@given(cards())
def test_json_round_trip(card: Card) -> None:
    text = card.model_dump_json()
    again = Card.model_validate_json(text)
    assert again == card
    assert again.model_dump_json() == text
    assert Card.model_validate(card.model_dump()) == card


# --------------------------------------------------------------------------- compact claim


def test_claim_shape() -> None:
    assert make_card().to_claim() == {
        1: NAME,
        2: 11010519491231002,
        3: "A12345678",
        4: 110105,
        5: 300,
        6: days(dt.date(2024, 1, 15)),
        7: days(dt.date(2034, 1, 15)),
        8: 1,
    }
    assert dict(CLAIM_KEYS) == {
        "name": 1,
        "ssn": 2,
        "card_number": 3,
        "region": 4,
        "spec_version": 5,
        "issued": 6,
        "expires": 7,
        "status": 8,
    }
    assert set(make_card().to_claim()) == set(CLAIM_KEYS.values())
    assert set(CLAIM_KEYS) == set(Card.model_fields) - {"holder"} | {"name", "ssn"}


@given(cards())
def test_claim_round_trip(card: Card) -> None:
    claim = card.to_claim()
    assert all(type(v) in (int, str) for v in claim.values())
    again = Card.from_claim(claim)
    assert again == card
    assert again.to_claim() == claim


def test_claim_types_are_exact() -> None:
    claim = make_card(status=CardStatus.CANCELLED).to_claim()
    assert type(claim[8]) is int


@pytest.mark.parametrize("not_a_map", [None, [], [1, 2], "claim", b"claim", 5, ((1, "x"),)])
def test_from_claim_needs_a_dict(not_a_map: object) -> None:
    with pytest.raises(ValueError, match="card claim must be a map"):
        Card.from_claim(not_a_map)


@pytest.mark.parametrize("key", list(range(1, 9)))
def test_from_claim_missing_key(claim: dict[int, Any], key: int) -> None:
    del claim[key]
    with pytest.raises(ValueError, match=f"missing key\\(s\\) {key} "):
        Card.from_claim(claim)


@pytest.mark.parametrize("extra", [0, 10, -1, "name", b"\x01", 2**64])
def test_from_claim_unknown_key(claim: dict[int, Any], extra: object) -> None:
    claim[extra] = 1  # type: ignore[index]
    with pytest.raises(ValueError, match="unknown key"):
        Card.from_claim(claim)


@pytest.mark.parametrize("imposter", [True, 1.0])
def test_from_claim_key_must_be_an_int(claim: dict[Any, Any], imposter: object) -> None:
    value = claim.pop(1)
    claim[imposter] = value
    assert len(claim) == 8
    with pytest.raises(ValueError, match="unknown key"):
        Card.from_claim(claim)


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        (1, b"\xe5\xbc\xa0\xe4\xb8\x89", "1 (name) must be a text string, not bytes"),
        (1, 5, "1 (name) must be a text string, not int"),
        (1, None, "not NoneType"),
        (2, True, "2 (ssn) must be an integer, not bool"),
        (2, "11010519491231002", "2 (ssn) must be an integer, not str"),
        (2, 11010519491231002.0, "not float"),
        (3, b"A12345678", "3 (card_number) must be a text string, not bytes"),
        (4, True, "4 (region) must be an integer, not bool"),
        (4, "110105", "not str"),
        (5, 3.0, "5 (spec_version) must be an integer, not float"),
        (5, "3.00", "not str"),
        (6, True, "6 (issued) must be an integer, not bool"),
        (7, False, "7 (expires) must be an integer, not bool"),
        (8, True, "8 (status) must be an integer, not bool"),
        (8, "active", "8 (status) must be an integer, not str"),
        (2, -1, "2 (ssn) is out of range"),
        (2, 10**17, "2 (ssn) is out of range"),
        (4, -110105, "4 (region) is out of range"),
        (4, 99999, "4 (region) is out of range"),
        (4, 1_000_000, "4 (region) is out of range"),
        (5, 99, "5 (spec_version) is out of range"),
        (5, 1000, "5 (spec_version) is out of range"),
        (5, -300, "5 (spec_version) is out of range"),
        (6, -1, "6 (issued) is out of range"),
        (7, 10**9, "7 (expires) is out of range"),
    ],
)
def test_from_claim_type_and_range(
    claim: dict[int, Any], key: int, value: object, reason: str
) -> None:
    claim[key] = value
    with pytest.raises(ValueError) as info:
        Card.from_claim(claim)
    assert not isinstance(info.value, ValidationError)
    assert reason in str(info.value)


@pytest.mark.parametrize(
    ("key", "value", "field", "reason"),
    [
        (1, "", "holder.name", "empty"),
        (1, "张3", "holder.name", "digits are not allowed"),
        (2, 11010519990230002, "holder.ssn", "impossible birth date"),
        (2, 11010518991231002, "holder.ssn", "before 1900-01-01"),
        (2, 91010519491231002, "holder.ssn", "unknown province prefix '91'"),
        (2, 11000119491231002, "holder.ssn", "invalid region structure"),
        (2, 0, "holder.ssn", "unknown province prefix '00'"),
        (2, 1010519491231002, "holder.ssn", "unknown province prefix '01'"),
        (3, "A1234567", "card_number", "exactly 9 characters"),
        (3, "A1234567_", "card_number", "only Latin letters"),
        (4, 100105, "region", "unknown province prefix '10'"),
        (4, 110001, "region", "invalid region structure"),
        (6, days(dt.date(1989, 12, 31)), "issued", "1990-01-01"),
        (7, days(dt.date(2200, 1, 1)), "expires", "2199-12-31"),
        (7, days(dt.date(2024, 1, 15)), "expires", "must be after issued"),
        (7, days(dt.date(2024, 1, 14)), "expires", "must be after issued"),
        (8, 0, "status", "unknown card status 0"),
        (8, -1, "status", "unknown card status -1"),
        (8, 2**64, "status", "unknown card status"),
        (8, 4, "status", "unknown card status 4"),
    ],
)
def test_from_claim_invalid_values(
    claim: dict[int, Any], key: int, value: object, field: str, reason: str
) -> None:
    claim[key] = value
    with pytest.raises(ValueError) as info:
        Card.from_claim(claim)
    assert isinstance(info.value, ValidationError)
    errors = info.value.errors(include_input=False)
    assert ".".join(str(p) for p in errors[0]["loc"]) == field
    assert reason in str(info.value)


def test_from_claim_birth_after_issue(claim: dict[int, Any]) -> None:
    claim[2] = int(BORN_DAY_AFTER_ISSUE[:17])
    with pytest.raises(ValidationError) as info:
        Card.from_claim(claim)
    assert info.value.errors()[0]["loc"] == ("issued",)
    assert "before the holder's birth date" in str(info.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (1, " 张三丰"),
        (1, "张三丰 "),
        (1, "买买提・艾力"),  # U+30FB instead of U+00B7
        (1, "Jose\u0301"),  # not NFC
        (3, "a12345678"),
        (3, " A12345678"),
    ],
)
def test_from_claim_requires_canonical_text(claim: dict[int, Any], key: int, value: str) -> None:
    claim[key] = value
    with pytest.raises(ValueError, match="not in canonical form"):
        Card.from_claim(claim)


def test_from_claim_error_is_a_value_error_without_personal_data(claim: dict[int, Any]) -> None:
    claim[2] = 11010519990230002
    with pytest.raises(ValueError) as info:
        Card.from_claim(claim)
    assert "11010519990230002" not in str(info.value)
    assert NAME not in str(info.value)


@given(cards(), st.sampled_from(sorted(CLAIM_KEYS.values())), st.sampled_from([True, False]))
def test_from_claim_rejects_bools_everywhere(card: Card, key: int, flag: bool) -> None:
    claim: dict[int, Any] = dict(card.to_claim())
    claim[key] = flag
    with pytest.raises(ValueError, match=rf"card claim {key} \(\w+\) must be .*, not bool"):
        Card.from_claim(claim)


@given(cards(), st.sampled_from(sorted(CLAIM_KEYS.values())))
def test_from_claim_rejects_bytes_for_text(card: Card, key: int) -> None:
    claim: dict[int, Any] = dict(card.to_claim())
    value = claim[key]
    claim[key] = value.encode() if isinstance(value, str) else str(value)
    with pytest.raises(ValueError, match=rf"card claim {key} \(\w+\) must be .*, not (bytes|str)"):
        Card.from_claim(claim)


# --- PIPL: validation errors never carry the rejected name or ID number ------------------------


_NAME, _SSN = "张三丰", "11010519491231002X"
_GOOD = {
    "holder": {"name": _NAME, "ssn": _SSN},
    "card_number": "A12345678",
    "region": "110105",
    "issued": "2024-01-15",
    "expires": "2034-01-15",
}


def _everything_it_shows(exc: ValidationError) -> str:
    return (
        str(exc.errors()) + exc.json() + str(exc) + repr(exc) + str(exc.errors(include_url=False))
    )


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Holder(name=_NAME, ssn=_SSN[:-1] + "5"), "ssn"),
        (lambda: Holder(name=_NAME + "1", ssn=_SSN), "name"),
        (lambda: Card.model_validate({**_GOOD, "expires": "2020-01-15"}), "expires"),
        (lambda: Card.model_validate({**_GOOD, "region": "99"}), "region"),
        (
            lambda: Card.model_validate_json(
                json.dumps({**_GOOD, "holder": {"name": _NAME, "ssn": _SSN[:16]}})
            ),
            "ssn",
        ),
        (
            lambda: Card.model_validate_strings(
                {**_GOOD, "holder": {"name": _NAME, "ssn": _SSN[:-1] + "1"}}
            ),
            "ssn",
        ),
        (lambda: Card(**{**_GOOD, "holder": {"name": _NAME, "ssn": "x" + _SSN[1:]}}), "ssn"),
        (lambda: Card.from_claim({**Card.model_validate(_GOOD).to_claim(), 6: 99999}), "expires"),
    ],
)
def test_validation_errors_carry_no_name_or_id_number(build: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        build()
    shown = _everything_it_shows(info.value)
    assert _SSN[:14] not in shown and _NAME not in shown, shown
    # ...yet they still say which field failed and why
    assert any(field in map(str, e["loc"]) for e in info.value.errors()), info.value.errors()
    assert all(e["input"] == REDACTED for e in info.value.errors())
