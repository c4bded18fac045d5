"""Properties of the whole pipeline: issue -> text -> verify, and what tampering does to it."""

from __future__ import annotations

import datetime as dt
import zlib

import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st
from tests.conftest import T0, fixed_clock
from tests.strategies import ROUND_TRIP_OUTCOMES, cards, round_trip_cards

from ecard.card import Card, CardStatus
from ecard.errors import BadInputError, ErrorCode
from ecard.formats import base45, cbor, qrtext
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey
from ecard.verify.verifier import VerificationResult, Verifier

BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def _rejected(result: VerificationResult) -> None:
    assert not result.valid
    assert result.card is None
    assert result.code is not ErrorCode.OK
    assert "internal error" not in result.detail, result.detail


def _round_trip(card: Card, issuer: Issuer, verifier: Verifier) -> str:
    """Issue ``card`` at T0 with a 30-day credential and verify it; returns the outcome reached
    (one of ROUND_TRIP_OUTCOMES) after asserting what that outcome must look like."""
    exp = min(T0 + dt.timedelta(days=30), card.valid_until)
    if exp <= T0:  # the card expired before issuance: the issuer refuses
        with pytest.raises(BadInputError, match="after the end of the card's expiry date"):
            issuer.issue(card, exp=T0 + dt.timedelta(days=30))
        return "refused"
    issued = issuer.issue(card, exp=exp)
    when = max(T0, card.valid_from) + dt.timedelta(minutes=10)
    result = verifier.verify(issued.text, now=when)
    if when >= exp:  # the card starts after the credential ends
        assert result.code is ErrorCode.EXPIRED, result.detail
        return "expired"
    if card.status is not CardStatus.ACTIVE:
        assert result.code is ErrorCode.CARD_INACTIVE, result.detail
        return "inactive"
    assert result.code is ErrorCode.OK, result.detail
    assert result.card == card
    assert (result.cti, result.kid) == (issued.cti, issued.kid)
    if card.valid_from > T0 + dt.timedelta(minutes=10):
        assert verifier.verify(issued.text, now=T0).code is ErrorCode.NOT_YET_VALID
        return "not_yet_valid"
    return "ok"


@pytest.mark.parametrize("outcome", ROUND_TRIP_OUTCOMES)
@given(data=st.data())
def test_any_card_round_trips(
    outcome: str, data: st.DataObject, issuer: Issuer, verifier: Verifier
) -> None:
    """Any valid card -> issue -> verify gives the same card, judged at an instant inside both
    the credential's and the card's validity; outside the card's dates, the right code. Each
    outcome gets its own examples, and each card must reach the outcome it was built for."""
    card = data.draw(round_trip_cards(outcome, at=T0), label="card")
    assert _round_trip(card, issuer, verifier) == outcome, card


@given(card=cards())
def test_any_card_reaches_a_known_outcome(card: Card, issuer: Issuer, verifier: Verifier) -> None:
    """The same judgement over cards drawn without regard to T0 (issued 2000-2030, mostly
    refused or expired): whatever the dates, the outcome is consistent with them."""
    event(f"outcome: {_round_trip(card, issuer, verifier)}")


@pytest.mark.parametrize("alg", ["ES256", "ES384", "EdDSA", "PS256", "SM2"])
def test_every_algorithm_round_trips(
    alg: str, signers: dict[str, CertifiedKey], card: Card, verifier: Verifier
) -> None:
    s = signers[alg]
    issued = Issuer(s.signer(), s.certificate, clock=fixed_clock(T0)).issue(card)
    result = verifier.verify(issued.text)
    assert result.valid, result.detail
    assert result.alg == alg
    assert result.card == card


@pytest.fixture(scope="module", params=["ES256", "SM2"])
def sample_text(
    request: pytest.FixtureRequest, signers: dict[str, CertifiedKey], card: Card
) -> str:
    """A genuine credential from the ES256 or the SM2 document signer: every tampering
    property below holds for both."""
    s = signers[request.param]
    issued = Issuer(s.signer(), s.certificate, clock=fixed_clock(T0)).issue(card)
    return issued.text


@given(data=st.data())
def test_any_single_character_change_in_the_text_is_rejected(
    data: st.DataObject, sample_text: str, verifier: Verifier
) -> None:
    i = data.draw(st.integers(0, len(sample_text) - 1), label="position")
    repl = data.draw(st.sampled_from(BASE45_ALPHABET + "ec1;xyz\x00é张"), label="char")
    assume(repl != sample_text[i])
    _rejected(verifier.verify(sample_text[:i] + repl + sample_text[i + 1 :]))


