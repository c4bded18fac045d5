"""The claims payload written field by field (:func:`ecard.formats.cwt.encode_claims`) is the
deterministic CBOR encoding of the claims map, byte for byte."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import cards

from ecard.card import Card
from ecard.formats import cbor
from ecard.formats.cwt import (
    CLAIM_CARD,
    CLAIM_CTI,
    CLAIM_EXP,
    CLAIM_IAT,
    CLAIM_ISS,
    CLAIM_NBF,
    Claims,
    decode_claims,
    encode_claims,
)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    card=cards(),
    iss=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=64),
    iat=st.integers(946_684_800, 4_000_000_000),
    length=st.integers(1, 3_000_000_000),
    cti=st.binary(min_size=8, max_size=64),
    nbf=st.none() | st.integers(946_684_800, 4_000_000_000),
)
def test_written_payload_is_the_deterministic_encoding(
    card: Card, iss: str, iat: int, length: int, cti: bytes, nbf: int | None
) -> None:
    exp = min(iat + length, 7_258_118_400)
    if nbf is not None and nbf >= exp:
        nbf = None
    if exp <= iat:
        return
    claims = Claims(iss=iss, iat=iat, exp=exp, cti=cti, card=card, nbf=nbf)
    data: dict[int, object] = {
        CLAIM_ISS: iss,
        CLAIM_EXP: exp,
        CLAIM_IAT: iat,
        CLAIM_CTI: cti,
        CLAIM_CARD: card.to_claim(),
    }
    if nbf is not None:
        data[CLAIM_NBF] = nbf
    payload = encode_claims(claims)
    assert payload == cbor.encode(data)
    assert decode_claims(payload) == claims
