"""``ecard.cardfast.card_from_claim`` builds a valid canonical card without pydantic's validation
pass; it must give exactly what the full validation (:meth:`Card.from_claim`) gives, and leave
every claim the full validation rejects (or would change) to it. The same holds for a flat
record (a batch's CSV row or JSON line) and ``ecard.cardfast.card_if_canonical``."""

from __future__ import annotations

from typing import Any, Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from tests.strategies import cards

from ecard.card import Card
from ecard.cardfast import card_from_claim, card_from_fields, card_if_canonical, card_json
from ecard.cardrecord import record_from_fields
from ecard.documents import DocumentType
from ecard.identifiers import _check_char


def _slow(claim: dict[int, Any]) -> Card | str:
    try:
        return Card.from_claim(claim)
    except ValueError as exc:
        return f"{type(exc).__name__}: {exc}"


def _fast(claim: dict[int, Any]) -> Card | str:
    try:
        return card_from_claim(claim)
    except ValueError as exc:
        return f"{type(exc).__name__}: {exc}"


def _same(a: Card | str, b: Card | str) -> None:
    assert a == b
    if isinstance(a, Card) and isinstance(b, Card):
        assert a.model_dump() == b.model_dump()
        assert a.model_dump_json() == b.model_dump_json()
        assert a.__pydantic_fields_set__ == b.__pydantic_fields_set__
        assert a.holder.__pydantic_fields_set__ == b.holder.__pydantic_fields_set__
        assert list(a.__dict__) == list(b.__dict__)
        assert repr(a) == repr(b) and hash(a.holder.name) == hash(b.holder.name)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(card=cards())
def test_valid_cards_are_the_same_both_ways(card: Card) -> None:
    claim = card.to_claim()
    fast = _fast(claim)
    assert isinstance(fast, Card)
    assert fast == card
    _same(fast, _slow(claim))
    if len(claim) == 8:  # a resident ID card: built by the fast path, not left to pydantic
        built = card_from_fields(*(claim[k] for k in range(1, 9)))  # type: ignore[arg-type]
        assert built is not None and built == card
        # the record the verifier carries answers what the card answers, and prints its JSON
        record = record_from_fields(*(claim[k] for k in range(1, 9)))  # type: ignore[arg-type]
        assert record is not None and record.to_card() == card
        assert card_json(record) == card.model_dump(mode="json")
        for name in ("card_number", "region", "spec_version", "issued", "expires", "status"):
            assert getattr(record, name) == getattr(card, name)
        for name in ("name", "ssn", "document", "masked_name", "masked_ssn"):
            assert getattr(record.holder, name) == getattr(card.holder, name)
        assert record.profile == card.profile and card.holder.name not in repr(record)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    card=cards(),
    key=st.sampled_from(range(1, 9)),
    value=st.one_of(
        st.integers(-10, 80_000),
        st.integers(0, 10**17),
        st.sampled_from(
            ["", " 张三", "张三 ", "ABC", "a12345678", "A1234567", "3.00", "张\u3000三"]
        ),
        st.text(max_size=12),
    ),
)
def test_changed_claims_are_judged_the_same_both_ways(card: Card, key: int, value: Any) -> None:
    claim: dict[int, Any] = {**card.to_claim(), key: value}
    _same(_fast(claim), _slow(claim))


@pytest.mark.parametrize(
    "change",
    [
        {6: 7304},  # issued 1989-12-31: before 1990
        {7: 84000},  # expires after 2199-12-31
        {6: 20000, 7: 20000},  # expires on the day of issue
        {6: 0},  # issued before the holder was born
        {8: 4},  # no such status
        {2: 11010519491231002},  # a check character the claim does not carry is derived
        {4: 990000},  # no such province
    ],
)
def test_each_model_rule_still_holds(card: Card, change: dict[int, Any]) -> None:
    claim = {**card.to_claim(), **change}
    fast, slow = _fast(claim), _slow(claim)
    _same(fast, slow)


