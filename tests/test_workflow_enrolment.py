"""Device enrolment through the workflow, on SQLite and PostgreSQL, with real keys: the
holder's device keys (``ecard.holder.keys``) answer the registry's nonces, the bound
credentials are presented (``ecard.holder.wallet.Presenter``) and verified at a counter that
requires binding, with the registry's own signed revocation lists."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import create_engine, select, text
from tests.conftest import T0
from tests.workflow_support import PHONE, RESIDENT, World, make_world

from ecard.errors import ErrorCode
from ecard.formats.cose import assemble_sign1, sig_structure
from ecard.formats.credential import IssuedCard
from ecard.formats.presentation import enrolment_parts
from ecard.holder.keys import SoftwareDeviceKey
from ecard.holder.wallet import HolderClock, Presenter, enrolment_request
from ecard.signing.binding import new_nonce
from ecard.signing.pki import CertifiedKey, create_list_signer
from ecard.verify.paths import PathValidator
from ecard.verify.policy import Policy
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier
from ecard.workflow.errors import WorkflowCode, WorkflowError
from ecard.workflow.lifecycle import CardEvent, CardState
from ecard.workflow.steps import Settings
from ecard.workflow.store import CardRow, CredentialRow, EnrolmentNonceRow

PIN = "138205"


@pytest.fixture(scope="module")
def list_signer(root: CertifiedKey) -> CertifiedKey:
    return create_list_signer(root, "Enrolment List Signer", not_before=T0 - dt.timedelta(days=30))


@pytest.fixture
def world(db_url: str, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey) -> World:
    """A registry that signs no bearer credential: enrolment makes the credentials."""
    return make_world(db_url, root, ds, list_signer, Settings(require_binding=True))


def counter(world: World) -> Verifier:
    """A counter that requires binding, with the registry's latest signed list."""
    data = world.registry.revocation_list()
    lists = (
        None
        if data is None
        else RevocationList.load(
            data, validator=PathValidator([world.root.certificate], revocation="off")
        )
    )
    policy = Policy(clock=world.clock, require_binding=True)
    return Verifier(TrustStore([world.ds.certificate]), policy, revocations=lists)


def present(world: World, issued: IssuedCard, key: SoftwareDeviceKey, purpose: str) -> str:
    clock = HolderClock(world.clock.now.timestamp(), lambda: 0.0)
    return Presenter(issued.text, key, clock).present(purpose)


def issued_card(world: World) -> str:
    """An approved online application issued (no credential) with a PIN set: the card number."""
    reg = world.registry
    app = world.apply_online()
    assert reg.issue(app, actor="account:42") is None
    with reg.store.session() as session:
        number = session.scalars(select(CardRow.card_number)).one()
    reg.set_pin(number, PIN)
    return number


def challenge(world: World, number: str, **kw: object) -> dict[str, bytes]:
    reg = world.registry
    world.clock.advance(seconds=61)  # past the resend interval
    reg.send_card_code(number)
    with reg.store.session() as session:
        app_id = session.get(CardRow, number).application_id  # type: ignore[union-attr]
    return reg.enrolment_challenge(number, world.outbox.last_code(app_id), PIN, **kw)  # type: ignore[arg-type]


def enrol(world: World, number: str) -> tuple[dict[str, IssuedCard], dict[str, SoftwareDeviceKey]]:
    nonces = challenge(world, number)
    keys = {p: SoftwareDeviceKey.generate("ES256") for p in nonces}
    requests = {p: enrolment_request(keys[p], nonces[p]) for p in nonces}
    return world.registry.enrol_device(number, requests), keys


def code_of(err: pytest.ExceptionInfo[WorkflowError]) -> WorkflowCode:
    return err.value.workflow_code


