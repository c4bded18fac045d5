"""The claims payload written field by field (:func:`ecard.formats.cwt.encode_claims`) is the
deterministic CBOR encoding of the claims map, byte for byte."""

from __future__ import annotations

import contextlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import cards

from ecard.card import Card
from ecard.cardrecord import ResidentRecord, stored_card
from ecard.errors import BadClaimsError, BadKeyError, EcardError
from ecard.formats import cbor
from ecard.formats.cosekey import CLAIM_CNF, DeviceKey, parse_cose_key
from ecard.formats.cwt import (
    CLAIM_CARD,
    CLAIM_CTI,
    CLAIM_EXP,
    CLAIM_IAT,
    CLAIM_ISS,
    CLAIM_NBF,
    Claims,
    _decode_common,
    _read_bound,
    decode_claims,
    encode_claims,
)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    card=cards(),
    iss=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=64),
    # both sides of 2**32, where the times' CBOR arguments grow from 4 to 8 bytes
    iat=st.integers(946_684_800, 5_000_000_000),
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


def _general(payload: bytes) -> object:
    try:
        return cbor.decode(payload, max_depth=4, max_items=256)
    except EcardError as exc:
        return exc.code


@settings(max_examples=60, deadline=None, derandomize=True)
@given(card=cards(), data=st.data())
def test_the_fixed_offset_reading_is_the_strict_decoders(card: Card, data: st.DataObject) -> None:
    iat = data.draw(st.integers(946_684_800, 2_000_000_000))
    cti = data.draw(st.binary(min_size=8, max_size=40))
    iss = data.draw(st.sampled_from(["CN", "C", "x" * 23]))
    payload = encode_claims(Claims(iss=iss, iat=iat, exp=iat + 86_400, cti=cti, card=card))
    fast = _decode_common(payload)
    # what an issuer writes is read fast (a spec version below 2.56 takes a one-byte argument)
    assert (
        fast == cbor.decode(payload)
        if card.spec_version >= "2.56"
        else fast in (None, cbor.decode(payload))
    )
    m = bytearray(payload)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(m) - 1))
        op = data.draw(st.integers(0, 2))
        if op == 0:
            m[i] = data.draw(st.integers(0, 255))
        elif op == 1:
            del m[i]
        else:
            m.insert(i, data.draw(st.integers(0, 255)))
    changed = bytes(m)
    fast = _decode_common(changed)
    if fast is not None:
        assert fast == _general(changed)
    with contextlib.suppress(EcardError):  # a failure is the general path's (test_pipeline)
        decode_claims(changed)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    values=st.tuples(
        st.sampled_from([0, 23, 24, 255, 256, 65535, 65536, 100_000, 999_999, 2**32 - 1, 2**32]),
        st.sampled_from([0, 23, 24, 255, 256, 300, 999, 65535, 65536]),
        st.integers(0, 70_000),
        st.integers(0, 70_000),
        st.integers(0, 30),
    )
)
def test_the_packed_card_tail_is_the_deterministic_encoding(
    values: tuple[int, int, int, int, int],
) -> None:
    """Keys 4..8 packed in one go where their arguments have the usual sizes, and through the
    encoder's heads elsewhere: the same bytes as cbor.encode either way, at every boundary."""
    from ecard.formats.cwt import _card_tail

    expected = cbor.encode(dict(zip(range(4, 9), values, strict=True)))
    assert b"\xa5" + _card_tail(*values) == expected


def test_the_issuer_field_written_once_is_the_one_each_name_gets(card: Card) -> None:
    """``iss`` is remembered per name: a second issuer's name is its own, not the first's."""
    for iss in ("CN", "CN-110105", "CN"):
        claims = Claims(iss=iss, iat=1_768_000_000, exp=1_900_000_000, cti=bytes(8), card=card)
        assert decode_claims(encode_claims(claims)).iss == iss


@pytest.mark.parametrize("curve", ["P-256", "Ed25519"])
def test_a_bound_card_is_read_fast_as_the_strict_decoder_reads_it(card: Card, curve: str) -> None:
    private = ec.generate_private_key(ec.SECP256R1()) if curve == "P-256" else None
    public = private.public_key() if private else ed25519.Ed25519PrivateKey.generate().public_key()
    key = DeviceKey.from_public_key(public)
    claims = Claims(
        iss="CN", iat=1_780_000_000, exp=1_790_000_000, cti=b"c" * 16, card=card, cnf=key
    )
    payload = encode_claims(claims)
    assert _read_bound(payload) is not None  # the layout the fast path reads
    assert decode_claims(payload) == claims
    # another x coordinate: off the curve, the key's own error as the general way words it;
    # on it, the same key
    x = payload.index(bytes(key.to_cose_key()[-2]))
    outcomes = set()
    for bad in (b"\xff" * 32, b"\x00" * 31 + b"\x05", b"\x00" * 31 + b"\x01"):
        changed = payload[:x] + bad + payload[x + 32 :]
        general = cbor.decode(changed, max_depth=4)
        try:
            expected = parse_cose_key(general[CLAIM_CNF][1])
        except BadKeyError as exc:
            with pytest.raises(BadClaimsError) as fast_error:
                decode_claims(changed)
            assert fast_error.value.detail == f"cnf: {exc.detail}"
            outcomes.add("refused")
        else:
            assert decode_claims(changed).cnf == expected
            outcomes.add("read")
    assert "refused" in outcomes or curve == "Ed25519"  # every 32 bytes are an Ed25519 key here


def test_the_claims_decoded_without_their_init_are_the_dataclass(card: Card) -> None:
    """``decode_claims`` fills the claims of a common payload directly (the checked record as
    the card): the same fields as ``Claims(...)`` sets, and an equal object."""
    made = Claims(iss="CN", iat=1_780_000_000, exp=1_790_000_000, cti=b"c" * 16, card=card)
    decoded = decode_claims(encode_claims(made))
    assert type(stored_card(decoded)) is ResidentRecord
    assert sorted(vars(decoded)) == sorted(vars(made))
    assert decoded == made and hash(decoded) == hash(made) and repr(decoded) == repr(made)
    assert type(stored_card(decoded)) is Card  # read once: the model, kept
