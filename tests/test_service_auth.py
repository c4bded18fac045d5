"""Accounts, sessions, CSRF and lockout of the pages, over real stores (SQLite and a real
PostgreSQL for the account store), with a clock the tests move."""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from tests.test_service_pages_support import (
    INFO,
    PASSWORD,
    PHONE,
    RESIDENT,
    Clock,
    Service,
    apply_online,
    codes,
    confirm_registration,
    post,
    register,
    registration_code,
    service,
    token,
)

from ecard.service.accounts import (
    LOCK_AFTER,
    LOCK_FIRST,
    REGISTRATION_DAILY,
    REGISTRATION_INTERVAL,
    REGISTRATION_TRIES,
    REGISTRATION_TTL,
    SESSION_IDLE,
    SESSION_MAX,
    VERSION_TABLE,
    AccountRow,
    AccountStore,
    AuthCode,
    AuthError,
    RegistrationRow,
    hash_password,
    password_matches,
    session_hash,
)
from ecard.service.auth import DEMO_STAFF_FILE, accounts_for, create_user
from ecard.workflow.store import Store


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(tmp_path: Path, clock: Clock) -> Service:
    return service(tmp_path, clock=clock)


# -- CSRF


def test_a_post_without_a_token_is_refused_and_changes_nothing(svc: Service) -> None:
    c = svc.client()
    c.get("/apply/register")
    r = c.post(
        "/apply/register", data={"phone": PHONE, "password": PASSWORD, "password2": PASSWORD}
    )
    assert r.status_code == 403 and 'id="refused-code">CSRF_FAILED<' in r.text
    assert _accounts(svc, "applicant") == 0


def test_a_wrong_token_is_refused(svc: Service) -> None:
    c = svc.client()
    c.get("/apply/register")
    data = {"csrf_token": "x" * 43, "phone": PHONE, "password": PASSWORD, "password2": PASSWORD}
    r = c.post("/apply/register", data=data)
    assert r.status_code == 403 and "CSRF_FAILED" in r.text
    assert _accounts(svc, "applicant") == 0


def test_the_token_of_another_session_is_refused(svc: Service) -> None:
    attacker, victim = svc.client(), svc.client()
    stolen = token(attacker.get("/apply/register").text)
    victim.get("/apply/register")
    data = {"csrf_token": stolen, "phone": PHONE, "password": PASSWORD, "password2": PASSWORD}
    assert victim.post("/apply/register", data=data).status_code == 403
    assert _accounts(svc, "applicant") == 0


def test_a_post_without_a_session_is_refused(svc: Service) -> None:
    page = svc.client().get("/clerk/login").text
    r = svc.client().post(
        "/clerk/login", data={"csrf_token": token(page), "username": "admin", "password": "x"}
    )
    assert r.status_code == 403 and "CSRF_FAILED" in r.text


def test_a_cross_site_clerk_action_is_refused(svc: Service) -> None:
    clerk = svc.staff("clerk1", "clerk")
    r = clerk.post("/clerk/window", data={**INFO})
    assert r.status_code == 403 and "CSRF_FAILED" in r.text
    with svc.ctx.registry.store.session() as session:
        from ecard.workflow.store import ApplicationRow

        assert session.scalars(select(ApplicationRow)).first() is None
    refused = [e for e in accounts_for(svc.ctx).events() if e.outcome == "CSRF_FAILED"]
    assert refused and refused[-1].actor.startswith("clerk:")


# -- cookies and sessions


def test_session_cookies_are_http_only_strict_and_scoped(svc: Service) -> None:
    header = svc.client().get("/apply/login").headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=strict" in header and "Path=/apply" in header
    assert "Secure" not in header
    header = svc.client(base_url="https://testserver").get("/clerk/login").headers["set-cookie"]
    assert "Secure" in header and "Path=/clerk" in header
    sid = header.split(";")[0].split("=", 1)[1]
    assert len(sid) == 43  # 32 bytes, base64url
    with accounts_for(svc.ctx).transaction() as session:
        from ecard.service.accounts import SessionRow

        stored = [row.id_hash for row in session.scalars(select(SessionRow))]
    assert session_hash(sid) in stored and sid not in stored


