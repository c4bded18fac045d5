"""``ecard verify --json`` writes the line of a valid card from a template
(``ecard.cli.verify._valid_line``); it must be the text the JSON encoder writes for the same
data, for every card, language, source and purpose, and leave every other result to it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tests.conftest import T0
from tests.strategies import cards

from ecard.card import Card, CardStatus, Holder
from ecard.cardrecord import ResidentRecord
from ecard.cli.verify import _JSON_LINE, _valid_line
from ecard.signing.issuer import Issuer
from ecard.verify.verifier import VerificationResult, Verifier


def _encoded(result: VerificationResult, source: str, lang: str) -> str:
    """What the general way writes: to_dict, then source and region_name, one JSON line."""
    from ecard.verify.regions import region_name

    data = result.to_dict(lang)  # type: ignore[arg-type]
    data["source"] = source
    if result.card is not None:
        data["region_name"] = region_name(result.card.region)
    return _JSON_LINE(data) + "\n"


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    card=cards(),
    source=st.sampled_from(["stdin:1", 'a "quoted" \\ path:2', "路径\u2028:3", "\x01ctl:4"]),
    lang=st.sampled_from(["en", "zh"]),
    purpose=st.sampled_from([None, "pharmacy", 'odd "purpose"']),
)
def test_the_template_line_is_the_encoders(
    card: Card, source: str, lang: str, purpose: str | None, issuer: Issuer, verifier: Verifier
) -> None:
    assume(card.valid_until > T0 + dt.timedelta(days=1))
    exp = min(T0 + dt.timedelta(days=30), card.valid_until)
    issued = issuer.issue(card.model_copy(update={"status": CardStatus.ACTIVE}), exp=exp)
    when = max(T0, card.valid_from) + dt.timedelta(minutes=10)
    result = verifier.verify(issued.text, now=when)
    if purpose is not None:
        result = dataclasses.replace(result, purpose=purpose)
    line = _valid_line(result, source, lang)  # type: ignore[arg-type]
    if result.valid:
        assert line == _encoded(result, source, lang)
        assert json.loads(line)["source"] == source
    else:
        assert line is None


def test_every_other_result_takes_the_general_way(
    card: Card, issuer: Issuer, verifier: Verifier
) -> None:
    result = verifier.verify(issuer.issue(card).text, now=T0 + dt.timedelta(hours=1))
    assert result.valid
    for lang in ("en", "zh"):
        assert _valid_line(result, "stdin:7", lang) == _encoded(result, "stdin:7", lang)
    for changed in (
        dataclasses.replace(result, warnings=("input: removed a UTF-8 byte-order mark",)),
        verifier.verify("EC1:AAAA", now=T0),
        dataclasses.replace(
            result,
            card=Card(
                holder=Holder(name="Anna Schmidt", document="passport", ssn="E12345678"),
                card_number=card.card_number,
                region=card.region,
                issued=card.issued,
                expires=card.expires,
            ),
        ),
    ):
        assert _valid_line(changed, "s", "en") is None
        assert json.loads(_encoded(changed, "s", "en"))["source"] == "s"


def test_the_verdict_built_without_its_init_is_the_dataclass(
    card: Card, issuer: Issuer, verifier: Verifier
) -> None:
    """``Verifier.verify`` fills a valid verdict's fields directly: every field, nothing more
    (the card under its descriptor's storage name, still the checked record), and the object
    equal to the one ``VerificationResult(...)`` makes of the same values."""
    result = verifier.verify(issuer.issue(card).text, now=T0 + dt.timedelta(hours=1))
    names = [f.name for f in dataclasses.fields(VerificationResult)]
    assert sorted(vars(result)) == sorted("_card_stored" if n == "card" else n for n in names)
    assert type(vars(result)["_card_stored"]) is ResidentRecord
    assert VerificationResult(**{n: getattr(result, n) for n in names}) == result
    assert repr(VerificationResult(**{n: getattr(result, n) for n in names})) == repr(result)
