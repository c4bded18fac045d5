"""The verifier's state file: one sequence space per list type whatever the roots (root
rotation), CRL rollback, unusable state locations, list times beyond the calendar."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from tests.conftest import T0

from ecard.errors import BadInputError, BadListError, ListRollbackError, ListStage
from ecard.formats.lists import TRUST_LIST, ListInfo
from ecard.formats.trustlist import TrustListEntry, encode_trust_body
from ecard.publish.crl import next_crl
from ecard.signing.lists import sign_list
from ecard.signing.pki import (
    CertifiedKey,
    create_document_signer,
    create_list_signer,
    create_root_ca,
)
from ecard.signing.trustlist import sign_trust_list
from ecard.verify.lists import ListState, open_list
from ecard.verify.loading import ListConfig
from ecard.verify.paths import PathValidator
from ecard.verify.trust import TrustStore

DAY = dt.timedelta(days=1)
NB = T0 - 30 * DAY


class Rotation:
    """An old root and a new one, each with a list signer and a document signer."""

    def __init__(self) -> None:
        self.old = create_root_ca("Old Root", not_before=NB)
        self.new = create_root_ca("New Root", not_before=NB)
        self.old_tl = create_list_signer(self.old, "Old List Signer", not_before=NB)
        self.new_tl = create_list_signer(self.new, "New List Signer", not_before=NB)
        self.ds = create_document_signer(self.new, "Signer", not_before=NB)

    def validator(self) -> PathValidator:
        return PathValidator([self.old.certificate, self.new.certificate], revocation="off")

    def sign(self, signer: CertifiedKey, sequence: int) -> bytes:
        return sign_trust_list(
            [TrustListEntry(self.ds.certificate)],
            sequence=sequence,
            issued_at=T0,
            next_update=T0 + 7 * DAY,
            signer=signer.signer(),
            certificate=signer.certificate,
        )


@pytest.fixture(scope="module")
def rot() -> Rotation:
    return Rotation()


def _pem(path: Path, *items: object) -> str:
    path.write_bytes(b"".join(i.public_bytes(Encoding.PEM) for i in items))  # type: ignore[attr-defined]
    return str(path)


# --- one sequence space per list type ----------------------------------------------------------


def test_old_roots_last_list_is_refused_after_the_new_roots_newer_one(
    rot: Rotation, tmp_path: Path
) -> None:
    state = ListState(tmp_path / "state.json")
    TrustStore.from_trust_list(rot.sign(rot.new_tl, 5), validator=rot.validator(), state=state)
    with pytest.raises(ListRollbackError, match="lower than 5"):
        TrustStore.from_trust_list(rot.sign(rot.old_tl, 3), validator=rot.validator(), state=state)
    # the other way round too: the new root continues the old root's numbering
    state2 = ListState(tmp_path / "state2.json")
    TrustStore.from_trust_list(rot.sign(rot.old_tl, 4), validator=rot.validator(), state=state2)
    TrustStore.from_trust_list(rot.sign(rot.new_tl, 5), validator=rot.validator(), state=state2)
    assert json.loads((tmp_path / "state2.json").read_text())[TRUST_LIST]["sequence"] == 5


def test_state_of_earlier_versions_is_read_as_the_maximum_over_roots(
    rot: Rotation, tmp_path: Path
) -> None:
    path = tmp_path / "state.json"
    fp = {r: r.certificate.fingerprint(hashes.SHA256()).hex() for r in (rot.old, rot.new)}
    path.write_text(
        json.dumps(
            {
                f"{TRUST_LIST}:{fp[rot.old]}": {"sequence": 7, "digest": "00"},
                f"{TRUST_LIST}:{fp[rot.new]}": {"sequence": 2, "digest": "00"},
            }
        )
    )
    state = ListState(path)
    with pytest.raises(ListRollbackError, match="lower than 7"):
        TrustStore.from_trust_list(rot.sign(rot.new_tl, 5), validator=rot.validator(), state=state)
    TrustStore.from_trust_list(rot.sign(rot.new_tl, 8), validator=rot.validator(), state=state)
    assert set(json.loads(path.read_text())) == {TRUST_LIST}


def test_state_without_signed_lists_is_refused(rot: Rotation, tmp_path: Path) -> None:
    cert = _pem(tmp_path / "ds.pem", rot.ds.certificate)
    with pytest.raises(BadInputError, match="--state needs"):
        ListConfig(trust=(cert,), state=str(tmp_path / "state.json"))
    # with a signed list (or CRLs) it has something to protect
    ListConfig(trust_list=cert, roots=(cert,), state=str(tmp_path / "state.json"))


# --- CRL rollback ------------------------------------------------------------------------------


def test_older_crl_is_refused_after_a_newer_one(rot: Rotation, tmp_path: Path) -> None:
    first = next_crl(rot.new, None, [(rot.ds.certificate, T0 - DAY)], this_update=T0 - DAY)
    second = next_crl(rot.new, first.crl, this_update=T0)
    assert (first.number, second.number) == (1, 2)
    roots = (_pem(tmp_path / "roots.pem", rot.old.certificate, rot.new.certificate),)
    state = str(tmp_path / "state.json")
    newer = _pem(tmp_path / "crl2.pem", second.crl)
    older = _pem(tmp_path / "crl1.pem", first.crl)
    ListConfig(roots=roots, crls=(newer,), state=state).load()
    ListConfig(roots=roots, crls=(newer,), state=state).load()  # the same CRL again: fine
    with pytest.raises(ListRollbackError, match="CRL number 1 is lower than 2"):
        ListConfig(roots=roots, crls=(older,), state=state).load()
    # another CA's CRL has its own sequence; without a state file nothing is refused
    other = next_crl(rot.old, None, this_update=T0 - 2 * DAY)
    ListConfig(roots=roots, crls=(_pem(tmp_path / "o.pem", other.crl),), state=state).load()
    ListConfig(roots=roots, crls=(older,)).load()
    third = next_crl(rot.new, second.crl, this_update=T0 + DAY)
    ListConfig(roots=roots, crls=(_pem(tmp_path / "crl3.pem", third.crl),), state=state).load()
    with pytest.raises(ListRollbackError):
        ListConfig(roots=roots, crls=(newer,), state=state).load()


def test_crl_no_root_signed_is_not_recorded(rot: Rotation, tmp_path: Path) -> None:
    # a CRL under the new root's name but another key must not lock the verifier out
    impostor = create_root_ca("New Root", not_before=NB)
    forged = next_crl(impostor, None, this_update=T0, number=10**6)
    roots = (_pem(tmp_path / "roots.pem", rot.new.certificate),)
    state = tmp_path / "state.json"
    ListConfig(roots=roots, crls=(_pem(tmp_path / "f.pem", forged.crl),), state=str(state)).load()
    assert not state.exists()
    real = next_crl(rot.new, None, this_update=T0)
    ListConfig(roots=roots, crls=(_pem(tmp_path / "r.pem", real.crl),), state=str(state)).load()
    assert len(json.loads(state.read_text())) == 1


# --- unusable state locations ------------------------------------------------------------------


def test_unwritable_state_location_is_a_typed_error(rot: Rotation, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    state = ListState(blocker / "state.json")
    with pytest.raises(BadListError) as info:
        TrustStore.from_trust_list(rot.sign(rot.new_tl, 1), validator=rot.validator(), state=state)
    assert info.value.stage is ListStage.STATE
    assert "cannot write" in info.value.detail


def test_unreadable_state_is_a_typed_error(rot: Rotation, tmp_path: Path) -> None:
    folder = tmp_path / "state.json"
    folder.mkdir()
    with pytest.raises(BadListError) as info:
        TrustStore.from_trust_list(
            rot.sign(rot.new_tl, 1), validator=rot.validator(), state=ListState(folder)
        )
    assert info.value.stage is ListStage.STATE


# --- times beyond the calendar -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("issued_at", "next_update", "name"),
    [(0, 2**63 - 1, "next_update"), (2**63 - 2, 2**63 - 1, "issued_at"), (0, 2**40, "next_update")],
)
def test_list_times_beyond_the_calendar_are_bad_lists(
    rot: Rotation, issued_at: int, next_update: int, name: str
) -> None:
    info = ListInfo(TRUST_LIST, 1, issued_at, next_update)
    data = sign_list(
        info,
        encode_trust_body([TrustListEntry(rot.ds.certificate)]),
        rot.new_tl.signer(),
        rot.new_tl.certificate,
    )
    with pytest.raises(BadListError, match=name) as exc:
        open_list(data, expected_type=TRUST_LIST, validator=rot.validator())
    assert exc.value.stage is ListStage.PAYLOAD


def test_list_issued_at_epoch_is_a_path_failure_not_a_traceback(rot: Rotation) -> None:
    info = ListInfo(TRUST_LIST, 1, 0, 1)
    data = sign_list(
        info,
        encode_trust_body([TrustListEntry(rot.ds.certificate)]),
        rot.new_tl.signer(),
        rot.new_tl.certificate,
    )
    with pytest.raises(BadListError) as exc:
        open_list(data, expected_type=TRUST_LIST, validator=rot.validator())
    assert exc.value.stage is ListStage.SIGNER_PATH