def test_apply_enrol_present_lose_replace_reenrol(world: World) -> None:
    """The issue's proof: apply online → code → review → issue → enrol → present at a counter
    → report lost → the next presentation is REVOKED → replace → re-enrol → it verifies."""
    reg = world.registry
    number = issued_card(world)
    assert reg.revocation_list() is None  # nothing was signed for the holder yet
    creds, keys = enrol(world, number)
    assert set(creds) == {"full", "counter"}
    assert creds["full"].cti != creds["counter"].cti
    assert counter(world).verify(present(world, creds["full"], keys["full"], "identity")).valid
    result = counter(world).verify(present(world, creds["counter"], keys["counter"], "pharmacy"))
    assert result.code is ErrorCode.OK
    # a bound credential shown bare is refused
    assert counter(world).verify(creds["full"].text).code is ErrorCode.BOUND_CARD_AS_PLAIN

    world.clock.advance(hours=1)
    reg.change(number, CardEvent.REPORT_LOSS, actor="account:42")
    verifier = counter(world)  # the counter's next list update
    for profile, purpose in (("full", "identity"), ("counter", "pharmacy")):
        shown = present(world, creds[profile], keys[profile], purpose)
        assert verifier.verify(shown).code is ErrorCode.REVOKED, profile

    world.clock.advance(hours=1)
    assert reg.replace(number, actor="clerk:7", reason="lost, not found") is None
    new_number = reg.replaced_by(number)
    assert new_number is not None and reg.card_state(new_number) is CardState.NORMAL
    assert reg.replaced_by(new_number) is None
    new_creds, new_keys = enrol(world, new_number)
    verifier = counter(world)
    assert verifier.verify(present(world, new_creds["full"], new_keys["full"], "identity")).valid
    old = present(world, creds["full"], keys["full"], "treatment")
    assert verifier.verify(old).code is ErrorCode.REVOKED
    actions = [e.action for e in reg.events()]
    assert actions.count("enrol") == 2 and actions.count("enrolment_challenge") == 2


def test_a_new_phone_revokes_the_previous_devices_credentials(world: World) -> None:
    reg = world.registry
    number = issued_card(world)
    first, first_keys = enrol(world, number)
    assert reg.revocation_list() is None
    world.clock.advance(minutes=10)
    second, second_keys = enrol(world, number)
    verifier = counter(world)
    for profile, purpose in (("full", "identity"), ("counter", "pharmacy")):
        old = present(world, first[profile], first_keys[profile], purpose)
        assert verifier.verify(old).code is ErrorCode.REVOKED
        new = present(world, second[profile], second_keys[profile], purpose)
        assert verifier.verify(new).code is ErrorCode.OK
    # a temporary loss and its lifting bring back only the new phone's credentials
    reg.change(number, CardEvent.REPORT_LOSS, actor="a")
    reg.change(number, CardEvent.LIFT_LOSS, actor="a")
    verifier = counter(world)
    assert verifier.verify(present(world, second["full"], second_keys["full"], "identity")).valid
    old = present(world, first["full"], first_keys["full"], "identity")
    assert verifier.verify(old).code is ErrorCode.REVOKED
    with reg.store.session() as session:
        rows = session.scalars(select(CredentialRow)).all()
    assert len(rows) == 4
    assert {r.device_key for r in rows} == {
        k.device_key.thumbprint.hex() for k in (*first_keys.values(), *second_keys.values())
    }
    assert sorted(r.superseded_at is not None for r in rows) == [False, False, True, True]


def test_enrolment_supersedes_a_bearer_credential(
    db_url: str, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey
) -> None:
    world = make_world(db_url, root, ds, list_signer)  # require_binding off: a bearer card
    reg = world.registry
    bearer = reg.issue(world.apply_online(), actor="a")
    assert bearer is not None
    number = bearer.card.card_number
    reg.set_pin(number, PIN)
    verifier = Verifier(TrustStore([ds.certificate]), Policy(clock=world.clock))
    assert verifier.verify(bearer.text).code is ErrorCode.OK
    creds, keys = enrol(world, number)
    assert counter(world).verify(present(world, creds["full"], keys["full"], "identity")).valid
    data = reg.revocation_list()
    assert data is not None
    lists = RevocationList.load(data, validator=PathValidator([root.certificate], revocation="off"))
    verifier = Verifier(TrustStore([ds.certificate]), Policy(clock=world.clock), revocations=lists)
    assert verifier.verify(bearer.text).code is ErrorCode.REVOKED


