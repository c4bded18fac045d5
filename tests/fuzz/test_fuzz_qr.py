"""Fuzz: QR texts, what a counter scans from a stranger's phone.

``Verifier.verify`` with a real trust store (ES256 and SM2 document signers among others) gets
random text, random bytes, mutations of real ES256 and SM2 credentials, and payloads that are
validly signed by a trusted key but hold arbitrary CBOR (the claims decoder is reached only
behind a good signature, so mutations alone rarely get there). ``verify`` never raises for bad
input: it reports an untyped exception as ``BAD_INPUT`` with ``internal error: ...``, which is
therefore a finding here. The same texts also go through the format layer directly
(``qrtext.decode`` → ``parse_sign1`` → ``decode_claims``) so that a finding shows its traceback.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import T0, fixed_clock
from tests.fuzz.fuzzing import cbor_values, check, fuzz_settings, text_mutants

from ecard.card import Card
from ecard.errors import ErrorCode
from ecard.formats import cbor, qrtext
from ecard.formats.base45 import ALPHABET
from ecard.formats.cose import kid_for_certificate, parse_sign1
from ecard.formats.cwt import CLAIM_CARD, CLAIM_CTI, CLAIM_EXP, CLAIM_IAT, CLAIM_ISS, decode_claims
from ecard.signing.cose import build_sign1
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey
from ecard.verify.verifier import Verifier


@pytest.fixture(scope="module")
def seeds(signers: dict[str, CertifiedKey], card: Card) -> list[str]:
    """Real credentials: ES256 and SM2, with and without an explicit short validity."""
    out = []
    for alg in ("ES256", "SM2"):
        s = signers[alg]
        issuer = Issuer(s.signer(), s.certificate, clock=fixed_clock(T0))
        out.append(issuer.issue(card).text)
        out.append(issuer.issue(card, exp=T0 + dt.timedelta(days=2)).text)
    return out


def _verify(verifier: Verifier, text: str | bytes) -> None:
    result = verifier.verify(text)
    assert isinstance(result.code, ErrorCode)
    if result.code is ErrorCode.BAD_INPUT and "internal error" in (result.detail or ""):
        raise RuntimeError(f"Verifier.verify masked an untyped exception: {result.detail}")


def _formats(text: str) -> None:
    msg = parse_sign1(qrtext.decode(qrtext.clean_scanned(text)[0]))
    decode_claims(msg.payload)


def _both(verifier: Verifier, text: str) -> None:
    check("qr-text verify", lambda: _verify(verifier, text))
    check("qr-text formats", lambda: _formats(text))


@fuzz_settings(brief=40)
@given(text=st.one_of(st.text(max_size=300), st.text(ALPHABET, max_size=300).map("EC1:".__add__)))
def test_random_text(verifier: Verifier, text: str) -> None:
    _both(verifier, text)


@fuzz_settings(brief=20)
@given(data=st.binary(max_size=400))
def test_random_bytes(verifier: Verifier, data: bytes) -> None:
    check("qr-text verify", lambda: _verify(verifier, data))
    check("qr-text verify", lambda: _verify(verifier, b"EC1:" + data))


@fuzz_settings(brief=60)
@given(data=st.data())
def test_mutated_credentials(verifier: Verifier, seeds: list[str], data: st.DataObject) -> None:
    text = data.draw(text_mutants(seeds, ALPHABET + "EC1:"))
    _both(verifier, text)


def _claims(draw: Any, kid: bytes) -> Any:
    """A claims map near the real one: the required keys mostly there, values arbitrary."""
    base: dict[int, Any] = {
        CLAIM_ISS: "CN",
        CLAIM_IAT: int(T0.timestamp()),
        CLAIM_EXP: int(T0.timestamp()) + 86400,
        CLAIM_CTI: kid * 2,
        CLAIM_CARD: {},
    }
    for key in draw(st.lists(st.sampled_from(sorted(base)), max_size=3, unique=True)):
        if draw(st.booleans()):
            del base[key]
        else:
            base[key] = draw(cbor_values())
    base.update(draw(st.dictionaries(st.integers(-70000, 70000), cbor_values(), max_size=2)))
    return base


@fuzz_settings(brief=40)
@given(data=st.data(), alg=st.sampled_from(["ES256", "SM2"]))
def test_signed_junk_payloads(
    verifier: Verifier, signers: dict[str, CertifiedKey], data: st.DataObject, alg: str
) -> None:
    """A trusted key signs arbitrary CBOR, or a claims map with arbitrary values: the claims
    and card decoders must refuse it with a typed error (or accept it, if it is valid)."""
    s = signers[alg]
    kid = kid_for_certificate(s.certificate)
    kind = data.draw(st.sampled_from(["claims", "cbor", "bytes"]))
    if kind == "claims":
        payload = cbor.encode(_claims(data.draw, kid))
    elif kind == "cbor":
        payload = cbor.encode(data.draw(cbor_values()))
    else:
        payload = data.draw(st.binary(min_size=1, max_size=200))
    signed = build_sign1(payload, s.signer(), kid)
    try:
        text = qrtext.encode(signed)
    except ValueError:  # too long for a QR code: nothing a counter could scan
        return
    _both(verifier, text)
