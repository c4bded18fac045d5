"""Fast paths of the card model: a canonical card built without pydantic's validation pass,
and its JSON form written out.

The contract: every function here gives exactly what the models of :mod:`ecard.card` give
(the same card, the same fields marked as set, the same JSON), or ``None`` / the models' own
answer where a value is not canonical or breaks a rule; the rules are the models' own, applied
through the same functions. ``tests/test_card_fastpath.py`` holds both ways equal.

* :func:`card_from_claim`: :meth:`Card.from_claim <ecard.card.Card.from_claim>` for the
  compact claim signed in a CWT (the verifier's path).
* :func:`card_if_canonical`: ``Card.model_validate`` for a flat record (a batch's CSV row or
  JSON line), or ``None``.
* :func:`card_json`: ``card.model_dump(mode="json")``, without building pydantic's serialiser
  (it lives in :mod:`ecard.cardrecord`, which the verifier imports without the models).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from pydantic import BaseModel

from ecard.card import Card, Holder
from ecard.cardbase import _MAX_EXPIRES, _MIN_ISSUED, _SPEC_TEXT, CardStatus
from ecard.cardrecord import card_json, record_from_fields
from ecard.documents import DocumentType
from ecard.identifiers import (
    _fast_birth_date,
    normalize_card_number,
    normalize_name,
    normalize_region_code,
)

__all__ = [
    "card_from_claim",
    "card_from_fields",
    "card_if_canonical",
    "card_json",
    "resident_card",
]


def card_from_claim(claim: object) -> Card:
    """:meth:`Card.from_claim <ecard.card.Card.from_claim>`, the same card or the same error:
    a canonical resident-ID claim that passes every rule is built by :func:`card_from_fields`,
    anything else goes to ``Card.from_claim``, which words the problem."""
    if type(claim) is dict and len(claim) == 8:
        try:
            name, ssn, card_number, region, spec, issued, expires, status = (
                claim[1], claim[2], claim[3], claim[4], claim[5], claim[6], claim[7], claim[8]
            )  # fmt: skip
        except KeyError:
            return Card.from_claim(claim)
        if (
            all(type(key) is int for key in claim)  # 1.0 or True would match the lookups
            and type(name) is str
            and type(ssn) is int
            and type(card_number) is str
            and type(region) is int
            and type(spec) is int
            and type(issued) is int
            and type(expires) is int
            and type(status) is int
        ):
            fast = card_from_fields(name, ssn, card_number, region, spec, issued, expires, status)
            if fast is not None:
                return fast
    return Card.from_claim(claim)


def card_from_fields(
    name: str,
    ssn: int,
    card_number: str,
    region: int,
    spec: int,
    issued: int,
    expires: int,
    status: int,
) -> Card | None:
    """The card ``Card.from_claim`` makes of the claim ``{1: name, 2: ssn, ..., 8: status}``
    (values of exactly these types: the caller checked them, as :func:`card_from_claim` and the
    CWT reader do) when it is canonical and passes every rule; ``None`` otherwise, and then
    ``Card.from_claim`` decides and words the problem. The rules are applied by
    :func:`ecard.cardrecord.record_from_fields`."""
    record = record_from_fields(name, ssn, card_number, region, spec, issued, expires, status)
    return None if record is None else record.to_card()


_CARD_FIELDS: Final = frozenset(Card.model_fields)
#: What validating ``{"name": ..., "ssn": ...}`` sets: ``document`` keeps its default.
_HOLDER_FIELDS: Final = frozenset({"name", "ssn"})
_set_slot = object.__setattr__


def _built(model: type[BaseModel], values: dict[str, Any], fields: frozenset[str]) -> Any:
    """An instance of ``model`` holding ``values``, made as ``model_construct`` makes one
    (the four slots every pydantic model has), for values already checked field by field."""
    made = object.__new__(model)
    _set_slot(made, "__dict__", values)
    _set_slot(made, "__pydantic_fields_set__", set(fields))
    _set_slot(made, "__pydantic_extra__", None)
    _set_slot(made, "__pydantic_private__", None)
    return made


def resident_card(
    name: str,
    ssn: str,
    card_number: str,
    region: str,
    spec: str,
    issued: date,
    expires: date,
    state: CardStatus,
    fields_set: frozenset[str] | None = None,
) -> Card:
    """A resident-ID card from values already checked, with ``fields_set`` marked as set
    (default: every field, as ``Card.from_claim`` marks them)."""
    holder = _built(
        Holder,
        {"name": name, "document": DocumentType.RESIDENT_ID, "ssn": ssn},
        _HOLDER_FIELDS,
    )
    card: Card = _built(
        Card,
        {
            "holder": holder,
            "card_number": card_number,
            "region": region,
            "spec_version": spec,
            "issued": issued,
            "expires": expires,
            "status": state,
        },
        _CARD_FIELDS if fields_set is None else fields_set,
    )
    return card


#: The flat keys of a card record (``name`` and ``ssn`` are the holder's), and the optional ones.
_FLAT_REQUIRED: Final = frozenset({"name", "ssn", "card_number", "region", "issued", "expires"})
_FLAT_KEYS: Final = _FLAT_REQUIRED | {"spec_version", "status"}
#: Every spec version the field's pattern ``^[1-9]\.[0-9]{2}$`` accepts.
_SPEC_VALUES: Final = frozenset(_SPEC_TEXT[100:])


def _iso_day(text: str) -> date | None:
    """The date of an exact ``YYYY-MM-DD`` text (ASCII digits), else ``None``."""
    if not (
        len(text) == 10
        and text[4] == "-"
        and text[7] == "-"
        and text.isascii()
        and (text[:4] + text[5:7] + text[8:]).isdigit()
    ):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def card_if_canonical(fields: Mapping[str, object]) -> Card | None:
    """The card ``Card.model_validate`` makes of a flat record (the keys ``name, ssn,
    card_number, region, issued, expires`` and optionally ``spec_version, status``; ``name`` and
    ``ssn`` the holder's), without pydantic's validation pass, when every value is already in
    canonical form and passes every rule of the models; ``None`` otherwise: then the full
    validation (``Card.model_validate``) decides and words the problem.

    The rules are the models' own, through the same functions, as :func:`ecard.cardrecord.record_from_fields` applies
    them to a claim: the name, card number and region normalisers (a value they would change is
    not canonical), the citizen ID check, the status parser, the spec version's pattern, the
    date bounds and the cross-field rules. Dates must be ``YYYY-MM-DD`` texts (what a CSV file
    or a JSON line holds). ``tests/test_card_fastpath.py`` holds both ways equal, including the
    fields each marks as set.
    """
    keys = fields.keys()
    if not (keys >= _FLAT_REQUIRED and keys <= _FLAT_KEYS):
        return None
    name, ssn = fields["name"], fields["ssn"]
    card_number, region = fields["card_number"], fields["region"]
    issued, expires = fields["issued"], fields["expires"]
    spec = fields.get("spec_version", "3.00")
    if not (
        type(name) is str
        and type(ssn) is str
        and type(card_number) is str
        and type(region) is str
        and type(issued) is str
        and type(expires) is str
        and type(spec) is str
        and spec in _SPEC_VALUES
    ):
        return None
    birth = _fast_birth_date(ssn)
    day_issued, day_expires = _iso_day(issued), _iso_day(expires)
    if birth is None or day_issued is None or day_expires is None:
        return None
    if not (day_issued >= _MIN_ISSUED and birth <= day_issued < day_expires <= _MAX_EXPIRES):
        return None
    try:
        if (
            normalize_name(name) != name
            or normalize_card_number(card_number) != card_number
            or normalize_region_code(region) != region
        ):
            return None
        state = CardStatus.parse(fields["status"]) if "status" in keys else CardStatus.ACTIVE
    except ValueError:
        return None
    return resident_card(
        name, ssn, card_number, region, spec, day_issued, day_expires, state,
        _FLAT_SET["spec_version" in keys, "status" in keys],
    )  # fmt: skip


_CARD_SET: Final = frozenset({"holder", "card_number", "region", "issued", "expires"})
#: The fields ``model_validate`` marks as set, by (spec_version given, status given).
_FLAT_SET: Final[dict[tuple[bool, bool], frozenset[str]]] = {
    (spec, status): _CARD_SET
    | {key for key, given in (("spec_version", spec), ("status", status)) if given}
    for spec in (False, True)
    for status in (False, True)
}