def test_challenge_checks_code_and_pin_like_a_query(world: World) -> None:
    reg = world.registry
    number = issued_card(world)
    with pytest.raises(WorkflowError) as err:
        reg.enrolment_challenge(number, "000000", PIN)
    assert code_of(err) is WorkflowCode.CODE_USED  # the application's code went at the check
    for attempt in range(6):
        world.clock.advance(seconds=61)
        reg.send_card_code(number)
        code = world.outbox.messages[-1].code
        with pytest.raises(WorkflowError) as err:
            reg.enrolment_challenge(number, code, "246813")
        expected = WorkflowCode.PIN_LOCKED if attempt == 5 else WorkflowCode.PIN_WRONG
        assert code_of(err) is expected
        with pytest.raises(WorkflowError) as err:  # the code was used by the failed try
            reg.enrolment_challenge(number, code, PIN)
        assert code_of(err) is (WorkflowCode.PIN_LOCKED if attempt == 5 else WorkflowCode.CODE_USED)
    with pytest.raises(WorkflowError) as err:
        challenge(world, number)
    assert code_of(err) is WorkflowCode.PIN_LOCKED
    with pytest.raises(WorkflowError) as err:
        reg.enrolment_challenge("NOSUCHCRD", "123456", PIN)
    assert code_of(err) is WorkflowCode.NOT_FOUND


def test_nonce_refusals(world: World) -> None:
    reg = world.registry
    number = issued_card(world)
    key = SoftwareDeviceKey.generate("ES256")
    # no challenge yet
    with pytest.raises(WorkflowError) as err:
        reg.enrol_device(number, {"full": enrolment_request(key, new_nonce())})
    assert code_of(err) is WorkflowCode.ENROL_NONCE_WRONG
    # a request answering another nonce, then the right one: consumed by the failure
    nonces = challenge(world, number, profiles=("full",))
    assert set(nonces) == {"full"} and len(nonces["full"]) == 16
    with pytest.raises(WorkflowError) as err:
        reg.enrol_device(number, {"full": enrolment_request(key, new_nonce())})
    assert code_of(err) is WorkflowCode.ENROL_NONCE_WRONG
    with pytest.raises(WorkflowError) as err:
        reg.enrol_device(number, {"full": enrolment_request(key, nonces["full"])})
    assert code_of(err) is WorkflowCode.ENROL_NONCE_USED
    # the counter profile's nonce does not answer for the full profile
    nonces = challenge(world, number)
    with pytest.raises(WorkflowError) as err:
        reg.enrol_device(number, {"full": enrolment_request(key, nonces["counter"])})
    assert code_of(err) is WorkflowCode.ENROL_NONCE_WRONG
    # used: a successful enrolment's request sent again
    nonces = challenge(world, number, profiles=("full",))
    request = enrolment_request(key, nonces["full"])
    assert set(reg.enrol_device(number, {"full": request})) == {"full"}
    with pytest.raises(WorkflowError) as err:
        reg.enrol_device(number, {"full": request})
    assert code_of(err) is WorkflowCode.ENROL_NONCE_USED
    # expired: 5 minutes
    nonces = challenge(world, number, profiles=("counter",))
    world.clock.advance(minutes=5, seconds=1)
    other = SoftwareDeviceKey.generate("EdDSA")
    with pytest.raises(WorkflowError) as err:
        reg.enrol_device(number, {"counter": enrolment_request(other, nonces["counter"])})
    assert code_of(err) is WorkflowCode.ENROL_NONCE_EXPIRED
    with reg.store.session() as session:
        assert all(r.used for r in session.scalars(select(EnrolmentNonceRow)))
    details = [e.detail for e in reg.events() if e.action == "enrol"]
    assert details.count("ENROL_NONCE_WRONG") == 3 and "ENROL_NONCE_EXPIRED" in details


