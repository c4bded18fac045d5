"""The story through every page in Chromium: apply online on the applicant pages (register,
personal information, ID photo, phone code from the outbox, liveness, send), a clerk without
the reviewer role cannot approve, a forged form post (no or a wrong CSRF token) is refused, a
reviewer approves, a clerk issues; the applicant sets the PIN and enrols the wallet page; the
counter page verifies the QR read from the wallet's screenshot (green), refuses it again
(red, replayed); the clerk reports the card lost and publishes the list on the console; the
counter page refuses the next code (red, revoked)."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import Browser, Page
from tests.browser.support import (
    PIN,
    Counter,
    RunningService,
    enrol_wallet,
    first_code,
    next_code,
    resident_id,
)

from ecard.service.auth import create_user
from ecard.service.pages.applicant import registration_key

PASSWORD = "correct horse battery"
PHONE = "13900139000"


def _photo() -> bytes:
    image = Image.new("RGB", (120, 160), (230, 230, 230))
    for y in range(40, 120):
        for x in range(35, 85):
            image.putpixel((x, y), (90, 60, 40))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _submit(page: Page, form: str) -> None:
    """Send a form with its own submit button, as a person would, and wait for the answer."""
    with page.expect_navigation():
        page.click(f"#{form} button[type=submit]")


def _staff(browser: Browser, service: RunningService, name: str, *roles: str) -> Page:
    create_user(service.ctx, name, PASSWORD, roles=roles)
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(service.base_url + "/clerk/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    _submit(page, "login-form")
    assert page.locator("#nav-user").get_attribute("data-roles") == " ".join(sorted(roles))
    return page


def test_story_through_the_pages(
    browser: Browser, service: RunningService, counter: Counter
) -> None:
    base = service.base_url
    resident = resident_id(11)
    phone = browser.new_context(viewport={"width": 412, "height": 915}, locale="zh-CN")
    holder = phone.new_page()

    # apply online
    holder.goto(base + "/apply/register")
    holder.fill("#phone", PHONE)
    holder.fill("#password", PASSWORD)
    holder.fill("#password2", PASSWORD)
    _submit(holder, "register-form")
    holder.fill("#code", service.ctx.outbox.last_code(registration_key("+86" + PHONE)))
    _submit(holder, "register-code-form")
    assert holder.url.endswith("/apply/form")
    holder.select_option("#document_type", "1")
    holder.fill("#document_number", resident)
    holder.fill("#name", "孙<b>悟空</b>")  # markup in a text field: refused, shown as text
    holder.fill("#region", "110105")
    holder.fill("#phone", PHONE)
    holder.check("#consent_personal")
    holder.check("#consent_photo")
    _submit(holder, "info-form")
    assert holder.get_attribute("#error-name", "data-code") == "NAME_INVALID"
    assert holder.input_value("#name") == "孙<b>悟空</b>"
    assert holder.locator("main b").count() == 0
    holder.fill("#name", "孙悟空")
    holder.check("#consent_personal")
    holder.check("#consent_photo")
    _submit(holder, "info-form")
    assert holder.url.endswith("/apply/steps")
    app_id = holder.inner_text("#app-id")
    holder.set_input_files(
        "#photo", files=[{"name": "id.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
    )
    _submit(holder, "photo-form")
    assert holder.get_attribute("#step-photo", "data-done") == "1"
    _submit(holder, "send-code-form")
    holder.fill("#code", service.ctx.outbox.last_code(app_id))
    _submit(holder, "check-code-form")
    assert holder.get_attribute("#step-phone", "data-done") == "1"
    _submit(holder, "liveness-form")
    _submit(holder, "submit-form")
    assert holder.get_attribute("#app-state", "data-state") == "submitted"

    # a clerk without the reviewer role cannot approve
    clerk = _staff(browser, service, "clerk7", "clerk")
    clerk.goto(f"{base}/clerk/applications/{app_id}")
    assert clerk.locator("#app-name").inner_text() == "孙悟空"
    with clerk.expect_navigation():
        clerk.click("#approve")
    assert clerk.get_attribute("#refused", "data-code") == "ROLE_REQUIRED"

    # a reviewer's session: forged posts without the page's CSRF token are refused
    reviewer = _staff(browser, service, "review7", "reviewer")
    review_url = f"{base}/clerk/applications/{app_id}/review"
    for forged in ({"decision": "approve"}, {"decision": "approve", "csrf_token": "x" * 43}):
        answer = reviewer.request.post(review_url, form=forged, max_redirects=0)
        assert answer.status == 403 and "CSRF_FAILED" in answer.text()
    reviewer.goto(f"{base}/clerk/applications/{app_id}")
    assert reviewer.get_attribute("#app-state", "data-state") == "submitted"
    # the reviewer approves on the page; the clerk issues
    with reviewer.expect_navigation():
        reviewer.click("#approve")
    reviewer.goto(f"{base}/clerk/applications/{app_id}")
    assert reviewer.get_attribute("#app-state", "data-state") == "approved"
    clerk.goto(f"{base}/clerk/applications/{app_id}")
    _submit(clerk, "issue-form")
    clerk.goto(f"{base}/clerk/applications/{app_id}")
    number = clerk.inner_text("#card-number")

    # the applicant sees the card, sets the PIN and takes it into the wallet
    holder.bring_to_front()  # the phone is in the holder's hand again
    holder.goto(base + "/apply/status")
    assert holder.inner_text("#card-number") == number
    holder.fill("#pin-form input[name=pin]", PIN)
    holder.fill("#pin-form input[name=pin2]", PIN)
    _submit(holder, "pin-form")
    assert holder.locator("#pin-set").count() == 1
    service.clock.advance(61)  # past the resend interval of the application's code
    holder.click("#wallet-link")
    enrol_wallet(holder, service, number, app_id)
    first = first_code(holder, service)

    # the counter page: green, then red for the same code
    assert counter.verdict(first) == ("verdict ok", "OK")
    assert resident not in counter.page.inner_text("#verdict")
    assert counter.verdict(first) == ("verdict bad", "REPLAYED")

    # the clerk reports the card lost and publishes the list on the console
    clerk.goto(f"{base}/clerk/cards/{number}")
    clerk.select_option("#event", "report_loss")
    _submit(clerk, "change-form")
    clerk.goto(f"{base}/clerk/cards/{number}")
    assert clerk.get_attribute("#card-state", "data-state") != "normal"
    clerk.goto(f"{base}/clerk/queue")
    _submit(clerk, "publish-form")
    assert clerk.get_attribute("#notice", "data-notice") == "published"

    assert counter.verdict(next_code(holder, first)) == ("verdict bad", "REVOKED")
    for page in (holder, clerk, reviewer):
        page.context.close()
