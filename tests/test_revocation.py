"""Signed revocation lists: hashing, the set, signing, loading, deltas, rollback, tampering.

Real keys and certificates: a root CA, a revocation-list signer under it (list-signing EKU),
document signers whose kids name credentials, and a second root that is not trusted. Every
list is really signed and every signer path really validated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import T0, fixed_clock

from ecard.card import Card
from ecard.errors import (
    BadCertificateError,
    BadInputError,
    BadListError,
    ErrorCode,
    ListRollbackError,
    RevocationListStaleError,
    RevokedError,
)
from ecard.formats import cbor
from ecard.formats.cose import HEADER_X5CHAIN, kid_for_certificate
from ecard.formats.lists import REVOCATION_LIST, TRUST_LIST, ListInfo, encode_list
from ecard.formats.revocation import (
    HASH_SIZE,
    RevocationSet,
    build_delta_body,
    build_revocation_body,
    decode_revocation_body,
    entry_hash,
    revocation_delta,
    revocation_hash,
)
from ecard.publish.revocation import revoke
from ecard.signing.cose import build_sign1
from ecard.signing.issuer import Issuer
from ecard.signing.lists import sign_list
from ecard.signing.pki import (
    CertifiedKey,
    create_document_signer,
    create_list_signer,
    create_root_ca,
)
from ecard.signing.revocation import read_own_list, sign_revocation_delta, sign_revocation_list
from ecard.verify.lists import ListState
from ecard.verify.paths import PathValidator
from ecard.verify.revocation import RevocationList

DAY = dt.timedelta(days=1)
hashes8 = st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE)


class PKI:
    def __init__(self) -> None:
        nb = T0 - 30 * DAY
        self.root = create_root_ca("RL Root", not_before=nb)
        self.rl = create_list_signer(self.root, "Revocation List Signer", not_before=nb)
        self.rl2 = create_list_signer(self.root, "Revocation List Signer 2", not_before=nb)
        self.ds1 = create_document_signer(self.root, "Document Signer 1", not_before=T0 - DAY)
        self.ds2 = create_document_signer(self.root, "Document Signer 2", not_before=T0 - DAY)
        self.other_root = create_root_ca("Other Root", not_before=nb)
        self.rogue = create_list_signer(self.other_root, "Rogue List Signer", not_before=nb)
        self._validator = PathValidator([self.root.certificate], revocation="off")

    def validator(self) -> PathValidator:
        return self._validator

    def sign(
        self,
        entries: list[tuple[bytes, bytes]] | RevocationSet,
        *,
        sequence: int = 1,
        issued: dt.datetime = T0,
        signer: CertifiedKey | None = None,
    ) -> bytes:
        s = signer or self.rl
        return sign_revocation_list(
            entries,
            sequence=sequence,
            issued_at=issued,
            next_update=issued + DAY,
            signer=s.signer(),
            certificate=s.certificate,
            chain=s.chain,
        )

    def delta(
        self,
        added: list[tuple[bytes, bytes]],
        removed: list[tuple[bytes, bytes]],
        *,
        base_sequence: int,
        sequence: int,
        signer: CertifiedKey | None = None,
    ) -> bytes:
        s = signer or self.rl
        return sign_revocation_delta(
            added,
            removed,
            base_sequence=base_sequence,
            sequence=sequence,
            issued_at=T0 + sequence * dt.timedelta(hours=1),
            next_update=T0 + sequence * dt.timedelta(hours=1) + DAY,
            signer=s.signer(),
            certificate=s.certificate,
            chain=s.chain,
        )

    def revoke(
        self,
        existing: bytes | None,
        entries: list[tuple[bytes, bytes]],
        *,
        unrevoke: list[tuple[bytes, bytes]] = [],  # noqa: B006
        issued_at: dt.datetime | None = None,
        next_update: dt.datetime | None = None,
        validator: PathValidator | None = None,
    ) -> bytes:
        return revoke(
            existing,
            entries,
            signer=self.rl.signer(),
            certificate=self.rl.certificate,
            chain=self.rl.chain,
            unrevoke=unrevoke,
            issued_at=issued_at,
            next_update=next_update,
            validator=validator,
        )

    def load(self, data: bytes, **kw: object) -> RevocationList:
        return RevocationList.load(data, validator=self._validator, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI()


def ctis(n: int, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(16) for _ in range(n)]


# --- the hash ---------------------------------------------------------------------------------


def test_hash_is_the_specified_truncated_sha256() -> None:
    kid, cti = bytes(range(8)), bytes(range(100, 116))
    expected = hashlib.sha256(b"ecard-revocation-v1\x00\x08" + kid + cti).digest()[:8]
    assert revocation_hash(kid, cti) == expected
    assert len(expected) == HASH_SIZE


def test_hash_binds_the_kid(pki: PKI) -> None:
    cti = bytes(range(16))
    revoked = RevocationSet.from_entries([(pki.ds1.kid, cti)])
    assert revoked.is_revoked(pki.ds1.kid, cti)
    assert not revoked.is_revoked(pki.ds2.kid, cti)
    # the length prefix keeps kid/cti boundaries apart
    assert revocation_hash(b"ab", b"c" * 8) != revocation_hash(b"a", b"b" + b"c" * 8)


def test_hash_rejects_impossible_kids() -> None:
    for kid in (b"", bytes(256)):
        with pytest.raises(ValueError, match="kid must be 1 to 255 bytes"):
            revocation_hash(kid, bytes(8))


def test_entry_hash_checks_sizes() -> None:
    assert entry_hash(bytes(8), bytes(8)) == revocation_hash(bytes(8), bytes(8))
    for kid, cti in [(bytes(7), bytes(8)), (bytes(8), bytes(7)), (bytes(8), bytes(65))]:
        with pytest.raises(BadInputError):
            entry_hash(kid, cti)


# --- the set ----------------------------------------------------------------------------------


def test_set_sorts_dedupes_and_round_trips() -> None:
    hs = [os.urandom(8) for _ in range(1000)]
    s = RevocationSet.from_hashes(hs + hs[:10])
    assert len(s) == 1000
    assert list(s) == sorted(set(hs))
    assert all(h in s for h in hs)
    assert RevocationSet.from_bytes(s.to_bytes()) == s
    assert s.to_bytes() == b"".join(sorted(hs))
    assert 8000 < s.nbytes < 8200
    assert repr(s) == "RevocationSet(1000 hashes)"
    empty = RevocationSet()
    assert len(empty) == 0 and empty.to_bytes() == b"" and bytes(8) not in empty
    assert RevocationSet.from_bytes(b"") == empty


def test_set_orders_as_big_endian_bytes() -> None:
    """The integer order must be the byte order (the wire is sorted bytewise)."""
    hs = [b"\x00" * 7 + b"\xff", b"\x01" + b"\x00" * 7, b"\xff" * 8, b"\x80" + b"\x00" * 7]
    s = RevocationSet.from_hashes(hs)
    assert list(s) == sorted(hs)
    assert all(h in s for h in hs)
    assert b"\xff" + b"\x00" * 7 not in s


def test_lookups_at_index_bucket_edges() -> None:
    """Values on and next to every bucket boundary of the lookup index, and the extremes."""
    rng = random.Random(5)
    values = {rng.getrandbits(64) for _ in range(3000)}
    edges = {0, 1, 2**64 - 2, 2**64 - 1} | {b << 56 for b in range(1, 256)}
    values |= set(list(edges)[::2])
    s = RevocationSet.from_hashes(v.to_bytes(8, "big") for v in values)
    for v in edges | {e + d for e in edges for d in (-1, 1) if 0 <= e + d < 2**64}:
        assert (v.to_bytes(8, "big") in s) == (v in values)
    assert all(v.to_bytes(8, "big") in s for v in values)
    # the same through a delta (which rebuilds the index) and through the wire form
    gone = set(sorted(values)[::3])
    t = s.apply_delta(removed=[v.to_bytes(8, "big") for v in gone])
    assert [int.from_bytes(h, "big") for h in t] == sorted(values - gone)
    assert all((v.to_bytes(8, "big") in t) == (v not in gone) for v in values)
    assert RevocationSet.from_bytes(t.to_bytes()) == t


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (bytes(7), "multiple of 8"),
        (bytes(17), "multiple of 8"),
        (b"\x00" * 7 + b"\x02" + b"\x00" * 7 + b"\x01", "strictly increasing"),
        (b"\x00" * 7 + b"\x01" + b"\x00" * 7 + b"\x01", "strictly increasing"),
    ],
)
def test_set_from_bytes_rejects(data: bytes, match: str) -> None:
    with pytest.raises(BadListError, match=match):
        RevocationSet.from_bytes(data)


def test_set_from_bytes_rejects_non_bytes() -> None:
    with pytest.raises(BadListError):
        RevocationSet.from_bytes("00" * 8)  # type: ignore[arg-type]


def test_set_rejects_bad_hashes() -> None:
    s = RevocationSet.from_hashes([bytes(8)])
    with pytest.raises(ValueError, match="a revocation hash is 8 bytes, not 32"):
        _ = bytes(32) in s
    with pytest.raises(TypeError, match="a revocation hash is bytes, not int"):
        _ = 0 in s
    with pytest.raises(ValueError, match="a revocation hash is 8 bytes, not 9"):
        RevocationSet.from_hashes([bytes(9)])
    with pytest.raises(TypeError, match="a revocation hash is bytes, not str"):
        RevocationSet.from_hashes(["x" * 8])  # type: ignore[list-item]


def test_set_is_not_hashable_but_comparable() -> None:
    a, b = RevocationSet([bytes(8)]), RevocationSet([bytes(8)])
    assert a == b and a != RevocationSet() and a != "x"
    with pytest.raises(TypeError, match="unhashable type: 'RevocationSet'"):
        hash(a)


@given(
    base=st.sets(hashes8, max_size=60),
    added=st.sets(hashes8, max_size=20),
    removed_n=st.integers(0, 20),
    probes=st.lists(hashes8, max_size=20),
)
def test_set_behaves_like_a_set(
    base: set[bytes], added: set[bytes], removed_n: int, probes: list[bytes]
) -> None:
    s = RevocationSet.from_hashes(base)
    for h in [*base, *probes]:
        assert (h in s) == (h in base)
    added -= base
    removed = set(sorted(base)[:removed_n])
    updated = s.apply_delta(added, removed)
    expected = (base | added) - removed
    assert list(updated) == sorted(expected)
    assert RevocationSet.from_bytes(updated.to_bytes()) == updated
    # the original is untouched (immutability)
    assert list(s) == sorted(base)
    add, rem = revocation_delta(s, updated)
    assert set(add) == added and set(rem) == removed


def test_apply_delta_is_strict() -> None:
    s = RevocationSet.from_hashes([bytes(8), b"\x01" * 8])
    with pytest.raises(BadListError, match="already in the list"):
        s.apply_delta(added=[bytes(8)])
    with pytest.raises(BadListError, match="not in the list"):
        s.apply_delta(removed=[b"\x02" * 8])
    assert s.apply_delta() is s


def test_digest_is_content_only() -> None:
    hs = [os.urandom(8) for _ in range(100)]
    assert RevocationSet(hs).digest() == RevocationSet(reversed(hs)).digest()
    assert RevocationSet(hs).digest() != RevocationSet(hs[1:]).digest()


# --- the body ---------------------------------------------------------------------------------


def test_bodies_round_trip() -> None:
    hs = [os.urandom(8) for _ in range(5)]
    full = decode_revocation_body(build_revocation_body(hs))
    assert not full.is_delta and list(full.hashes) == sorted(hs)
    delta = decode_revocation_body(build_delta_body(hs[:2], hs[2:], 7))
    assert delta.is_delta and delta.base_sequence == 7
    assert list(delta.hashes) == sorted(hs[:2])
    assert delta.removed is not None and list(delta.removed) == sorted(hs[2:])
    with pytest.raises(BadInputError, match="both added and removed"):
        build_delta_body(hs[:2], hs[1:], 7)
    with pytest.raises(BadInputError):
        build_delta_body(hs[:2], (), -1)


@pytest.mark.parametrize(
    "body",
    [
        [b""],
        {},
        {1: b"", 4: 0},
        {1: b"", 2: b""},
        {1: b"", 2: b"", 3: 1, 4: 0},
        {1: "text"},
        {1: bytes(9)},
        {1: b"\x01" * 8 + bytes(8)},
        {1: b"", 2: b"", 3: -1},
        {1: b"", 2: b"", 3: True},
        {1: b"", 2: b"", 3: 2**63},
        {1: b"", 2: 3, 3: 1},
        {"1": b""},
    ],
)
def test_body_rejections(body: object) -> None:
    with pytest.raises(BadListError):
        decode_revocation_body(body)


# --- signed lists -----------------------------------------------------------------------------


def test_signed_list_with_100k_entries_round_trips(pki: PKI) -> None:
    kids = [pki.ds1.kid, pki.ds2.kid]
    entries = [(kids[i % 2], cti) for i, cti in enumerate(ctis(100_000))]
    data = pki.sign(entries, sequence=42)
    assert 800_000 < len(data) < 802_000
    rl = pki.load(data)
    assert len(rl) == 100_000
    assert rl.sequence == 42
    assert rl.issued_at == T0 and rl.next_update == T0 + DAY
    assert rl.delta_base is None
    assert rl.signed.body is None  # the hashes are held once, in rl.hashes
    assert rl.signed.signer == pki.rl.certificate
    assert rl.signed.digest == hashlib.sha256(data).digest()
    assert all(rl.is_revoked(kid, cti) for kid, cti in entries)
    # same ctis under the other signer, and fresh ctis: not revoked
    assert not any(
        rl.is_revoked(kids[(i + 1) % 2], cti) for i, (_, cti) in enumerate(entries[:2000])
    )
    assert not any(rl.is_revoked(kids[0], cti) for cti in ctis(2000, seed=1))
    assert rl.hashes == RevocationSet.from_entries(entries)
    assert "sequence=42" in repr(rl)


def test_check_raises_revoked(pki: PKI) -> None:
    cti = ctis(1)[0]
    rl = pki.load(pki.sign([(pki.ds1.kid, cti)]))
    with pytest.raises(RevokedError) as info:
        rl.check(pki.ds1.kid, cti)
    assert info.value.code is ErrorCode.REVOKED
    rl.check(pki.ds2.kid, cti)


def test_empty_list(pki: PKI) -> None:
    rl = pki.load(pki.sign([]))
    assert len(rl) == 0 and not rl.is_revoked(pki.ds1.kid, bytes(8))


def test_staleness(pki: PKI) -> None:
    rl = pki.load(pki.sign([]))
    assert not rl.is_stale(T0 + DAY)
    assert rl.is_stale(T0 + DAY + dt.timedelta(seconds=1))
    assert not rl.is_stale(T0 + 2 * DAY, grace=DAY)
    rl.check_fresh(T0 + dt.timedelta(hours=1))
    with pytest.raises(RevocationListStaleError):
        rl.check_fresh(T0 + 3 * DAY)
    with pytest.raises(TypeError, match="at must be timezone-aware"):
        rl.is_stale(dt.datetime(2026, 3, 1))  # naive


def test_signing_rejects_bad_times(pki: PKI) -> None:
    with pytest.raises(TypeError, match="issued_at must be timezone-aware"):
        sign_revocation_list(
            [],
            sequence=1,
            issued_at=dt.datetime(2026, 3, 1),
            next_update=dt.datetime(2026, 3, 2),
            signer=pki.rl.signer(),
            certificate=pki.rl.certificate,
        )
    with pytest.raises(BadInputError):
        sign_revocation_list(
            [],
            sequence=1,
            issued_at=T0,
            next_update=T0,
            signer=pki.rl.signer(),
            certificate=pki.rl.certificate,
        )


# --- deltas -----------------------------------------------------------------------------------


def test_delta_applies_to_its_base(pki: PKI) -> None:
    k = pki.ds1.kid
    c = ctis(30)
    base = pki.load(pki.sign([(k, x) for x in c[:20]], sequence=1))
    data = pki.delta([(k, x) for x in c[20:]], [(k, x) for x in c[:5]], base_sequence=1, sequence=2)
    rl = pki.load(data, base=base)
    assert rl.sequence == 2 and rl.delta_base == 1 and len(rl) == 25
    assert not rl.is_revoked(k, c[0]) and rl.is_revoked(k, c[5]) and rl.is_revoked(k, c[29])
    assert rl.hashes == pki.load(pki.sign([(k, x) for x in c[5:]], sequence=2)).hashes
    assert len(base) == 20  # the base is untouched
    # a chain of deltas
    rl3 = pki.load(pki.delta([], [(k, c[5])], base_sequence=2, sequence=3), base=rl)
    assert len(rl3) == 24 and not rl3.is_revoked(k, c[5])


def test_delta_on_the_wrong_base_is_refused(pki: PKI) -> None:
    k = pki.ds1.kid
    c = ctis(10)
    seq1 = pki.load(pki.sign([(k, x) for x in c[:5]], sequence=1))
    seq2 = pki.load(pki.sign([(k, x) for x in c[:6]], sequence=2))
    delta = pki.delta([(k, c[9])], [], base_sequence=1, sequence=3)
    with pytest.raises(BadListError, match="applies to sequence 1"):
        pki.load(delta, base=seq2)
    with pytest.raises(BadListError, match="needs its base"):
        pki.load(delta)
    assert len(pki.load(delta, base=seq1)) == 6
    # a delta that does not fit the base's content
    bad = pki.delta([(k, c[0])], [], base_sequence=1, sequence=3)
    with pytest.raises(BadListError, match="already in the list"):
        pki.load(bad, base=seq1)
    bad = pki.delta([], [(k, c[8])], base_sequence=1, sequence=3)
    with pytest.raises(BadListError, match="not in the list"):
        pki.load(bad, base=seq1)


def test_delta_sequence_must_grow(pki: PKI) -> None:
    with pytest.raises(BadInputError):
        pki.delta([], [], base_sequence=3, sequence=3)
    info = ListInfo(
        type=REVOCATION_LIST,
        sequence=3,
        issued_at=int(T0.timestamp()),
        next_update=int((T0 + DAY).timestamp()),
    )
    data = sign_list(info, build_delta_body([], [], 3), pki.rl.signer(), pki.rl.certificate)
    base = pki.load(pki.sign([], sequence=3))
    with pytest.raises(BadListError, match="not below"):
        pki.load(data, base=base)


def test_delta_from_another_authority_is_refused(pki: PKI) -> None:
    base = pki.load(pki.sign([], sequence=1))
    rogue_delta = pki.delta([], [], base_sequence=1, sequence=2, signer=pki.rogue)
    rogue_validator = PathValidator([pki.other_root.certificate], revocation="off")
    with pytest.raises(BadListError, match="different authorities"):
        RevocationList.load(rogue_delta, validator=rogue_validator, base=base)


def test_full_list_older_than_base_is_refused(pki: PKI) -> None:
    base = pki.load(pki.sign([], sequence=5))
    with pytest.raises(ListRollbackError):
        pki.load(pki.sign([], sequence=4), base=base)
    assert pki.load(pki.sign([], sequence=6), base=base).sequence == 6


# --- rollback ---------------------------------------------------------------------------------


def test_rollback_refused(pki: PKI, tmp_path: Path) -> None:
    state = ListState(tmp_path / "state.json")
    k, c = pki.ds1.kid, ctis(3)
    v1 = pki.sign([(k, c[0])], sequence=1)
    v2 = pki.sign([(k, c[0]), (k, c[1])], sequence=2)
    pki.load(v1, state=state)
    pki.load(v2, state=state)
    pki.load(v2, state=state)  # the same list again: fine
    with pytest.raises(ListRollbackError):
        pki.load(v1, state=state)
    # same sequence, other content: equivocation
    other = pki.sign([(k, c[2])], sequence=2)
    with pytest.raises(ListRollbackError):
        pki.load(other, state=state)
    # a rejected list does not touch the state
    assert "sequence" in (tmp_path / "state.json").read_text()
    with pytest.raises(BadListError):
        pki.load(v2[:-1] + bytes([v2[-1] ^ 1]), state=state)
    assert pki.load(v2, state=state).sequence == 2


def test_full_list_and_equivalent_delta_share_a_sequence(pki: PKI, tmp_path: Path) -> None:
    """Publishing both the full list N and the delta N-1 -> N must not look like equivocation."""
    state = ListState(tmp_path / "state.json")
    k, c = pki.ds1.kid, ctis(3)
    v1 = pki.load(pki.sign([(k, c[0])], sequence=1), state=state)
    via_delta = pki.load(
        pki.delta([(k, c[1])], [], base_sequence=1, sequence=2), state=state, base=v1
    )
    full = pki.load(pki.sign([(k, c[0]), (k, c[1])], sequence=2), state=state)
    assert via_delta.hashes == full.hashes
    # a delta with other content under the same sequence is refused
    with pytest.raises(ListRollbackError):
        pki.load(pki.delta([(k, c[2])], [], base_sequence=1, sequence=2), state=state, base=v1)


# --- what is not a revocation list ------------------------------------------------------------


def test_trust_list_is_not_a_revocation_list(pki: PKI) -> None:
    info = ListInfo(
        type=TRUST_LIST,
        sequence=1,
        issued_at=int(T0.timestamp()),
        next_update=int((T0 + DAY).timestamp()),
    )
    data = sign_list(info, {1: b""}, pki.rl.signer(), pki.rl.certificate, pki.rl.chain)
    with pytest.raises(BadListError, match="expected a ecard-revocation-list"):
        pki.load(data)


def test_credential_is_not_a_revocation_list(pki: PKI, card: Card) -> None:
    issued = Issuer(pki.ds1.signer(), pki.ds1.certificate, clock=fixed_clock(T0)).issue(card)
    with pytest.raises(BadListError):
        pki.load(issued.cose)
    with pytest.raises(BadListError):
        pki.load(issued.text.encode())


def test_document_signer_cannot_sign_revocation_lists(pki: PKI) -> None:
    """Refused when signing (the publisher learns it), and by verifiers if made anyway."""
    with pytest.raises(BadCertificateError, match="a document signer's certificate, not a list"):
        pki.sign([], signer=pki.ds1)
    info = ListInfo(REVOCATION_LIST, 1, int(T0.timestamp()), int((T0 + DAY).timestamp()))
    forged = build_sign1(
        encode_list(info, build_revocation_body([])),
        pki.ds1.signer(),
        kid_for_certificate(pki.ds1.certificate),
        extra_headers={HEADER_X5CHAIN: pki.ds1.certificate.public_bytes(Encoding.DER)},
    )
    with pytest.raises(BadListError, match="list signer certificate"):
        pki.load(forged)


def test_untrusted_root_is_refused(pki: PKI) -> None:
    with pytest.raises(BadListError, match="list signer certificate"):
        pki.load(pki.sign([], signer=pki.rogue))


def test_unsigned_content_swap_is_refused(pki: PKI) -> None:
    """Re-pairing one list's signature with another list's payload fails."""
    a = cbor.decode(pki.sign([], sequence=1), allowed_tags=frozenset({18}), max_items=10_000)
    b = cbor.decode(
        pki.sign([(pki.ds1.kid, bytes(8))], sequence=1),
        allowed_tags=frozenset({18}),
        max_items=10_000,
    )
    prot, unprot, _, sig = a.value
    forged = cbor.encode(cbor.Tag(18, [prot, unprot, b.value[2], sig]))
    with pytest.raises(BadListError, match="signature"):
        pki.load(forged)


def test_unparsable_signer_certificate_is_a_bad_list(pki: PKI) -> None:
    """Found by the mutation test below: a certificate in x5chain with version 4 makes
    cryptography raise ``InvalidVersion`` (not a ``ValueError``); it must still be BAD_LIST."""
    from cryptography.hazmat.primitives.serialization import Encoding

    data = pki.sign([], sequence=1)
    der = pki.rl.certificate.public_bytes(Encoding.DER)
    at = data.index(der) + 12  # 30 82 LL LL 30 82 LL LL A0 03 02 01 [02] = v3
    assert data[at] == 2
    with pytest.raises(BadListError):
        pki.load(data[:at] + b"\x03" + data[at + 1 :])


_SMALL: dict[int, tuple[bytes, list[range]]] = {}


def _small_list(pki: PKI) -> tuple[bytes, list[range]]:
    """A 50-entry list and the byte ranges of its parts: protected header (with x5chain),
    payload (with the hashes), signature, and the CBOR framing around them."""
    if id(pki) not in _SMALL:
        data = pki.sign([(pki.ds1.kid, cti) for cti in ctis(50, seed=7)], sequence=9)
        prot, _, payload, sig = cbor.decode(
            data, allowed_tags=frozenset({18}), max_items=10_000
        ).value
        regions = []
        for part in (prot, payload, sig):
            start = data.index(part)
            regions.append(range(start, start + len(part)))
        regions.append(range(len(data)))  # anywhere, framing included
        _SMALL[id(pki)] = (data, regions)
    return _SMALL[id(pki)]


@settings(max_examples=150)
@given(data=st.data())
def test_any_mutation_is_rejected_before_use(data: st.DataObject, pki: PKI) -> None:
    signed, regions = _small_list(pki)
    region = data.draw(st.sampled_from(regions))
    i = data.draw(st.integers(region.start, region.stop - 1))
    mask = data.draw(st.integers(1, 255))
    mutated = signed[:i] + bytes([signed[i] ^ mask]) + signed[i + 1 :]
    try:
        rl = pki.load(mutated)
    except BadListError:
        return
    # only a change nothing reads could survive, and it must change nothing
    original = pki.load(signed)
    assert (rl.sequence, rl.issued_at, rl.next_update, rl.hashes) == (
        original.sequence,
        original.issued_at,
        original.next_update,
        original.hashes,
    )


@settings(max_examples=40)
@given(data=st.data())
def test_truncation_and_extension_are_rejected(data: st.DataObject, pki: PKI) -> None:
    signed, _ = _small_list(pki)
    if data.draw(st.booleans()):
        mutated = signed[: data.draw(st.integers(0, len(signed) - 1))]
    else:
        mutated = signed + data.draw(st.binary(min_size=1, max_size=16))
    with pytest.raises(BadListError):
        pki.load(mutated)


# --- revoke: what `ecard revoke` runs --------------------------------------------------------


def test_revoke_grows_the_list(pki: PKI) -> None:
    k1, k2 = pki.ds1.kid, pki.ds2.kid
    c = ctis(4)
    v1 = pki.revoke(None, [(k1, c[0])], issued_at=T0)
    rl1 = pki.load(v1)
    assert rl1.sequence == 1 and len(rl1) == 1 and rl1.next_update == T0 + DAY
    v2 = pki.revoke(v1, [(k1, c[0]), (k2, c[1])], issued_at=T0 + DAY)
    rl2 = pki.load(v2)
    assert rl2.sequence == 2 and len(rl2) == 2
    assert rl2.is_revoked(k1, c[0]) and rl2.is_revoked(k2, c[1]) and not rl2.is_revoked(k1, c[1])
    v3 = pki.revoke(v2, [], unrevoke=[(k1, c[0])], issued_at=T0 + 2 * DAY, next_update=T0 + 9 * DAY)
    rl3 = pki.load(v3)
    assert rl3.sequence == 3 and len(rl3) == 1 and not rl3.is_revoked(k1, c[0])
    assert rl3.next_update == T0 + 9 * DAY
    with pytest.raises(BadInputError, match="not on the list"):
        pki.revoke(v3, [], unrevoke=[(k1, c[3])])
    with pytest.raises(BadInputError, match="both"):
        pki.revoke(v3, [(k1, c[3])], unrevoke=[(k1, c[3])])
    with pytest.raises(BadInputError):
        pki.revoke(v3, [(k1[:4], c[3])])
    info, hashes = read_own_list(v3, pki.rl.certificate)
    assert info.sequence == 3 and hashes == rl3.hashes


def test_revoke_checks_the_existing_list(pki: PKI) -> None:
    by_rl2 = pki.sign([], sequence=4, signer=pki.rl2)
    with pytest.raises(BadListError, match="not signed by this list signer"):
        pki.revoke(by_rl2, [(pki.ds1.kid, bytes(8))])
    # after a list-signer rollover: validate the previous list through the path instead
    out = pki.revoke(by_rl2, [(pki.ds1.kid, bytes(8))], validator=pki.validator())
    assert pki.load(out).sequence == 5
    delta = pki.delta([], [], base_sequence=1, sequence=2)
    with pytest.raises(BadListError, match="delta"):
        pki.revoke(delta, [])
    with pytest.raises(BadListError):
        pki.revoke(b"garbage", [])