def test_request_and_key_refusals(world: World) -> None:
    reg = world.registry
    number = issued_card(world)
    key = SoftwareDeviceKey.generate("ES256")
    nonces = challenge(world, number)
    with pytest.raises(WorkflowError) as err:  # one key for both profiles: linkable
        reg.enrol_device(number, {p: enrolment_request(key, n) for p, n in nonces.items()})
    assert code_of(err) is WorkflowCode.ENROL_SAME_KEY
    # a request that carries one key but is signed by another: no proof of possession
    nonces = challenge(world, number, profiles=("full",))
    thief = SoftwareDeviceKey.generate("ES256")
    protected, payload = enrolment_parts(key.device_key, nonces["full"])
    forged = assemble_sign1(protected, payload, thief.sign(sig_structure(protected, payload)))
    with pytest.raises(WorkflowError) as err:
        reg.enrol_device(number, {"full": forged})
    assert code_of(err) is WorkflowCode.ENROL_PROOF_INVALID
    with pytest.raises(WorkflowError) as err:  # the nonce went with the failure
        reg.enrol_device(number, {"full": enrolment_request(key, nonces["full"])})
    assert code_of(err) is WorkflowCode.ENROL_NONCE_USED
    for bad in (b"\xa0", b"", b"x" * 2000):
        nonces = challenge(world, number, profiles=("full",))
        with pytest.raises(WorkflowError) as err:
            reg.enrol_device(number, {"full": bad})
        assert code_of(err) is WorkflowCode.ENROL_REQUEST_INVALID
    # a key already enrolled (on this card, or any other) is refused
    nonces = challenge(world, number, profiles=("full",))
    reg.enrol_device(number, {"full": enrolment_request(key, nonces["full"])})
    nonces = challenge(world, number, profiles=("full",))
    with pytest.raises(WorkflowError) as err:
        reg.enrol_device(number, {"full": enrolment_request(key, nonces["full"])})
    assert code_of(err) is WorkflowCode.ENROL_SAME_KEY
    with reg.store.session() as session:
        assert len(session.scalars(select(CredentialRow)).all()) == 1


def test_unknown_profiles_are_refused(world: World) -> None:
    reg = world.registry
    number = issued_card(world)
    for profiles in (("passport",), (), ("full", "full"), "full"):
        with pytest.raises(WorkflowError) as err:
            reg.enrolment_challenge(number, "123456", PIN, profiles=profiles)
        assert code_of(err) is WorkflowCode.ENROL_PROFILE_UNKNOWN
    with pytest.raises(WorkflowError) as err:
        reg.enrol_device(number, {"passport": b"\xa0"})
    assert code_of(err) is WorkflowCode.ENROL_PROFILE_UNKNOWN
    with pytest.raises(WorkflowError) as err:
        reg.enrol_device(number, {})
    assert code_of(err) is WorkflowCode.ENROL_PROFILE_UNKNOWN


def test_only_a_normal_card_is_enrolled(world: World) -> None:
    reg = world.registry
    number = issued_card(world)
    nonces = challenge(world, number, profiles=("full",))
    reg.change(number, CardEvent.FREEZE, actor="clerk:1")
    key = SoftwareDeviceKey.generate("ES256")
    with pytest.raises(WorkflowError) as err:  # the card changed after the challenge
        reg.enrol_device(number, {"full": enrolment_request(key, nonces["full"])})
    assert code_of(err) is WorkflowCode.ENROL_CARD_NOT_NORMAL
    with pytest.raises(WorkflowError) as err:
        challenge(world, number)
    assert code_of(err) is WorkflowCode.ENROL_CARD_NOT_NORMAL
    reg.change(number, CardEvent.UNFREEZE, actor="clerk:1")
    creds, _ = enrol(world, number)
    assert set(creds) == {"full", "counter"}