@given(data=st.data())
def test_any_single_byte_change_in_the_cose_is_rejected(
    data: st.DataObject, sample_text: str, verifier: Verifier
) -> None:
    cose = qrtext.decode(sample_text)
    i = data.draw(st.integers(0, len(cose) - 1), label="position")
    b = data.draw(st.integers(0, 255), label="byte")
    assume(b != cose[i])
    mutated = cose[:i] + bytes([b]) + cose[i + 1 :]
    for compress in (False, True):
        payload = zlib.compress(mutated, 9) if compress else mutated
        _rejected(verifier.verify("EC1:" + base45.encode(payload)))


def test_every_byte_position_of_the_cose_is_guarded(sample_text: str, verifier: Verifier) -> None:
    """Exhaustive over positions (one flip each), so no byte is left to chance."""
    cose = qrtext.decode(sample_text)
    for i in range(len(cose)):
        for flip in (0x01, 0x80, 0xFF):
            mutated = cose[:i] + bytes([cose[i] ^ flip]) + cose[i + 1 :]
            _rejected(verifier.verify("EC1:" + base45.encode(mutated)))


def test_every_byte_of_the_signed_claims_is_guarded(sample_text: str, verifier: Verifier) -> None:
    """Changing any byte of the CBOR claims, keeping the original signature, is rejected."""
    tag = cbor.decode(qrtext.decode(sample_text), allowed_tags=frozenset({18}))
    prot, unprot, payload, sig = tag.value
    for i in range(len(payload)):
        changed = payload[:i] + bytes([payload[i] ^ 0x01]) + payload[i + 1 :]
        cose = cbor.encode(cbor.Tag(18, [prot, unprot, changed, sig]))
        result = verifier.verify("EC1:" + base45.encode(cose))
        _rejected(result)
        assert result.code is ErrorCode.BAD_SIGNATURE


@given(text=st.text(max_size=400))
def test_arbitrary_text_never_raises(text: str, verifier: Verifier) -> None:
    _rejected(verifier.verify(text))


@given(text=st.text(alphabet=BASE45_ALPHABET, max_size=400))
def test_arbitrary_base45_after_prefix_never_raises(text: str, verifier: Verifier) -> None:
    _rejected(verifier.verify("EC1:" + text))


@given(data=st.binary(max_size=600), compress=st.booleans())
def test_arbitrary_bytes_never_raise(data: bytes, compress: bool, verifier: Verifier) -> None:
    payload = zlib.compress(data) if compress else data
    _rejected(verifier.verify("EC1:" + base45.encode(payload)))
    _rejected(verifier.verify(data))


_cbor_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64 - 1)
    | st.binary(max_size=40)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.integers(-70000, 70000) | st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=30,
)


@given(value=_cbor_values, tagged=st.booleans())
def test_arbitrary_cbor_structures_never_raise(
    value: object, tagged: bool, verifier: Verifier
) -> None:
    item = cbor.Tag(18, value) if tagged else value
    _rejected(verifier.verify("EC1:" + base45.encode(cbor.encode(item))))


@given(parts=st.lists(_cbor_values, min_size=4, max_size=4))
def test_arbitrary_sign1_shapes_never_raise(parts: list[object], verifier: Verifier) -> None:
    _rejected(verifier.verify("EC1:" + base45.encode(cbor.encode(cbor.Tag(18, parts)))))


def test_bytes_input_is_accepted_as_ascii(sample_text: str, verifier: Verifier) -> None:
    assert verifier.verify(sample_text.encode()).valid
    assert verifier.verify(bytearray(sample_text.encode())).valid


def test_non_text_input_is_a_typed_result(verifier: Verifier) -> None:
    for junk in (None, 42, ["EC1:"], object()):
        result = verifier.verify(junk)  # type: ignore[arg-type]
        assert result.code is ErrorCode.BAD_INPUT


def test_result_json_shape(sample_text: str, verifier: Verifier, card: Card) -> None:
    ok = verifier.verify(sample_text).to_dict("zh")
    assert {"valid", "code", "message", "card", "kid"} <= ok.keys()
    assert ok["valid"] is True and ok["code"] == "OK"
    assert Card.model_validate(ok["card"]) == card
    assert ok["message"] == "电子社保卡有效"
    bad = verifier.verify("EC1:AAA").to_dict("en")
    assert bad["valid"] is False and bad["card"] is None
    assert bad["code"] in {c.value for c in ErrorCode}
    assert bad["message"]