def test_sign_in_rotates_the_session(svc: Service) -> None:
    c = svc.client()
    c.get("/apply/register")
    before = c.cookies.get("ecard_apply")
    register(c)
    after = c.cookies.get("ecard_apply")
    assert before and after and before != after
    stale = svc.client()
    stale.cookies.set("ecard_apply", before, path="/apply")
    assert stale.get("/apply/form", follow_redirects=False).headers["location"] == "/apply/login"


def test_sign_out_invalidates_the_session(svc: Service) -> None:
    c = svc.staff("clerk1", "clerk")
    sid = c.cookies.get("ecard_clerk")
    assert c.get("/clerk/queue").status_code == 200
    r = post(c, "/clerk/queue", "/clerk/logout", "logout-form")
    assert r.status_code == 303 and r.headers["location"] == "/clerk/login"
    replay = svc.client()
    replay.cookies.set("ecard_clerk", sid, path="/clerk")
    assert replay.get("/clerk/queue", follow_redirects=False).headers["location"] == "/clerk/login"
    kinds = [(e.action, e.outcome) for e in accounts_for(svc.ctx).events()]
    assert ("sign_in", "ok") in kinds and ("sign_out", "ok") in kinds


def test_an_idle_session_expires(svc: Service, clock: Clock) -> None:
    c = svc.staff("clerk1", "clerk")
    page = c.get("/clerk/window").text
    clock.advance(seconds=SESSION_IDLE.total_seconds() + 1)
    r = c.post("/clerk/window", data={"csrf_token": token(page), **INFO})
    assert r.status_code == 401 and 'id="refused-code">SESSION_EXPIRED<' in r.text
    assert c.get("/clerk/queue", follow_redirects=False).headers["location"] == "/clerk/login"


def test_an_active_session_expires_at_its_absolute_limit(svc: Service, clock: Clock) -> None:
    c = svc.staff("clerk1", "clerk")
    elapsed = 0.0
    while elapsed < SESSION_MAX.total_seconds() - 600:
        clock.advance(seconds=1200)
        elapsed += 1200
        assert c.get("/clerk/queue", follow_redirects=False).status_code == 200
    clock.advance(seconds=1200)
    assert c.get("/clerk/queue", follow_redirects=False).status_code == 303


def test_a_session_of_one_realm_opens_nothing_in_the_other(svc: Service) -> None:
    applicant = svc.client()
    register(applicant)
    sid = applicant.cookies.get("ecard_apply")
    intruder = svc.client()
    intruder.cookies.set("ecard_clerk", sid, path="/clerk")
    assert (
        intruder.get("/clerk/queue", follow_redirects=False).headers["location"] == "/clerk/login"
    )


# -- sign-in failures and lockout


def test_wrong_password_and_unknown_account_look_the_same(svc: Service) -> None:
    create_user(svc.ctx, "clerk1", PASSWORD, roles=("clerk",))
    c = svc.client()
    wrong = post(c, "/clerk/login", "/clerk/login", username="clerk1", password="wrong password")
    unknown = post(c, "/clerk/login", "/clerk/login", username="nobody", password="wrong password")
    assert wrong.status_code == unknown.status_code == 401
    assert codes(wrong.text) == codes(unknown.text) == ["AUTH_FAILED"]