def _flat(card: Card, spec: bool, status: bool) -> dict[str, Any]:
    """The flat record of ``card`` as a CSV row or a JSON line holds it."""
    flat: dict[str, Any] = {
        "name": card.holder.name,
        "ssn": card.holder.ssn,
        "card_number": card.card_number,
        "region": card.region,
        "issued": card.issued.isoformat(),
        "expires": card.expires.isoformat(),
    }
    if spec:
        flat["spec_version"] = card.spec_version
    if status:
        flat["status"] = card.status.name.lower()
    return flat


def _validated(flat: dict[str, Any]) -> Card | None:
    record = {k: v for k, v in flat.items() if k not in ("name", "ssn")}
    record["holder"] = {k: flat[k] for k in ("name", "ssn") if k in flat}
    try:
        return Card.model_validate(record)
    except ValidationError:
        return None


@settings(max_examples=80, deadline=None, derandomize=True)
@given(card=cards(), spec=st.booleans(), status=st.booleans())
def test_canonical_flat_records_skip_validation_and_give_the_same_card(
    card: Card, spec: bool, status: bool
) -> None:
    flat = _flat(card, spec, status)
    fast, slow = card_if_canonical(flat), _validated(flat)
    if card.holder.document is DocumentType.RESIDENT_ID:
        assert isinstance(fast, Card)
    if fast is not None:
        assert slow is not None
        _same(fast, slow)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    card=cards(),
    key=st.sampled_from(
        ["name", "ssn", "card_number", "region", "issued", "expires", "spec_version", "status"]
    ),
    value=st.one_of(
        st.none(),
        st.integers(-10, 80_000),
        st.sampled_from(
            [
                "",
                " 张三",
                "张三 ",
                "a12345678",
                "A1234567",
                "3.00",
                "3.00\n",
                "03.00",
                "2024-01-15",
                "2024-1-15",
                "20240115",
                "2024-02-30",
                "1989-12-31",
                "2200-01-01",
                "２０２４-01-15",
                "2024-01-15T00:00:00",
                "110105",
                "11010５",
                "active",
                "1",
                "ACTIVE",
                "cancelled",
                "11010519491231002x",
                "11010519491231002X",
            ]
        ),
        st.text(max_size=12),
        st.lists(st.integers(), max_size=2),
    ),
    drop=st.booleans(),
)
def test_changed_flat_records_are_left_to_validation_unless_identical(
    card: Card, key: str, value: Any, drop: bool
) -> None:
    flat = _flat(card, True, True)
    if drop:
        flat.pop(key)
    else:
        flat[key] = value
    fast, slow = card_if_canonical(flat), _validated(flat)
    if fast is not None:
        assert slow is not None
        _same(fast, slow)


def test_an_unknown_key_is_left_to_validation(card: Card) -> None:
    flat = {**_flat(card, False, False), "photo": "x"}
    assert card_if_canonical(flat) is None and _validated(flat) is None


_BORN_2005: Final = "110105200501010" + "01"


@pytest.mark.parametrize(
    "change",
    [
        {"ssn": _BORN_2005 + _check_char(_BORN_2005), "issued": "2004-12-31"},  # before birth
        {"issued": "1989-12-31"},  # before 1990
        {"expires": "2200-01-01"},  # after 2199-12-31
        {"issued": "2030-01-15", "expires": "2030-01-15"},  # expires on the day of issue
        {"status": "lost"},  # no such status
        {"spec_version": "3.0"},  # not the pattern
        {"region": "990000"},  # no such province
        {"card_number": "a12345678"},  # not canonical: validation upper-cases it
        {"ssn": "11010519491231002x"},  # not canonical: validation upper-cases it
    ],
)
def test_each_model_rule_still_holds_for_flat_records(card: Card, change: dict[str, str]) -> None:
    flat = {**_flat(card, False, False), **change}
    assert card_if_canonical(flat) is None


@settings(max_examples=80, deadline=None, derandomize=True)
@given(card=cards())
def test_the_written_out_json_form_is_pydantics(card: Card) -> None:
    written, dumped = card_json(card), card.model_dump(mode="json")
    assert written == dumped
    assert list(written) == list(dumped) and list(written["holder"]) == list(dumped["holder"])
