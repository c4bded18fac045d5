"""Signed trust lists: authenticity, rollback, staleness, scope, retirement and compromise.

Real hierarchies: root CA -> issuing CA (Beijing, Guangdong) -> document signers, and a
trust-list signer under the root. Every list is really signed and every path really validated.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import T0, fixed_clock

from ecard.card import Card, Holder
from ecard.crypto.x509 import certificate_to_pem
from ecard.errors import (
    BadCertificateError,
    BadKeyError,
    BadListError,
    ErrorCode,
    ListRollbackError,
)
from ecard.formats import cbor
from ecard.formats.cose import HEADER_X5CHAIN, kid_for_certificate
from ecard.formats.lists import TRUST_LIST, ListInfo, encode_list
from ecard.formats.trustlist import (
    TrustListEntry,
    decode_trust_body,
    encode_trust_body,
    region_prefix,
)
from ecard.signing.cose import build_sign1
from ecard.signing.issuer import Issuer
from ecard.signing.lists import sign_list
from ecard.signing.pki import (
    CertifiedKey,
    create_document_signer,
    create_issuing_ca,
    create_list_signer,
    create_root_ca,
)
from ecard.signing.trustlist import sign_trust_list
from ecard.verify.lists import ListState
from ecard.verify.paths import PathValidator
from ecard.verify.policy import Policy
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

DAY = dt.timedelta(days=1)


class PKI:
    def __init__(self) -> None:
        nb = T0 - 30 * DAY
        self.root = create_root_ca("TL Root", not_before=nb)
        self.beijing_ca = create_issuing_ca(self.root, "Beijing CA", not_before=nb)
        self.gd_ca = create_issuing_ca(self.root, "Guangdong CA", not_before=nb)
        self.bj1 = create_document_signer(self.beijing_ca, "Beijing Signer 1", not_before=T0 - DAY)
        self.bj2 = create_document_signer(self.beijing_ca, "Beijing Signer 2", not_before=T0 - DAY)
        self.gd1 = create_document_signer(self.gd_ca, "Guangdong Signer 1", not_before=T0 - DAY)
        self.tl = create_list_signer(self.root, "Trust List Signer", not_before=nb)
        self.other_root = create_root_ca("Other Root", not_before=nb)
        self.rogue_tl = create_list_signer(self.other_root, "Rogue List Signer", not_before=nb)

    def validator(self) -> PathValidator:
        return PathValidator([self.root.certificate], revocation="off")

    def entries(self, **overrides: dict[str, object]) -> list[TrustListEntry]:
        base = {
            "bj1": {"regions": frozenset({"110000"})},
            "bj2": {"regions": frozenset({"110000"})},
            "gd1": {"regions": frozenset({"440000"})},
        }
        out = []
        for name, kw in base.items():
            signer: CertifiedKey = getattr(self, name)
            out.append(
                TrustListEntry(
                    signer.certificate, signer.chain[:1], **{**kw, **overrides.get(name, {})}
                )  # type: ignore[arg-type]
            )
        return out

    def sign(
        self,
        entries: list[TrustListEntry] | None = None,
        *,
        sequence: int = 1,
        issued: dt.datetime = T0,
        days: int = 7,
        signer: CertifiedKey | None = None,
    ) -> bytes:
        s = signer or self.tl
        return sign_trust_list(
            self.entries() if entries is None else entries,
            sequence=sequence,
            issued_at=issued,
            next_update=issued + days * DAY,
            signer=s.signer(),
            certificate=s.certificate,
        )


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI()


def card_for(region: str, **kw: object) -> Card:
    return Card(
        holder=Holder(
            name="李四",
            ssn="44030419900101002X" if region.startswith("44") else "11010519491231002X",
        ),
        card_number="B12345678",
        region=region,
        issued=dt.date(2024, 1, 15),
        expires=dt.date(2034, 1, 15),
        **kw,  # type: ignore[arg-type]
    )


def issue(signer: CertifiedKey, card: Card, at: dt.datetime = T0) -> str:
    return Issuer(signer.signer(), signer.certificate, clock=fixed_clock(at)).issue(card).text


def verifier(
    store: TrustStore, when: dt.datetime = T0 + dt.timedelta(hours=1), **policy: object
) -> Verifier:
    return Verifier(store, Policy(clock=fixed_clock(when), **policy))  # type: ignore[arg-type]


# --- authenticity -------------------------------------------------------------------------------


def test_round_trip_and_verification(pki: PKI) -> None:
    store = TrustStore.from_trust_list(pki.sign(), validator=pki.validator())
    assert len(store) == 3 and store.trust_list is not None
    assert store.trust_list.info.sequence == 1
    assert all(i.unfit is None and i.path is not None for i in store)
    result = verifier(store).verify(issue(pki.bj1, card_for("110105")))
    assert result.valid, result.detail
    entries = decode_trust_body(cbor.decode(cbor.encode({1: []})) or {1: []})
    assert entries == []


def test_forged_list_signature(pki: PKI) -> None:
    data = bytearray(pki.sign())
    data[-5] ^= 0x01  # inside the signature
    with pytest.raises(BadListError, match="signature"):
        TrustStore.from_trust_list(bytes(data), validator=pki.validator())


def test_list_signer_not_chained_to_root(pki: PKI) -> None:
    data = pki.sign(signer=pki.rogue_tl)
    with pytest.raises(BadListError, match="list signer certificate"):
        TrustStore.from_trust_list(data, validator=pki.validator())


def test_document_signer_cannot_sign_lists(pki: PKI) -> None:
    """A key that signs cards lacks the list-signing EKU: the publisher is told when signing,
    not every counter when loading; a list made anyway (bypassing sign_list) is refused."""
    with pytest.raises(BadCertificateError, match="a document signer's certificate, not a list"):
        pki.sign(signer=pki.bj1)
    with pytest.raises(BadKeyError, match="list-signing key"):  # the key is not the certificate's
        sign_trust_list(
            pki.entries(), sequence=1, issued_at=T0, next_update=T0 + DAY,
            signer=pki.bj1.signer(), certificate=pki.tl.certificate,
        )  # fmt: skip
    info = ListInfo(
        type=TRUST_LIST,
        sequence=1,
        issued_at=int(T0.timestamp()),
        next_update=int((T0 + DAY).timestamp()),
    )
    ds = pki.bj1
    data = build_sign1(
        encode_list(info, encode_trust_body(pki.entries())),
        ds.signer(),
        kid_for_certificate(ds.certificate),
        extra_headers={HEADER_X5CHAIN: ds.certificate.public_bytes(Encoding.DER)},
    )
    with pytest.raises(BadListError, match=r"extended key usage|key usage"):
        TrustStore.from_trust_list(data, validator=pki.validator())


def test_revocation_list_is_not_a_trust_list(pki: PKI) -> None:
    info = ListInfo(
        type="ecard-revocation-list",
        sequence=1,
        issued_at=int(T0.timestamp()),
        next_update=int((T0 + DAY).timestamp()),
    )
    data = sign_list(info, {1: b""}, pki.tl.signer(), pki.tl.certificate)
    with pytest.raises(BadListError, match="expected a ecard-trust-list"):
        TrustStore.from_trust_list(data, validator=pki.validator())


def test_a_credential_is_not_a_list(pki: PKI) -> None:
    from ecard.formats import qrtext

    cose = qrtext.decode(issue(pki.bj1, card_for("110105")))
    with pytest.raises(BadListError):
        TrustStore.from_trust_list(cose, validator=pki.validator())


def test_x5chain_must_be_protected(pki: PKI) -> None:
    """Moving the signer chain to the unprotected header (not covered) is refused."""
    data = pki.sign()
    tag = cbor.decode(data, allowed_tags=frozenset({18}), max_items=100_000)
    prot, _, payload, sig = tag.value
    headers = cbor.decode(prot)
    x5 = headers.pop(HEADER_X5CHAIN)
    moved = cbor.encode(cbor.Tag(18, [cbor.encode(headers), {HEADER_X5CHAIN: x5}, payload, sig]))
    with pytest.raises(BadListError):
        TrustStore.from_trust_list(moved, validator=pki.validator())


def test_unprotected_noise_changes_nothing(pki: PKI) -> None:
    """Headers the signature does not cover never influence the decision."""
    data = pki.sign()
    tag = cbor.decode(data, allowed_tags=frozenset({18}), max_items=100_000)
    prot, _, payload, sig = tag.value
    noisy = cbor.encode(cbor.Tag(18, [prot, {99: "ignore me", 3: "text/evil"}, payload, sig]))
    store = TrustStore.from_trust_list(noisy, validator=pki.validator())
    assert {i.kid for i in store} == {
        i.kid for i in TrustStore.from_trust_list(data, validator=pki.validator())
    }


@settings(max_examples=40)
@given(data=st.data())
def test_any_mutation_is_rejected_before_use(data: st.DataObject, pki: PKI) -> None:
    signed = _small_list(pki)
    i = data.draw(st.integers(0, len(signed) - 1))
    b = data.draw(st.integers(0, 255).filter(lambda v: v != signed[i]))
    mutated = signed[:i] + bytes([b]) + signed[i + 1 :]
    try:
        store = TrustStore.from_trust_list(mutated, validator=pki.validator())
    except BadListError:
        return
    # the only acceptable survivor is a change in a part the signature does not cover and that
    # no decision reads: the result must be the very same trust store
    original = TrustStore.from_trust_list(signed, validator=pki.validator())
    assert [(e.kid, e.entry) for e in store] == [(e.kid, e.entry) for e in original]


_SMALL: dict[int, bytes] = {}


def _small_list(pki: PKI) -> bytes:
    if id(pki) not in _SMALL:
        _SMALL[id(pki)] = pki.sign(pki.entries()[:1])
    return _SMALL[id(pki)]


# --- rollback ---------------------------------------------------------------------------------


def test_rollback_refused(pki: PKI, tmp_path) -> None:  # type: ignore[no-untyped-def]
    state = ListState(tmp_path / "state.json")
    v2 = pki.sign(sequence=2)
    TrustStore.from_trust_list(v2, validator=pki.validator(), state=state)
    TrustStore.from_trust_list(v2, validator=pki.validator(), state=state)  # same list again: fine
    with pytest.raises(ListRollbackError):
        TrustStore.from_trust_list(pki.sign(sequence=1), validator=pki.validator(), state=state)
    with pytest.raises(ListRollbackError, match="other content"):
        TrustStore.from_trust_list(
            pki.sign(sequence=2, days=8), validator=pki.validator(), state=state
        )
    TrustStore.from_trust_list(pki.sign(sequence=3), validator=pki.validator(), state=state)
    # the state survives a restart (a new ListState on the same file)
    with pytest.raises(ListRollbackError):
        TrustStore.from_trust_list(
            v2, validator=pki.validator(), state=ListState(tmp_path / "state.json")
        )
    assert ListRollbackError.code is ErrorCode.LIST_ROLLBACK


def test_corrupt_state_is_an_error_not_a_reset(pki: PKI, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "state.json"
    path.write_text("{not json")
    with pytest.raises(BadListError, match="corrupt"):
        TrustStore.from_trust_list(pki.sign(), validator=pki.validator(), state=ListState(path))


# --- staleness --------------------------------------------------------------------------------


def test_stale_list_warns_then_fails(pki: PKI) -> None:
    store = TrustStore.from_trust_list(pki.sign(days=7), validator=pki.validator())
    text = issue(pki.bj1, card_for("110105"))
    due = T0 + 7 * DAY
    fresh = verifier(store, due - dt.timedelta(minutes=1)).verify(text)
    assert fresh.valid and fresh.warnings == ()
    grace = verifier(store, due + 2 * DAY, trust_list_grace=3 * DAY).verify(text)
    assert grace.valid and grace.warnings and "trust list" in grace.warnings[0]
    assert grace.to_dict()["warnings"] == list(grace.warnings)
    stale = verifier(
        store, due + 3 * DAY + dt.timedelta(seconds=1), trust_list_grace=3 * DAY
    ).verify(text)
    assert stale.code is ErrorCode.TRUST_LIST_STALE and stale.card is None


# --- scope ----------------------------------------------------------------------------------


def test_scope_beijing_signer_cannot_sign_guangdong(pki: PKI) -> None:
    store = TrustStore.from_trust_list(pki.sign(), validator=pki.validator())
    v = verifier(store)
    assert v.verify(issue(pki.bj1, card_for("110105"))).valid
    result = v.verify(issue(pki.bj1, card_for("440304")))
    assert result.code is ErrorCode.ISSUER_NOT_AUTHORISED
    assert "440304" in result.detail
    assert v.verify(issue(pki.gd1, card_for("440304"))).valid


def test_scope_spec_versions(pki: PKI) -> None:
    entries = pki.entries(bj1={"spec_versions": frozenset({"3.00"})})
    store = TrustStore.from_trust_list(pki.sign(entries), validator=pki.validator())
    v = verifier(store)
    assert v.verify(issue(pki.bj1, card_for("110105", spec_version="3.00"))).valid
    assert (
        v.verify(issue(pki.bj1, card_for("110105", spec_version="2.00"))).code
        is ErrorCode.ISSUER_NOT_AUTHORISED
    )


def test_region_prefixes() -> None:
    assert region_prefix("110000") == "11"
    assert region_prefix("110100") == "1101"
    assert region_prefix("110105") == "110105"


# --- lifecycle --------------------------------------------------------------------------------


def test_retired_versus_compromised(pki: PKI) -> None:
    instant = T0 + 2 * DAY
    before, after = card_for("110105"), card_for("110105")
    old_bj1 = issue(pki.bj1, before, at=T0)
    new_bj1 = issue(pki.bj1, after, at=instant + dt.timedelta(hours=1))
    old_bj2 = issue(pki.bj2, before, at=T0)
    new_bj2 = issue(pki.bj2, after, at=instant + dt.timedelta(hours=1))
    entries = pki.entries(bj1={"retired_at": instant}, bj2={"compromised_at": instant})
    store = TrustStore.from_trust_list(pki.sign(entries), validator=pki.validator())
    v = verifier(store, instant + 2 * DAY)
    # retired: what it signed before retirement still verifies; anything later is refused
    assert v.verify(old_bj1).valid
    late = v.verify(new_bj1)
    assert late.code is ErrorCode.ISSUER_CERT_INVALID and "retired" in late.detail
    # compromised: everything claiming a signing time at or after the instant is revoked
    assert v.verify(old_bj2).valid
    forged = v.verify(new_bj2)
    assert forged.code is ErrorCode.REVOKED and "compromised" in forged.detail


def test_path_failures_make_signers_unfit_not_unknown(pki: PKI) -> None:
    """A signer whose chain does not reach the root is reported with the reason."""
    rogue_ca = create_issuing_ca(pki.other_root, "Rogue CA", not_before=T0 - 30 * DAY)
    rogue = create_document_signer(rogue_ca, "Rogue Signer", not_before=T0 - DAY)
    entries = [*pki.entries(), TrustListEntry(rogue.certificate, rogue.chain[:1])]
    store = TrustStore.from_trust_list(pki.sign(entries), validator=pki.validator())
    (entry,) = store.lookup(rogue.kid)
    assert entry.unfit and "certificate path" in entry.unfit
    result = verifier(store).verify(issue(rogue, card_for("110105")))
    assert result.code is ErrorCode.ISSUER_CERT_INVALID


# --- atomic updates -------------------------------------------------------------------------------


def test_lists_swap_atomically_while_verifying(pki: PKI) -> None:
    only_bj = TrustStore.from_trust_list(
        pki.sign(pki.entries()[:1], sequence=1), validator=pki.validator()
    )
    with_gd = TrustStore.from_trust_list(pki.sign(sequence=2), validator=pki.validator())
    v = verifier(only_bj)
    bj_text = issue(pki.bj1, card_for("110105"))
    gd_text = issue(pki.gd1, card_for("440304"))
    errors: list[str] = []
    stop = threading.Event()

    def scan() -> None:
        while not stop.is_set():
            r = v.verify(bj_text)
            if not r.valid:
                errors.append(r.detail)
            code = v.verify(gd_text).code
            if code not in (ErrorCode.OK, ErrorCode.UNKNOWN_KID):
                errors.append(str(code))

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for th in threads:
        th.start()
    for i in range(50):
        v.update(trust=with_gd if i % 2 == 0 else only_bj)
    v.update(trust=with_gd)
    stop.set()
    for th in threads:
        th.join()
    assert errors == []
    assert v.verify(gd_text).valid
    assert v.trust is with_gd


def test_trust_list_type_constant() -> None:
    assert TRUST_LIST == "ecard-trust-list"


# --- revocation lists at the verifier ---------------------------------------------------------


def test_revoked_credential_and_stale_revocation_list(pki: PKI) -> None:
    from ecard.formats import qrtext
    from ecard.formats.cose import parse_sign1
    from ecard.signing.revocation import sign_revocation_list
    from ecard.verify.revocation import RevocationList

    store = TrustStore.from_trust_list(pki.sign(), validator=pki.validator())
    keep = Issuer(pki.bj1.signer(), pki.bj1.certificate, clock=fixed_clock(T0)).issue(
        card_for("110105")
    )
    gone = Issuer(pki.bj1.signer(), pki.bj1.certificate, clock=fixed_clock(T0)).issue(
        card_for("110105")
    )
    assert parse_sign1(qrtext.decode(gone.text)).kid == gone.kid
    signed = sign_revocation_list(
        [(gone.kid, gone.cti)],
        sequence=1,
        issued_at=T0,
        next_update=T0 + DAY,
        signer=pki.tl.signer(),
        certificate=pki.tl.certificate,
    )
    revocations = RevocationList.load(signed, validator=pki.validator())
    v = Verifier(
        store, Policy(clock=fixed_clock(T0 + dt.timedelta(hours=1))), revocations=revocations
    )
    assert v.verify(keep.text).valid
    revoked = v.verify(gone.text)
    assert revoked.code is ErrorCode.REVOKED and revoked.card is None
    # the same credential id under another signer is not revoked: entries are per signer
    other = Issuer(pki.bj2.signer(), pki.bj2.certificate, clock=fixed_clock(T0)).issue(
        card_for("110105"), cti=gone.cti
    )
    assert v.verify(other.text).valid
    # stale: warning within the grace period, then REVOCATION_LIST_STALE
    late = Verifier(
        store,
        Policy(clock=fixed_clock(T0 + 2 * DAY), revocation_list_grace=3 * DAY),
        revocations=revocations,
    )
    warned = late.verify(keep.text)
    assert warned.valid and "revocation list" in warned.warnings[0]
    stale = Verifier(
        store,
        Policy(clock=fixed_clock(T0 + 5 * DAY), revocation_list_grace=3 * DAY),
        revocations=revocations,
    )
    assert stale.verify(keep.text).code is ErrorCode.REVOCATION_LIST_STALE
    # a verifier can take a new revocation list without stopping
    v.update(
        revocations=RevocationList.load(
            sign_revocation_list(
                [],
                sequence=2,
                issued_at=T0,
                next_update=T0 + DAY,
                signer=pki.tl.signer(),
                certificate=pki.tl.certificate,
            ),
            validator=pki.validator(),
        )
    )
    assert v.verify(gone.text).valid


def test_a_list_too_large_to_read_is_not_signed(pki: PKI, monkeypatch: pytest.MonkeyPatch) -> None:
    """Signing refuses a list above the size verifiers read, for trust and revocation lists
    alike (the bound is lowered here: a real 256 MiB list would take minutes to build)."""
    from ecard.errors import BadInputError
    from ecard.signing import lists as signing_lists
    from ecard.signing.revocation import sign_revocation_list

    size = len(pki.sign())
    monkeypatch.setattr(signing_lists, "MAX_LIST_SIZE", size - 1)
    with pytest.raises(BadInputError, match="exceeds"):
        pki.sign()
    monkeypatch.setattr(signing_lists, "MAX_LIST_SIZE", 100)
    with pytest.raises(BadInputError, match="exceeds"):
        sign_revocation_list(
            [(b"k" * 8, b"c" * 8)], sequence=1, issued_at=T0,
            next_update=T0 + dt.timedelta(days=1), signer=pki.tl.signer(),
            certificate=pki.tl.certificate,
        )  # fmt: skip


def test_from_paths_takes_one_path_as_one_path(tmp_path: Path, ds: CertifiedKey) -> None:
    """A folder given as a string is one folder (it used to be iterated letter by letter), and an
    empty path (an unset variable) is refused instead of meaning the current directory."""
    (tmp_path / "ds.pem").write_bytes(certificate_to_pem(ds.certificate))
    for one in (str(tmp_path), tmp_path):
        store = TrustStore.from_paths(one)
        assert [i.kid for i in store] == [ds.kid]
    with pytest.raises(ValueError, match="empty path"):
        TrustStore.from_paths([""])
    with pytest.raises(ValueError, match="empty path"):
        TrustStore.from_paths("")
