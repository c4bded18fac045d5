""":meth:`Card.from_claim` builds a valid canonical card without pydantic's validation pass
(``ecard.card._card_if_valid``); it must give exactly what the full validation gives, and leave
every claim the full validation rejects (or would change) to it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import cards

import ecard.card
from ecard.card import Card


def _slow(claim: dict[int, Any]) -> Card | str:
    saved = ecard.card._card_if_valid
    ecard.card._card_if_valid = lambda *args: None  # type: ignore[assignment]
    try:
        return Card.from_claim(claim)
    except ValueError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        ecard.card._card_if_valid = saved


def _fast(claim: dict[int, Any]) -> Card | str:
    try:
        return Card.from_claim(claim)
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
