"""The clerk console driven by its forms: the window story, roles, own case, card status
changes, publishing the revocation list, the queue with deadlines."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from tests.test_service_pages_support import (
    INFO,
    OTHER,
    PASSWORD,
    Clock,
    Service,
    apply_online,
    codes,
    post,
    service,
    token,
)

from ecard.service.accounts import AuthEventRow
from ecard.verify.paths import PathValidator
from ecard.verify.revocation import RevocationList


@pytest.fixture
def svc(tmp_path: Path) -> Service:
    return service(tmp_path)


def _enter(clerk: object, **info: str) -> str:
    r = post(
        clerk,
        "/clerk/window",
        "/clerk/window",
        "window-form",
        **{**INFO, "consent_photo": "", **info},
    )
    assert r.status_code == 303, codes(r.text)
    return re.fullmatch(r"/clerk/applications/([0-9a-f]{32})", r.headers["location"]).group(1)


def _review(c: object, app_id: str, decision: str, reason: str = "") -> object:
    url = f"/clerk/applications/{app_id}"
    return post(c, url, f"{url}/review", "review-form", decision=decision, reason=reason)


def _issue(c: object, app_id: str) -> str:
    url = f"/clerk/applications/{app_id}"
    r = post(c, url, f"{url}/issue", "issue-form")
    assert r.status_code == 303, codes(r.text)
    return re.search(r'id="card-number" href="/clerk/cards/([A-Z0-9]{9})"', c.get(url).text).group(
        1
    )


def _change(c: object, card: str, event: str, reason: str = "") -> object:
    url = f"/clerk/cards/{card}"
    return post(c, url, f"{url}/change", "change-form", event=event, reason=reason)


def test_the_window_story(svc: Service) -> None:
    clerk = svc.staff("clerk1", "clerk")
    reviewer = svc.staff("rev1", "reviewer")
    app_id = _enter(clerk)
    queue = reviewer.get("/clerk/queue").text
    assert f'data-application="{app_id}"' in queue
    assert _review(reviewer, app_id, "approve").status_code == 303
    assert 'data-state="approved"' in clerk.get(f"/clerk/applications/{app_id}").text
    card = _issue(clerk, app_id)
    assert 'data-state="normal"' in clerk.get(f"/clerk/cards/{card}").text
    assert _change(clerk, card, "report_loss").status_code == 303
    assert svc.ctx.registry.card_state(card).value == "temporary_loss"
    assert _change(clerk, card, "lift_loss").status_code == 303
    assert _change(clerk, card, "formal_loss").status_code == 303
    r = _change(clerk, card, "lift_loss")
    assert r.status_code == 422 and "TRANSITION_REFUSED" in codes(r.text)
    r = post(
        clerk, f"/clerk/cards/{card}", f"/clerk/cards/{card}/replace", "replace-form", reason=""
    )
    assert r.status_code == 422 and re.search(
        'id="error-replace_reason" data-code="REASON_REQUIRED"', r.text
    )
    r = post(
        clerk, f"/clerk/cards/{card}", f"/clerk/cards/{card}/replace", "replace-form", reason="lost"
    )
    assert r.status_code == 303
    new = r.headers["location"].rsplit("/", 1)[1]
    assert new != card and svc.ctx.registry.card_state(card).value == "replaced"
    r = _change(clerk, new, "cancel")
    assert "REASON_REQUIRED" in codes(r.text)
    assert _change(clerk, new, "cancel", "moved away").status_code == 303
    r = post(clerk, "/clerk/queue", "/clerk/publish", "publish-form")
    assert (
        r.status_code == 303 and 'data-notice="published"' in clerk.get(r.headers["location"]).text
    )
    data = svc.ctx.registry.revocation_list()
    listed = RevocationList.load(
        data, validator=PathValidator(list(svc.ctx.list_roots), revocation="off")
    )
    assert listed.sequence >= 2
    actors = {e.actor for e in svc.ctx.registry.events() if e.action != "publish_list"} | {
        e.actor for e in svc.ctx.registry.events() if e.action == "publish_list"
    }
    assert all(re.fullmatch(r"clerk:\d+", a) for a in actors), actors


def test_a_clerk_without_the_reviewer_role_cannot_approve(svc: Service) -> None:
    clerk = svc.staff("clerk1", "clerk")
    app_id = _enter(clerk)
    r = _review(clerk, app_id, "approve")
    assert r.status_code == 403 and 'id="refused-code">ROLE_REQUIRED<' in r.text
    assert 'data-state="submitted"' in clerk.get(f"/clerk/applications/{app_id}").text
    refused = [e for e in svc_events(svc) if e.outcome == "ROLE_REQUIRED"]
    assert refused and refused[-1].actor.startswith("clerk:") and refused[-1].action == "review"


def test_a_reviewer_cannot_enter_issue_or_change_cards(svc: Service) -> None:
    clerk = svc.staff("clerk1", "clerk")
    reviewer = svc.staff("rev1", "reviewer")
    app_id = _enter(clerk)
    queue = reviewer.get("/clerk/queue").text
    assert 'id="nav-window"' not in queue and 'id="publish-form"' not in queue
    assert 'id="publish-form"' in clerk.get("/clerk/queue").text
    assert reviewer.get("/clerk/window").status_code == 403
    assert _review(reviewer, app_id, "approve").status_code == 303
    url = f"/clerk/applications/{app_id}"
    r = post(reviewer, url, f"{url}/issue", "issue-form")
    assert r.status_code == 403 and "ROLE_REQUIRED" in r.text
    r = reviewer.post("/clerk/publish", data={"csrf_token": token(queue)})  # the form is hidden
    assert r.status_code == 403 and "ROLE_REQUIRED" in r.text


def test_nobody_decides_a_case_they_entered(svc: Service) -> None:
    both = svc.staff("both1", "clerk", "reviewer")
    app_id = _enter(both)
    r = _review(both, app_id, "approve")
    assert r.status_code == 422 and re.search('id="error-reason" data-code="OWN_CASE"', r.text)
    assert 'data-state="submitted"' in both.get(f"/clerk/applications/{app_id}").text
    last = svc_events(svc)[-1]
    assert (last.action, last.outcome, last.detail) == ("review", "OWN_CASE", app_id)
    assert last.actor.startswith("clerk:")


def test_a_rejection_needs_a_reason_and_the_applicant_sees_it(svc: Service) -> None:
    applicant = svc.client()
    app_id = apply_online(svc, applicant)
    reviewer = svc.staff("rev1", "reviewer")
    r = _review(reviewer, app_id, "reject")
    assert r.status_code == 422 and "REASON_REQUIRED" in codes(r.text)
    assert _review(reviewer, app_id, "reject", "the photo is blurred").status_code == 303
    status = applicant.get("/apply/status").text
    assert 'data-state="rejected"' in status
    assert 'id="decision-reason">the photo is blurred<' in status
    assert 'id="apply-again"' in status


def test_a_second_active_card_is_refused(svc: Service) -> None:
    clerk = svc.staff("clerk1", "clerk")
    reviewer = svc.staff("rev1", "reviewer")
    first, second = _enter(clerk), _enter(clerk)
    for app_id in (first, second):
        assert _review(reviewer, app_id, "approve").status_code == 303
    _issue(clerk, first)
    url = f"/clerk/applications/{second}"
    r = post(clerk, url, f"{url}/issue", "issue-form")
    assert r.status_code == 422 and re.search(
        'id="error-issue" data-code="ACTIVE_CARD_EXISTS"', r.text
    )


def test_the_queue_shows_deadlines_and_overdue_applications(tmp_path: Path) -> None:
    clock = Clock()
    svc = service(tmp_path, clock=clock)
    clerk = svc.staff("clerk1", "clerk")
    old = _enter(clerk)
    clock.advance(days=4)  # sessions expire meanwhile: each visit signs in again
    fresh = _enter(svc.staff("clerk2", "clerk"), document_number=OTHER)
    clock.advance(days=1, seconds=1)
    queue = svc.staff("rev1", "reviewer").get("/clerk/queue").text
    assert re.search(f'<tr data-application="{old}" class="overdue">', queue)
    assert re.search(f'<tr data-application="{fresh}">', queue)
    overdue = queue[queue.index('id="overdue"') :]
    overdue = overdue[: overdue.index("</ul>")]
    assert old in overdue and fresh not in overdue


def test_unknown_application_and_card_are_a_clear_404(svc: Service) -> None:
    clerk = svc.staff("clerk1", "clerk")
    r = clerk.get("/clerk/applications/" + "0" * 32)
    assert r.status_code == 404 and "NOT_FOUND" in codes(r.text)
    r = clerk.get("/clerk/applications/<script>")
    assert r.status_code == 404 and "<script>" not in r.text
    r = clerk.get("/clerk/cards?number=ZZZZZZZZ1")
    assert r.status_code in (303, 404)
    assert clerk.get("/clerk/cards/ZZZZZZZZ1").status_code == 404
    r = clerk.get("/clerk/cards?number=%3Cb%3E")
    assert r.status_code == 404 and "<b>" not in r.text


def test_the_photo_is_shown_to_staff_and_the_reading_is_recorded(svc: Service) -> None:
    applicant = svc.client()
    app_id = apply_online(svc, applicant)
    reviewer = svc.staff("rev1", "reviewer")
    r = reviewer.get(f"/clerk/applications/{app_id}/photo")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG")
    reads = [e for e in svc.ctx.registry.events(app_id) if e.action == "read_photo"]
    assert len(reads) == 1 and reads[0].actor.startswith("clerk:")
    assert (
        applicant.get(f"/clerk/applications/{app_id}/photo", follow_redirects=False).status_code
        == 303
    )


def svc_events(svc: Service) -> list[AuthEventRow]:
    from ecard.service.auth import accounts_for

    return accounts_for(svc.ctx).events()


def test_signed_in_clerk_pages_need_a_staff_session(svc: Service) -> None:
    anonymous = svc.client()
    for url in (
        "/clerk/queue",
        "/clerk/window",
        "/clerk/cards/ABCDEFGH1",
        "/clerk/applications/" + "a" * 32,
    ):
        r = anonymous.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/clerk/login", url
    assert dt  # the module's clock type is used by the deadline test


def test_no_page_has_inline_script_or_style(svc: Service) -> None:
    applicant = svc.client()
    app_id = apply_online(svc, applicant)
    clerk = svc.staff("admin1", "admin")
    card_app = _enter(clerk)
    reviewer = svc.staff("rev1", "reviewer")
    assert _review(reviewer, card_app, "approve").status_code == 303
    card = _issue(clerk, card_app)
    pages = [
        (svc.client(), "/apply/login"),
        (svc.client(), "/apply/register"),
        (applicant, "/apply/status"),
        (applicant, "/apply/steps"),
        (svc.client(), "/clerk/login"),
        (clerk, "/clerk/queue"),
        (clerk, "/clerk/window"),
        (clerk, f"/clerk/applications/{app_id}"),
        (clerk, f"/clerk/cards/{card}"),
    ]
    for client, url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        html = r.text.lower()
        assert "<style" not in html and " style=" not in html, url
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], url
        assert not re.search(r"<[^>]+\son[a-z]+=", html), url
        assert "script-src 'self'" in r.headers["content-security-policy"], url
        assert r.headers["cache-control"] == "no-store", url


def test_only_an_admin_manages_staff_accounts(svc: Service) -> None:
    admin = svc.staff("admin1", "admin")
    r = post(
        admin,
        "/clerk/users",
        "/clerk/users",
        "user-form",
        username="new.clerk",
        password="x",
        role_clerk="1",
    )
    assert r.status_code == 422 and re.search(
        'id="error-password" data-code="PASSWORD_WEAK"', r.text
    )
    r = post(
        admin, "/clerk/users", "/clerk/users", "user-form", username="new.clerk", password=PASSWORD
    )
    assert r.status_code == 422 and re.search('id="error-roles" data-code="ROLE_REQUIRED"', r.text)
    r = post(
        admin,
        "/clerk/users",
        "/clerk/users",
        "user-form",
        username="new.clerk",
        password=PASSWORD,
        role_clerk="1",
    )
    assert r.status_code == 303
    listing = admin.get("/clerk/users").text
    assert "new.clerk" in listing and 'id="nav-users"' in listing
    newcomer = svc.client()
    r = post(newcomer, "/clerk/login", "/clerk/login", username="new.clerk", password=PASSWORD)
    assert r.status_code == 303
    assert newcomer.get("/clerk/users").status_code == 403
    assert 'id="nav-users"' not in newcomer.get("/clerk/queue").text
    r = newcomer.post(
        "/clerk/users",
        data={
            "csrf_token": token(newcomer.get("/clerk/queue").text),
            "username": "x.y.z",
            "password": PASSWORD,
            "role_admin": "1",
        },
    )
    assert r.status_code == 403 and "ROLE_REQUIRED" in r.text
    assert "x.y.z" not in admin.get("/clerk/users").text
    created = [e for e in svc_events(svc) if e.action == "create_user"]
    assert len(created) == 1 and created[0].actor.startswith("clerk:")