def test_lockout_after_repeated_failures(svc: Service, clock: Clock) -> None:
    create_user(svc.ctx, "clerk1", PASSWORD, roles=("clerk",))
    c = svc.client()
    for _ in range(LOCK_AFTER - 1):
        r = post(c, "/clerk/login", "/clerk/login", username="clerk1", password="wrong password")
        assert codes(r.text) == ["AUTH_FAILED"]
    r = post(c, "/clerk/login", "/clerk/login", username="clerk1", password="wrong password")
    assert r.status_code == 429 and codes(r.text) == ["AUTH_LOCKED"]
    r = post(c, "/clerk/login", "/clerk/login", username="clerk1", password=PASSWORD)
    assert r.status_code == 429 and codes(r.text) == ["AUTH_LOCKED"]
    clock.advance(seconds=LOCK_FIRST.total_seconds() + 1)
    r = post(c, "/clerk/login", "/clerk/login", username="clerk1", password="wrong password")
    assert codes(r.text) == ["AUTH_LOCKED"]  # one more failure locks again, for longer
    clock.advance(seconds=LOCK_FIRST.total_seconds() + 1)
    r = post(c, "/clerk/login", "/clerk/login", username="clerk1", password=PASSWORD)
    assert codes(r.text) == ["AUTH_LOCKED"]  # 2 x LOCK_FIRST this time
    clock.advance(seconds=LOCK_FIRST.total_seconds())
    r = post(c, "/clerk/login", "/clerk/login", username="clerk1", password=PASSWORD)
    assert r.status_code == 303


def test_applicant_lockout_and_registration_refusals(svc: Service) -> None:
    c = svc.client()
    r = post(
        c,
        "/apply/register",
        "/apply/register",
        phone="12345",
        password=PASSWORD,
        password2=PASSWORD,
    )
    assert 'id="error-phone" data-code="PHONE_INVALID"' in r.text
    r = post(
        c, "/apply/register", "/apply/register", phone=PHONE, password="short", password2="short"
    )
    assert 'id="error-password" data-code="PASSWORD_WEAK"' in r.text
    r = post(
        c,
        "/apply/register",
        "/apply/register",
        phone=PHONE,
        password=PASSWORD,
        password2=PASSWORD + "x",
    )
    assert 'id="error-password2" data-code="PASSWORD_MISMATCH"' in r.text
    register(c)
    other = svc.client()
    for _ in range(LOCK_AFTER):
        r = post(other, "/apply/login", "/apply/login", phone=PHONE, password="wrong password")
    assert codes(r.text) == ["AUTH_LOCKED"]


# -- demo accounts, users


def test_demo_mode_makes_three_staff_accounts_once(svc: Service, tmp_path: Path) -> None:
    accounts_for(svc.ctx)
    path = svc.ctx.config.data_dir / DEMO_STAFF_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = [line.split() for line in path.read_text().splitlines() if not line.startswith("#")]
    assert sorted(n for n, *_ in lines) == ["admin", "clerk", "reviewer"]
    for name, password, *_ in lines:
        c = svc.client()
        assert (
            post(c, "/clerk/login", "/clerk/login", username=name, password=password).status_code
            == 303
        )
    again = service(tmp_path, db_url=None)
    accounts_for(again.ctx)
    assert path.read_text().splitlines()[1:] == [" ".join(x) for x in lines]


def test_the_demo_admin_may_do_everything_but_decide_own_cases(svc: Service) -> None:
    lines = svc.ctx.config.data_dir / DEMO_STAFF_FILE
    accounts_for(svc.ctx)
    name, password = next(
        line.split()[:2] for line in lines.read_text().splitlines() if line.startswith("admin ")
    )
    admin = svc.client()
    assert (
        post(admin, "/clerk/login", "/clerk/login", username=name, password=password).status_code
        == 303
    )
    r = post(
        admin, "/clerk/window", "/clerk/window", "window-form", **{**INFO, "consent_photo": ""}
    )
    app_id = r.headers["location"].rsplit("/", 1)[1]
    url = f"/clerk/applications/{app_id}"
    r = post(admin, url, f"{url}/review", "review-form", decision="approve")
    assert "OWN_CASE" in codes(r.text)


# -- no personal data