def test_enrolment_records_no_personal_data(world: World) -> None:
    reg = world.registry
    number = issued_card(world)
    creds, _ = enrol(world, number)
    text_of_events = repr([vars(e) for e in reg.events()])
    for secret in (RESIDENT, "张三丰", PHONE[-8:], PIN):
        assert secret not in text_of_events
    with reg.store.session() as session:
        rows = session.scalars(select(CredentialRow)).all()
    assert {(r.profile, r.cti) for r in rows} == {(p, c.cti.hex()) for p, c in creds.items()}
    assert all(r.revoked_at is None and r.card_number == number for r in rows)


def test_a_store_at_0002_gets_its_credentials(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from ecard.workflow.store import MIGRATIONS, Store

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(db_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.execute(
            text(
                "INSERT INTO applications (id, channel, document_type, document_number, name,"
                " phone, region, subject, relation, applicant, consents, state, submitted_by,"
                " submitted_at, phone_verified, version) VALUES ('a1', 'window', 1, 'x', 'y',"
                " 'p', '110105', 's', 'self', 's', '[]', 'issued', 'c', 0, false, 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO cards (card_number, application_id, subject, region, state,"
                " state_since, kid, cti, listed, pin_failures, version) VALUES"
                " ('C00000001', 'a1', 's', '110105', 'temporary_loss', 77, 'aa', 'bb', true, 0, 1)"
            )
        )
    engine.dispose()
    upgraded = Store(db_url)
    with upgraded.session() as session:
        row = session.scalars(select(CredentialRow)).one()
    assert (row.cti, row.kid, row.card_number, row.profile) == ("bb", "aa", "C00000001", "full")
    assert (row.device_key, row.revoked_at, row.superseded_at) == (None, 77, None)
    upgraded.close()


def test_a_loss_report_racing_an_enrolment_leaves_no_live_credential(world: World) -> None:
    """Whichever commits first, a card that is no longer normal has every credential listed:
    the slower of the two gets CONFLICT (or sees the card lost), nothing escapes the list."""
    reg = world.registry
    number = issued_card(world)
    nonces = challenge(world, number)
    keys = {p: SoftwareDeviceKey.generate("ES256") for p in nonces}
    requests = {p: enrolment_request(keys[p], n) for p, n in nonces.items()}
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def enrol_now() -> None:
        barrier.wait()
        try:
            outcomes["enrol"] = reg.enrol_device(number, requests)
        except WorkflowError as exc:
            outcomes["enrol"] = exc.workflow_code

    def lose_now() -> None:
        barrier.wait()
        try:
            outcomes["loss"] = reg.change(number, CardEvent.REPORT_LOSS, actor="account:42")
        except WorkflowError as exc:
            outcomes["loss"] = exc.workflow_code

    threads = [threading.Thread(target=enrol_now), threading.Thread(target=lose_now)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = {v for v in outcomes.values() if isinstance(v, WorkflowCode)}
    assert refused <= {WorkflowCode.CONFLICT, WorkflowCode.ENROL_CARD_NOT_NORMAL}, outcomes
    assert len(refused) < 2
    lost = reg.card_state(number) is CardState.TEMPORARY_LOSS
    assert lost is (outcomes["loss"] is CardState.TEMPORARY_LOSS)
    with reg.store.session() as session:
        rows = session.scalars(select(CredentialRow)).all()
    enrolled = outcomes["enrol"]
    assert len(rows) == (2 if isinstance(enrolled, dict) else 0)
    if lost:
        assert all(r.revoked_at is not None for r in rows)
    if isinstance(enrolled, dict):
        verifier = counter(world)
        shown = verifier.verify(present(world, enrolled["full"], keys["full"], "identity"))
        assert shown.code is (ErrorCode.REVOKED if lost else ErrorCode.OK)
    reg.verify_events()
