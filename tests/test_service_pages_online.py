"""The applicant pages driven by their forms: the whole online story, refusals next to their
fields, escaping, hostile uploads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.test_service_pages_support import (
    INFO,
    Service,
    apply_online,
    bomb,
    codes,
    picture,
    post,
    register,
    service,
    token,
)

from ecard.workflow.store import PhotoRow


@pytest.fixture
def svc(tmp_path: Path) -> Service:
    return service(tmp_path)


def test_the_online_story_by_forms(svc: Service) -> None:
    c = svc.client()
    app_id = apply_online(svc, c)
    status = c.get("/apply/status").text
    assert 'data-state="submitted"' in status and 'id="review-due"' in status
    reviewer = svc.staff("rev1", "reviewer")
    r = post(
        reviewer,
        f"/clerk/applications/{app_id}",
        f"/clerk/applications/{app_id}/review",
        "review-form",
        decision="approve",
    )
    assert r.status_code == 303, codes(r.text)
    status = c.get("/apply/status").text
    assert 'data-state="approved"' in status and 'id="waiting-card"' in status
    assert 'id="wallet-link"' not in status
    clerk = svc.staff("clerk1", "clerk")
    r = post(
        clerk, f"/clerk/applications/{app_id}", f"/clerk/applications/{app_id}/issue", "issue-form"
    )
    assert r.status_code == 303, codes(r.text)
    status = c.get("/apply/status").text
    card = re.search(r'id="card-number">([A-Z0-9]{9})<', status).group(1)
    assert 'id="card-state" data-state="normal"' in status and 'id="wallet-link"' in status
    r = post(c, "/apply/status", "/apply/pin", "pin-form", pin="123456", pin2="123456")
    assert r.status_code == 422 and "PIN_WEAK" in codes(r.text)
    r = post(c, "/apply/status", "/apply/pin", "pin-form", pin="284719", pin2="284719")
    assert r.status_code == 303
    status = c.get("/apply/status").text
    assert 'id="pin-set"' in status and 'id="pin-form"' not in status
    again = c.post(
        "/apply/pin", data={"csrf_token": token(status), "pin": "396184", "pin2": "396184"}
    )
    assert again.status_code == 422 and "WRONG_STEP" in codes(again.text)
    by_action = {e.action: e.actor for e in svc.ctx.registry.events(app_id)}
    applicant = by_action["submit"]
    assert re.fullmatch(r"applicant:\d+", applicant)
    for action in ("store_photo", "send_code", "check_code", "liveness", "set_pin"):
        assert by_action[action] == applicant
    assert re.fullmatch(r"clerk:\d+", by_action["review"])
    assert (
        re.fullmatch(r"clerk:\d+", by_action["issue"]) and by_action["issue"] != by_action["review"]
    )
    assert svc.ctx.registry.card_state(card).value == "normal"


def test_auto_review_mode_approves_at_submission(tmp_path: Path) -> None:
    svc = service(tmp_path, online_review="auto")
    c = svc.client()
    apply_online(svc, c)
    assert 'data-state="approved"' in c.get("/apply/status").text


def test_submission_needs_every_step(svc: Service) -> None:
    c = svc.client()
    register(c)
    assert post(c, "/apply/form", "/apply/form", **INFO).status_code == 303
    r = post(c, "/apply/steps", "/apply/submit", "submit-form")
    assert r.status_code == 422 and codes(r.text) == ["WRONG_STEP"]
    assert "data-state" not in r.text or "submitted" in r.text


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"document_number": "110105194912310021"}, "document_number", "DOCUMENT_CHECK_CHARACTER"),
        ({"document_number": "123"}, "document_number", "DOCUMENT_FORMAT"),
        ({"name": "Zhang3"}, "name", "NAME_INVALID"),
        ({"phone": "01012345678"}, "phone", "PHONE_INVALID"),
        ({"consent_photo": ""}, "consents", "CONSENT_REQUIRED"),
        ({"birth_date": "1.2.2000"}, "birth_date", "FORM_INVALID"),
    ],
)
def test_refusals_are_shown_next_to_their_field_and_the_form_keeps_its_values(
    svc: Service, change: dict[str, str], field: str, code: str
) -> None:
    c = svc.client()
    register(c)
    r = post(c, "/apply/form", "/apply/form", **{**INFO, **change})
    assert r.status_code == 422
    assert re.search(f'id="error-{field}" data-code="{code}"', r.text), r.text
    kept = {**INFO, **change}
    for name in ("document_number", "region"):
        assert f'name="{name}" type="text" value="{kept[name]}"' in r.text


def test_english_on_request(svc: Service) -> None:
    c = svc.client()
    assert "登录" in c.get("/apply/login").text
    page = c.get("/apply/login?lang=en").text
    assert "Sign in" in page and "登录</h1>" not in page
    register(c)
    r = post(c, "/apply/form", "/apply/form", **{**INFO, "name": "Zhang3"})
    assert "the name is not valid" in r.text


SCRIPT = '<script>alert("x")</script>'


def test_script_in_every_text_field_is_escaped(svc: Service) -> None:
    c = svc.client()
    r = post(c, "/apply/register", "/apply/register", phone=SCRIPT, password="x", password2="x")
    assert SCRIPT not in r.text and "&lt;script&gt;" in r.text
    r = post(c, "/apply/login", "/apply/login", phone=SCRIPT, password=SCRIPT)
    assert SCRIPT not in r.text and "&lt;script&gt;" in r.text
    register(c)
    fields = {
        k: SCRIPT
        for k in ("document_number", "name", "region", "phone", "birth_date", "document_expires")
    }
    for name in fields:
        r = post(c, "/apply/form", "/apply/form", **{**INFO, name: SCRIPT})
        assert r.status_code == 422
        assert SCRIPT not in r.text and "<script" not in r.text, name
    r = post(c, "/apply/form", "/apply/form", **{**INFO, **fields})
    assert "<script" not in r.text and r.text.count("&lt;script&gt;") >= 4
    clerk = svc.staff("clerk1", "clerk")
    r = post(clerk, "/clerk/window", "/clerk/window", "window-form", **{**INFO, **fields})
    assert r.status_code == 422 and "<script" not in r.text and "&lt;script&gt;" in r.text
    r = post(clerk, "/clerk/login", "/clerk/login", username=SCRIPT, password=SCRIPT)
    assert "<script" not in r.text


def test_script_in_reasons_is_escaped_on_every_page_that_shows_them(svc: Service) -> None:
    applicant = svc.client()
    app_id = apply_online(svc, applicant)
    reviewer = svc.staff("rev1", "reviewer")
    url = f"/clerk/applications/{app_id}"
    r = post(reviewer, url, f"{url}/review", "review-form", decision="reject", reason=SCRIPT)
    assert r.status_code == 303
    for page in (reviewer.get(url).text, applicant.get("/apply/status").text):
        assert "<script" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def _stored_photos(svc: Service) -> int:
    with svc.ctx.registry.store.session() as session:
        return len(session.query(PhotoRow).all())


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a" + bytes(200), "PHOTO_INVALID"),
        (b"<html>not a picture</html>", "PHOTO_INVALID"),
        (b"", "PHOTO_INVALID"),
        (picture()[:60], "PHOTO_INVALID"),
        (bomb(), "PHOTO_BOMB"),
        (b"\x89PNG\r\n\x1a\n" + bytes(5_000_001), "PHOTO_TOO_LARGE"),
    ],
    ids=["gif", "html", "empty", "truncated", "bomb", "oversize"],
)
def test_hostile_uploads_are_refused_and_nothing_is_stored(
    svc: Service, data: bytes, code: str
) -> None:
    c = svc.client()
    register(c)
    assert post(c, "/apply/form", "/apply/form", **INFO).status_code == 303
    r = post(
        c,
        "/apply/steps",
        "/apply/photo",
        "photo-form",
        files={"photo": ("id.png", data, "image/png")},
    )
    assert r.status_code == 422 and re.search(f'id="error-photo" data-code="{code}"', r.text)
    assert _stored_photos(svc) == 0
    assert 'id="step-photo" class="step" data-done="0"' in r.text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"garbage", "multipart/form-data; boundary=xyz"),
        (b"x", "multipart/form-data"),
    ],
    ids=["no-boundary-in-body", "no-boundary-parameter"],
)
def test_a_malformed_multipart_body_is_refused(
    svc: Service, body: bytes, content_type: str
) -> None:
    c = svc.client()
    register(c)
    assert post(c, "/apply/form", "/apply/form", **INFO).status_code == 303
    r = c.post("/apply/photo", content=body, headers={"content-type": content_type})
    assert r.status_code == 400 and 'id="refused-code">FORM_INVALID<' in r.text
    assert _stored_photos(svc) == 0


def test_a_file_where_none_is_expected_is_refused(svc: Service) -> None:
    c = svc.client()
    register(c)
    page = c.get("/apply/form").text
    data = {"csrf_token": token(page), **INFO}
    r = c.post("/apply/form", data=data, files={"photo": ("a.png", picture(), "image/png")})
    assert r.status_code == 400 and "FORM_INVALID" in r.text
    assert c.get("/apply", follow_redirects=False).headers["location"] == "/apply/form"


def test_the_code_steps_show_the_library_refusals(svc: Service) -> None:
    c = svc.client()
    register(c)
    assert post(c, "/apply/form", "/apply/form", **INFO).status_code == 303
    r = post(c, "/apply/steps", "/apply/check-code", "check-code-form", code="12")
    assert r.status_code == 422 and re.search('id="error-code" data-code="CODE_FORMAT"', r.text)
    assert post(c, "/apply/steps", "/apply/send-code", "send-code-form").status_code == 303
    r = post(c, "/apply/steps", "/apply/send-code", "send-code-form")
    assert re.search('id="error-send_code" data-code="RESEND_TOO_SOON"', r.text)
    real = svc.ctx.outbox.last_code(re.search(r'id="app-id">([0-9a-f]{32})<', r.text).group(1))
    wrong = f"{(int(real) + 1) % 1_000_000:06d}"
    r = post(c, "/apply/steps", "/apply/check-code", "check-code-form", code=wrong)
    assert r.status_code == 422 and re.search('id="error-code" data-code="CODE_WRONG"', r.text)
    r = post(c, "/apply/steps", "/apply/check-code", "check-code-form", code=real)
    assert r.status_code == 303
    assert 'id="step-phone" class="step" data-done="1"' in c.get("/apply/steps").text


def test_an_applicant_sees_only_their_own_application(svc: Service) -> None:
    first, second = svc.client(), svc.client()
    app_id = apply_online(svc, first)
    register(second, "13900139000")
    page = second.get("/apply/status", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/apply/form"
    assert app_id not in second.get("/apply/form").text
