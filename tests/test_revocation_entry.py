"""QR text -> the (kid, cti) a revocation list names: real cards, strict parsing, typed refusals."""

from __future__ import annotations

import pytest
from tests import forge
from tests.conftest import T0

from ecard.card import Card
from ecard.errors import (
    BadBase45Error,
    BadClaimsError,
    BadCoseError,
    BadInputError,
    BadPrefixError,
    TruncatedError,
)
from ecard.formats import base45, cbor, qrtext
from ecard.formats.cose import parse_sign1
from ecard.formats.cwt import decode_claims
from ecard.formats.revocation import entry_from_hex, entry_from_text, entry_hash
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey


def test_entry_of_a_card_is_its_kid_and_cti(issuer: Issuer, card: Card) -> None:
    issued = issuer.issue(card, iat=T0)
    kid, cti = entry_from_text(f"  {issued.text}\n")
    msg = parse_sign1(qrtext.decode(issued.text))
    assert kid == msg.kid and cti == decode_claims(msg.payload).cti
    assert len(entry_hash(kid, cti)) == 8
    other = issuer.issue(card, iat=T0)
    assert entry_from_text(other.text)[1] != cti  # each credential has its own cti


def test_non_card_texts_are_refused_with_typed_errors(ds: CertifiedKey, card: Card) -> None:
    with pytest.raises(BadPrefixError):
        entry_from_text("HC1:NCFOXN%TS3DH")
    with pytest.raises(BadBase45Error):
        entry_from_text("EC1:::")  # a final pair above 255
    with pytest.raises(TruncatedError):
        entry_from_text("EC1:::::")  # 3k + 1 characters: cut short
    with pytest.raises(BadCoseError):
        entry_from_text("EC1:" + base45.encode(cbor.encode({"not": "a card"})))
    when = int(T0.timestamp())
    no_cti = forge.claims_map(card, iat=when, exp=when + 86400, drop=(7,))
    with pytest.raises(BadClaimsError):
        entry_from_text(forge.to_text(forge.sign1(ds, cbor.encode(no_cti))))
    short_cti = forge.claims_map(card, iat=when, exp=when + 86400, cti=b"\x01")
    with pytest.raises((BadClaimsError, BadInputError)):
        entry_from_text(forge.to_text(forge.sign1(ds, cbor.encode(short_cti))))


def test_entry_from_hex() -> None:
    assert entry_from_hex("00" * 8 + ":" + "ab" * 16) == (bytes(8), b"\xab" * 16)
    for bad in ("00" * 8, "zz:00", "00:0"):
        with pytest.raises(BadInputError, match="KID:CTI in hex"):
            entry_from_hex(bad)