def test_no_personal_data_in_codes_events_or_logs(
    svc: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    c = svc.client()
    post(c, "/apply/login", "/apply/login", phone=PHONE, password="wrong password")
    app_id = apply_online(svc, c)
    other = svc.client()
    register(other, "13900139000")
    bad = post(
        other, "/apply/form", "/apply/form", **{**INFO, "document_number": RESIDENT[:-1] + "1"}
    )
    secrets = (RESIDENT, RESIDENT[:-1] + "1", PHONE, "8613800138000", "张三丰", PASSWORD)
    assert codes(bad.text) == ["DOCUMENT_CHECK_CHARACTER"]
    for found in codes(bad.text):
        assert all(s not in found for s in secrets)
    for row in accounts_for(svc.ctx).events():
        text = " ".join(str(v) for v in (row.actor, row.action, row.outcome, row.detail))
        assert all(s not in text for s in secrets), text
    for e in svc.ctx.registry.events(app_id):
        text = " ".join(str(v) for v in (e.actor, e.action, e.detail, e.subject))
        assert all(s not in text for s in secrets), text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert all(s not in logged for s in secrets)


# -- the account store itself, on SQLite and PostgreSQL


def test_account_store_on_both_databases(db_url: str, clock: Clock) -> None:
    workflow = Store(db_url)  # the workflow's chain and ours share the database
    store = AccountStore(db_url, clock)
    try:
        tables = set(inspect(store.engine).get_table_names())
        assert {
            "svc_accounts",
            "svc_sessions",
            VERSION_TABLE,
            "alembic_version",
            "applications",
        } <= tables
        clerk = store.create_user("Clerk.One", PASSWORD, roles=("clerk", "reviewer"))
        assert clerk.roles == {"clerk", "reviewer"} and clerk.actor == f"clerk:{clerk.id}"
        with pytest.raises(AuthError) as info:
            store.create_user("clerk.one", PASSWORD, roles=("clerk",))
        assert info.value.auth_code is AuthCode.ACCOUNT_EXISTS
        applicant = store.create_user(PHONE, PASSWORD, kind="applicant")
        assert store.authenticate("applicant", "+86 138 0013 8000", PASSWORD, "apply") == applicant
        with pytest.raises(ValueError, match="roles"):
            store.create_user("x-user", PASSWORD, roles=("root",))
        with store.transaction() as session:
            row = session.scalars(select(AccountRow).where(AccountRow.id == clerk.id)).one()
            assert (
                row.password_hash.startswith("scrypt$16384$8$1$")
                and PASSWORD not in row.password_hash
            )
        sid, opened = store.open_session("clerk", clerk)
        assert store.session(sid, "clerk") == opened and store.session(sid, "apply") is None
        store.close_session(opened)
        assert store.session(sid, "clerk") is None
        AccountStore(db_url, clock).close()  # reopening upgrades nothing and keeps the data
        assert store.authenticate("staff", "clerk.one", PASSWORD, "clerk") == clerk
    finally:
        store.close()
        workflow.close()


def test_passwords_are_compared_after_nfkc() -> None:
    stored = hash_password("password12")
    assert password_matches("ｐａｓｓｗｏｒｄ１２", stored)  # full-width input method
    assert not password_matches("Password12", stored)


def test_sessions_nobody_presents_again_are_removed(svc: Service, clock: Clock) -> None:
    from ecard.service.accounts import SessionRow

    store = accounts_for(svc.ctx)
    for _ in range(3):
        svc.client().get("/apply/login")
    clock.advance(seconds=SESSION_IDLE.total_seconds() + 1)
    svc.client().get("/clerk/login")
    with store.transaction() as session:
        rows = session.scalars(select(SessionRow)).all()
    assert [row.realm for row in rows] == ["clerk"]


def test_password_hashes_are_salted_and_checked() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second
    assert password_matches(PASSWORD, first) and password_matches(PASSWORD, second)
    assert not password_matches(PASSWORD + "x", first)
    assert not password_matches(PASSWORD, "scrypt$16384$8$1$zz$zz")
    assert not password_matches(PASSWORD, "md5$abc")


def _accounts(svc: Service, kind: str) -> int:
    with accounts_for(svc.ctx).transaction() as session:
        return len(session.scalars(select(AccountRow).where(AccountRow.kind == kind)).all())


def test_parallel_failed_sign_ins_are_all_counted_on_postgresql(
    postgres: object, clock: Clock
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    url = postgres.create_database(f"svc_auth_{os.getpid()}")  # type: ignore[attr-defined]
    store = AccountStore(url, clock)
    try:
        store.create_user("clerk1", PASSWORD, roles=("clerk",))

        def attempt(_: int) -> str:
            try:
                store.authenticate("staff", "clerk1", "wrong password", "clerk")
            except AuthError as exc:
                return exc.auth_code.value
            return "ok"

        with ThreadPoolExecutor(max_workers=LOCK_AFTER) as pool:
            outcomes = list(pool.map(attempt, range(LOCK_AFTER)))
        assert sorted(outcomes) == ["AUTH_FAILED"] * (LOCK_AFTER - 1) + ["AUTH_LOCKED"]
        with pytest.raises(AuthError) as info:
            store.authenticate("staff", "clerk1", PASSWORD, "clerk")
        assert info.value.auth_code is AuthCode.AUTH_LOCKED
    finally:
        store.close()


def test_the_online_story_on_postgresql(postgres: object, tmp_path: Path) -> None:
    url = postgres.create_database(f"svc_story_{os.getpid()}")  # type: ignore[attr-defined]
    svc = service(tmp_path, db_url=url)
    applicant = svc.client()
    app_id = apply_online(svc, applicant)
    reviewer = svc.staff("rev1", "reviewer")
    page = f"/clerk/applications/{app_id}"
    assert (
        post(reviewer, page, f"{page}/review", "review-form", decision="approve").status_code == 303
    )
    assert 'data-state="approved"' in applicant.get("/apply/status").text


def test_each_context_keeps_its_own_account_store(svc: Service, tmp_path: Path) -> None:
    store = accounts_for(svc.ctx)
    assert svc.ctx.accounts is store and accounts_for(svc.ctx) is store
    other = service(tmp_path / "other")
    assert accounts_for(other.ctx) is other.ctx.accounts
    assert accounts_for(other.ctx) is not store


def _register_answer(c: TestClient, phone: str, password: str) -> tuple[int, str]:
    """The status and page of a registration, its CSRF token blanked."""
    r = post(c, "/apply/register", "/apply/register", phone=phone, password=password,
             password2=password)  # fmt: skip
    return r.status_code, re.sub(r'value="[A-Za-z0-9_-]{43}"', 'value=""', r.text)


def test_registering_a_registered_number_answers_as_for_a_new_one(
    svc: Service, clock: Clock
) -> None:
    register(svc.client(), PHONE)
    clock.advance(seconds=REGISTRATION_INTERVAL.total_seconds())
    new_number = "13900139001"
    taken = _register_answer(svc.client(), PHONE, "another password")
    fresh = _register_answer(svc.client(), new_number, "another password")
    # the same page (but for the number typed), and a code went to each number
    assert taken[0] == fresh[0] == 200
    assert taken[1].replace("13800138000", "N") == fresh[1].replace(new_number, "N")
    code = registration_code(svc.client(), PHONE)
    assert code != registration_code(svc.client(), new_number)
    clock.advance(seconds=REGISTRATION_INTERVAL.total_seconds())
    # only who reads the code on the registered phone learns the number has an account,
    # and its password is unchanged
    c = svc.client()
    page = post(c, "/apply/register", "/apply/register", phone=PHONE, password="x" * 9,
                password2="x" * 9).text  # fmt: skip
    r = confirm_registration(c, page, PHONE, registration_code(c, PHONE))
    assert r.status_code == 422 and 'id="error-code" data-code="ACCOUNT_EXISTS"' in r.text
    r = post(svc.client(), "/apply/login", "/apply/login", phone=PHONE, password=PASSWORD)
    assert r.status_code == 303
    assert _accounts(svc, "applicant") == 1


def test_a_registration_needs_the_code_sent_to_its_number(svc: Service) -> None:
    c = svc.client()
    page = post(c, "/apply/register", "/apply/register", phone=PHONE, password=PASSWORD,
                password2=PASSWORD).text  # fmt: skip
    right = registration_code(c, PHONE)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(REGISTRATION_TRIES - 1):
        r = confirm_registration(c, page, PHONE, wrong)
        assert r.status_code == 422 and 'data-code="CODE_WRONG"' in r.text
    assert _accounts(svc, "applicant") == 0
    assert confirm_registration(c, page, PHONE, right).status_code == 303
    assert _accounts(svc, "applicant") == 1


def test_too_many_wrong_codes_or_an_expired_one_drop_the_registration(
    svc: Service, clock: Clock
) -> None:
    c = svc.client()
    page = post(c, "/apply/register", "/apply/register", phone=PHONE, password=PASSWORD,
                password2=PASSWORD).text  # fmt: skip
    right = registration_code(c, PHONE)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(REGISTRATION_TRIES):
        confirm_registration(c, page, PHONE, wrong)
    assert 'data-code="CODE_WRONG"' in confirm_registration(c, page, PHONE, right).text
    clock.advance(seconds=REGISTRATION_INTERVAL.total_seconds())
    page = post(c, "/apply/register", "/apply/register", phone=PHONE, password=PASSWORD,
                password2=PASSWORD).text  # fmt: skip
    clock.advance(seconds=REGISTRATION_TTL.total_seconds() + 1)
    r = confirm_registration(c, page, PHONE, registration_code(c, PHONE))
    assert 'data-code="CODE_WRONG"' in r.text
    assert _accounts(svc, "applicant") == 0


def test_a_number_gets_one_registration_code_a_minute_and_ten_a_day(
    svc: Service, clock: Clock
) -> None:
    """Registering cannot flood someone's phone with texts nor buy unlimited guesses: the
    limits are per number, whoever asks and whether or not it has an account."""
    outbox = svc.ctx.outbox
    sent = len(outbox.messages)

    def again(c: TestClient | None = None) -> tuple[int, str]:
        r = post(c or svc.client(), "/apply/register", "/apply/register", phone=PHONE,
                 password=PASSWORD, password2=PASSWORD)  # fmt: skip
        return r.status_code, r.text

    assert again()[0] == 200
    status, page = again()  # at once: refused, and no second text
    assert status == 422 and 'data-code="CODE_LIMIT"' in page
    assert len(outbox.messages) == sent + 1
    clock.advance(seconds=REGISTRATION_INTERVAL.total_seconds() - 1)
    assert again()[0] == 422
    clock.advance(seconds=1)
    c = svc.client()
    for _ in range(REGISTRATION_DAILY - 1):
        status, form = again(c)
        assert status == 200
        clock.advance(seconds=REGISTRATION_INTERVAL.total_seconds())
    status, page = again()  # the day's eleventh: refused
    assert status == 422 and 'data-code="CODE_LIMIT"' in page
    assert len(outbox.messages) == sent + REGISTRATION_DAILY
    # a code used up (here: tried too often) does not reset the count
    for _ in range(REGISTRATION_TRIES):
        confirm_registration(c, form, PHONE, "000000")
    assert (
        'data-code="CODE_WRONG"'
        in confirm_registration(c, form, PHONE, registration_code(c, PHONE)).text
    )
    assert again()[0] == 422
    # two days on the number may register again, and the used-up rows are purged
    clock.advance(days=2)
    assert again()[0] == 200
    with svc.ctx.accounts.transaction() as session:
        assert session.scalars(select(RegistrationRow.sends)).all() == [1]
