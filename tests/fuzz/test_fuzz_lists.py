"""Fuzz: signed trust and revocation lists, and the list state file.

Lists arrive from a publication point nobody at the counter controls. ``open_list``,
``TrustStore.from_trust_list`` and ``RevocationList.load`` (full and delta, with a base) get
mutations of real signed lists, and lists validly signed by the real list signer that hold
arbitrary headers and bodies (what a compromised or buggy publisher could send: the body
decoders are reached only behind a good signature). The validator checks CRLs
(``revocation="require"``) at a fixed clock.

The list state file (``ListState``) is the verifier's own, but it lives on a disk others may
write: JSON of the wrong shape, wrong types, huge numbers, deep nesting and bytes that are not
UTF-8 must give a typed error, never a crash.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import T0
from tests.fuzz.fuzzing import cbor_values, check, fuzz_settings, mutants

from ecard.errors import BadListError
from ecard.formats import cbor
from ecard.formats.cose import HEADER_X5CHAIN, kid_for_certificate
from ecard.formats.lists import LIST_TYPES, REVOCATION_LIST, TRUST_LIST, ListInfo, encode_list
from ecard.formats.revocation import BODY_BASE_SEQUENCE, BODY_HASHES, BODY_REMOVED
from ecard.formats.trustlist import TrustListEntry
from ecard.signing.cose import build_sign1
from ecard.signing.crl import create_crl
from ecard.signing.lists import sign_list
from ecard.signing.pki import (
    create_document_signer,
    create_issuing_ca,
    create_list_signer,
    create_root_ca,
)
from ecard.signing.revocation import sign_revocation_delta, sign_revocation_list
from ecard.signing.trustlist import sign_trust_list
from ecard.verify.lists import ListState, SignedList, open_list
from ecard.verify.paths import PathValidator
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustStore

DAY = dt.timedelta(days=1)


class World:
    """A root with a CRL, an issuing CA, document signers, ES256 and SM2 list signers, and one
    signed list of each kind."""

    def __init__(self) -> None:
        nb = T0 - 30 * DAY
        self.root = create_root_ca("Fuzz Root", not_before=nb)
        self.ca = create_issuing_ca(self.root, "Fuzz Issuing CA", not_before=nb)
        self.ds = create_document_signer(self.ca, "Fuzz Signer", not_before=T0 - DAY)
        self.ls = create_list_signer(self.root, "Fuzz List Signer", not_before=nb)
        self.ls_sm2 = create_list_signer(
            self.root, "Fuzz SM2 List Signer", algorithm="SM2", not_before=nb
        )
        crls = [
            create_crl(self.root, this_update=T0 - DAY),
            create_crl(self.ca, this_update=T0 - DAY),
        ]
        self.validator = PathValidator(
            [self.root.certificate], crls=crls, clock=lambda: T0 + dt.timedelta(hours=1)
        )
        entries = [
            TrustListEntry(
                self.ds.certificate, (self.ca.certificate,), regions=frozenset({"110000"})
            ),
            TrustListEntry(self.ca.certificate),
        ]
        pairs = [(kid_for_certificate(self.ds.certificate), bytes([n]) * 16) for n in range(5)]
        self.lists: dict[str, bytes] = {}
        for name, signer in (("es256", self.ls), ("sm2", self.ls_sm2)):
            kw: dict[str, Any] = {
                "issued_at": T0,
                "next_update": T0 + 7 * DAY,
                "signer": signer.signer(),
                "certificate": signer.certificate,
            }
            self.lists[f"trust-{name}"] = sign_trust_list(entries, sequence=3, **kw)
            self.lists[f"full-{name}"] = sign_revocation_list(pairs[:3], sequence=4, **kw)
            self.lists[f"delta-{name}"] = sign_revocation_delta(
                pairs[3:], pairs[:1], base_sequence=4, sequence=5, **kw
            )
        self.base = RevocationList.load(self.lists["full-es256"], validator=self.validator)
        self.signed: SignedList = open_list(
            self.lists["trust-es256"], expected_type=TRUST_LIST, validator=self.validator
        )


@pytest.fixture(scope="module")
def world() -> World:
    return World()


def _all_list_parsers(world: World, data: bytes) -> None:
    check(
        "list open_list",
        lambda: open_list(data, expected_type=TRUST_LIST, validator=world.validator),
    )
    check(
        "list from_trust_list", lambda: TrustStore.from_trust_list(data, validator=world.validator)
    )
    check("list revocation load", lambda: RevocationList.load(data, validator=world.validator))
    check(
        "list revocation load",
        lambda: RevocationList.load(data, validator=world.validator, base=world.base),
    )


@fuzz_settings(brief=25)
@given(data=st.data())
def test_mutated_signed_lists(world: World, data: st.DataObject) -> None:
    seeds = list(world.lists.values())
    _all_list_parsers(world, data.draw(mutants(seeds)))


@fuzz_settings(brief=10)
@given(data=st.binary(max_size=600))
def test_random_list_bytes(world: World, data: bytes) -> None:
    _all_list_parsers(world, data)


def _body(draw: Any) -> Any:
    """A list body near a real one (trust entries, revocation hashes), or anything at all."""
    kind = draw(st.sampled_from(["trust", "full", "delta", "any"]))
    if kind == "any":
        return draw(cbor_values())
    if kind == "trust":
        entry = draw(st.dictionaries(st.integers(0, 8), cbor_values(), max_size=6))
        return draw(st.lists(st.just(entry) | cbor_values(), max_size=3))
    body: dict[int, Any] = {BODY_HASHES: draw(st.binary(max_size=80) | cbor_values())}
    if kind == "delta":
        body[BODY_REMOVED] = draw(st.binary(max_size=40) | cbor_values())
        body[BODY_BASE_SEQUENCE] = draw(st.integers(-3, 2**64 - 1) | cbor_values())
    return body


@fuzz_settings(brief=30)
@given(data=st.data(), sm2=st.booleans())
def test_validly_signed_junk_lists(world: World, data: st.DataObject, sm2: bool) -> None:
    signer = world.ls_sm2 if sm2 else world.ls
    kind = data.draw(st.sampled_from(["list", "header", "payload"]))
    if kind == "list":  # a well-formed header and an arbitrary body
        info = ListInfo(
            type=data.draw(st.sampled_from(sorted(LIST_TYPES))),
            sequence=data.draw(st.integers(0, 2**63 - 1)),
            issued_at=int(T0.timestamp()),
            next_update=int(T0.timestamp()) + data.draw(st.integers(1, 10**9)),
        )
        payload = encode_list(info, _body(data.draw))
    elif kind == "header":  # the list map itself with arbitrary values
        header = data.draw(st.dictionaries(st.integers(0, 8), cbor_values(), max_size=7))
        payload = cbor.encode(header)
    else:
        payload = data.draw(st.binary(min_size=1, max_size=200))
    der = signer.certificate.public_bytes(Encoding.DER)
    signed = build_sign1(
        payload,
        signer.signer(),
        kid_for_certificate(signer.certificate),
        extra_headers={HEADER_X5CHAIN: der},
    )
    _all_list_parsers(world, signed)


def test_a_validly_signed_list_reaches_the_body(world: World) -> None:
    """The junk-list property is not vacuous: a signed list with a bad body is refused by the
    body decoder (after the signature and the path), not before."""
    info = ListInfo(REVOCATION_LIST, 9, int(T0.timestamp()), int((T0 + DAY).timestamp()))
    data = sign_list(info, {BODY_HASHES: b"\x00" * 7}, world.ls.signer(), world.ls.certificate)
    outcome = check(
        "list revocation load", lambda: RevocationList.load(data, validator=world.validator)
    )
    assert "8" in str(outcome), outcome  # the hashes are not a multiple of 8 bytes


# --- the list state file ------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=10,
)


def _state_bytes(draw: Any, key: str) -> bytes:
    kind = draw(st.sampled_from(["json", "entry", "numbers", "deep", "bytes", "text"]))
    if kind == "json":
        return json.dumps(draw(_JSON)).encode()
    if kind == "entry":  # the real key, an entry of the wrong shape or types
        entry = draw(
            _JSON
            | st.fixed_dictionaries(
                {"sequence": _JSON, "digest": _JSON},
                optional={"accepted_at": _JSON},
            )
        )
        return json.dumps({key: entry}).encode()
    if kind == "numbers":
        number = draw(
            st.sampled_from(
                [
                    "1e999",
                    "-1e999",
                    "NaN",
                    "Infinity",
                    "-0",
                    "1" * 5000,
                    "9" * 400,
                    "-5",
                    "3.5",
                    "true",
                ]
            )
        )
        return f'{{"{key}": {{"sequence": {number}, "digest": "00"}}}}'.encode()
    if kind == "deep":
        depth = draw(st.integers(100, 200_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return (opener * depth + "1" + closer * depth).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")


@fuzz_settings(brief=40)
@given(data=st.data())
def test_list_state_file(
    world: World, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    signed = world.signed
    key = f"{signed.info.type}:{signed.authority}"
    path: Path = tmp_path_factory.mktemp("state") / "state.json"
    path.write_bytes(_state_bytes(data.draw, key))
    state = ListState(path)
    check("list-state sequence", lambda: state.sequence(signed))
    check("list-state accept", lambda: state.accept(signed))


@pytest.mark.parametrize(
    "content",
    [
        b'{"KEY": {"sequence": 1e999, "digest": "00"}}',  # was OverflowError
        b'{"KEY": {"sequence": "7", "digest": "00"}}',  # was ValueError
        b'{"KEY": [1, 2]}',  # was TypeError
        b'{"KEY": {"digest": "00"}}',  # was KeyError
        b'{"KEY": {"sequence": true, "digest": "00"}}',  # was taken as sequence 1
        b'{"other": {"sequence": 1, "digest": "00"}, "KEY": 5}',  # was TypeError
        b'{"\xff": 1}',  # not UTF-8: was UnicodeDecodeError
        b'{"a":' * 1802 + b"1" + b"}" * 1802,  # was seconds in accept (rewritten with indent)
        b"[" * 100_000 + b"]" * 100_000,  # was RecursionError
    ],
    ids=["inf", "text", "list", "no-sequence", "bool", "int-entry", "not-utf8", "nested", "deep"],
)
def test_malformed_list_state_is_corrupt(world: World, tmp_path: Path, content: bytes) -> None:
    """Regressions found by the fuzzer: a state file of the wrong shape is corrupt (a typed
    BadListError), for reading the sequence and for accepting a list, and nothing is reset."""
    signed = world.signed
    path = tmp_path / "state.json"
    path.write_bytes(content.replace(b"KEY", f"{signed.info.type}:{signed.authority}".encode()))
    state = ListState(path)
    for call in (lambda: state.sequence(signed), lambda: state.accept(signed)):
        outcome = check("list-state regression", call)
        assert isinstance(outcome, BadListError) and "corrupt" in outcome.detail, outcome
    assert path.read_bytes() == content.replace(
        b"KEY", f"{signed.info.type}:{signed.authority}".encode()
    )


def test_well_formed_list_state_still_works(world: World, tmp_path: Path) -> None:
    """The shape check refuses nothing ListState writes itself."""
    path = tmp_path / "state.json"
    ListState(path).accept(world.signed)
    assert ListState(path).sequence(world.signed) == world.signed.info.sequence
    ListState(path).accept(world.signed)  # the same list again is fine
