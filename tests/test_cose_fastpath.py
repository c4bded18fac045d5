"""The fast reading of the usual COSE_Sign1 layout (:func:`ecard.formats.cose._parse_common`)
gives exactly what the strict general parser gives, and declines everything it does not."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import T0

from ecard.card import Card
from ecard.errors import EcardError
from ecard.formats import cbor
from ecard.formats.cose import (
    MAX_MESSAGE_SIZE,
    _parse_common,
    _parse_general,
    assemble_sign1,
    parse_sign1,
    sig_structure,
)
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey


@pytest.fixture(scope="module")
def messages(signers: dict[str, CertifiedKey], card: Card) -> list[bytes]:
    out = []
    for s in signers.values():
        out.append(Issuer(s.signer(), s.certificate).issue(card, iat=T0).cose)
    return out


def _general(data: bytes) -> object:
    try:
        return _parse_general(data, MAX_MESSAGE_SIZE)
    except EcardError as exc:
        return exc.code


def test_issued_messages_take_the_fast_path_where_their_layout_fits(
    messages: list[bytes], signers: dict[str, CertifiedKey]
) -> None:
    fast = {s: _parse_common(m) for s, m in zip(signers, messages, strict=True)}
    # one-byte alg ids (ES256 -7, EdDSA -8) fit the template; the others go the general way
    assert fast["ES256"] is not None and fast["EdDSA"] is not None
    for m in messages:
        assert parse_sign1(m) == _general(m)
        f = _parse_common(m)
        assert f is None or f == _general(m)


def test_foreign_layouts_are_declined() -> None:
    kid = bytes(8)
    protected = cbor.encode({1: -7, 4: kid})
    good = cbor.encode(cbor.Tag(18, [protected, {}, b"p" * 30, b"s" * 64]))
    assert _parse_common(good) is not None
    for other in (
        cbor.encode(cbor.Tag(18, [protected, {4: kid}, b"p" * 30, b"s" * 64])),  # unprotected
        # the same header with its keys in another order (what other encoders may write)
        cbor.encode(cbor.Tag(18, [b"\xa2\x04\x48" + kid + b"\x01\x26", {}, b"p", b"s"])),
        cbor.encode(cbor.Tag(18, [protected, {}, b"p" * 300, b"s" * 64])),  # 2-byte length
        cbor.encode(cbor.Tag(18, [protected, {}, None, b"s" * 64])),  # detached
        good + b"\x00",  # trailing byte
        good[:-1],  # cut short
        good[:18] + b"\x58\x05" + good[20:],  # a length not in shortest form
        bytearray(good),
    ):
        assert _parse_common(other) is None  # type: ignore[arg-type]


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_changed_message_reads_the_same_both_ways(
    messages: list[bytes], data: st.DataObject
) -> None:
    m = bytearray(data.draw(st.sampled_from(messages)))
    for _ in range(data.draw(st.integers(1, 3))):
        choice = data.draw(st.integers(0, 2))
        i = data.draw(st.integers(0, len(m) - 1))
        if choice == 0:
            m[i] = data.draw(st.integers(0, 255))
        elif choice == 1:
            del m[i]
        else:
            m.insert(i, data.draw(st.integers(0, 255)))
    raw = bytes(m)
    fast = _parse_common(raw)
    general = _general(raw)
    if fast is not None:
        assert fast == general
    try:
        assert parse_sign1(raw) == general
    except EcardError as exc:
        assert exc.code == general


@pytest.mark.parametrize("size", [0, 1, 23, 24, 255, 256, 4000, 70_000])
def test_assembled_bytes_are_the_deterministic_encoding(size: int) -> None:
    payload, signature, protected = (
        bytes(range(256)) * (size // 256) + b"p" * (size % 256),
        b"s" * (size % 97),
        cbor.encode({1: -7, 4: b"k" * 8}),
    )
    expected = cbor.encode(cbor.Tag(18, [protected, {}, payload, signature]))
    assert assemble_sign1(protected, payload, signature) == expected


@given(
    protected=st.binary(max_size=300),
    aad=st.sampled_from([b"", b"x", b"y" * 300]),
    payload=st.binary(max_size=600) | st.sampled_from([b"z" * 255, b"z" * 256, b"z" * 70_000]),
)
def test_the_sig_structure_is_its_deterministic_encoding(
    protected: bytes, aad: bytes, payload: bytes
) -> None:
    expected = cbor.encode(["Signature1", protected, aad, payload])
    assert sig_structure(protected, payload, aad) == expected
