"""The whole story in Chromium, on a real uvicorn: a card issued through the registry, the
holder enrols the wallet page (card number, code from the outbox, PIN), the page shows a QR
that zxing-cpp reads from the screenshot, the counter page verifies it (green), the same code
again is refused as replayed (red), the card is reported lost and the list published, and the
next presentation is refused (red)."""

from __future__ import annotations

import base64
import json

from playwright.sync_api import BrowserContext, Page
from tests.browser.support import PIN, RunningService, issue_card, read_qr_texts, resident_id, until
from tests.conftest import T0

from ecard.formats.presentation import parse_enrolment
from ecard.workflow.lifecycle import CardEvent

RESIDENT = resident_id(1)


def _scan_qr(page: Page) -> str:
    texts = read_qr_texts(page.screenshot(full_page=True))
    assert len(texts) == 1, texts
    return texts[0]


def _counter_verdict(counter: Page, text: str) -> tuple[str, str]:
    """Type ``text`` into the counter page as a USB scanner does: (verdict class, code)."""
    counter.bring_to_front()  # a page in the background gets no animation frames
    done = counter.get_attribute("#counter", "data-done") or "0"
    counter.fill("#scan", text)
    counter.press("#scan", "Enter")
    counter.wait_for_function(
        "(done) => (document.getElementById('counter').dataset.done || '0') !== done",
        arg=done,
        polling=100,
    )
    verdict = counter.locator("#verdict")
    return verdict.get_attribute("class") or "", verdict.get_attribute("data-code") or ""


def test_apply_enrol_present_replay_lose(
    context: BrowserContext, page: Page, service: RunningService
) -> None:
    app, number = issue_card(service, RESIDENT)

    # the holder enrols this browser; everything it sends is recorded
    sent: list[tuple[str, str]] = []
    page.on(
        "request",
        lambda r: sent.append((r.url, r.post_data or "")) if r.method == "POST" else None,
    )
    page.goto(service.base_url + "/wallet")
    until(page, "() => document.getElementById('wallet')?.dataset.ready === 'yes'")
    page.fill("#card-number", number)
    page.click("#send-code")
    until(page, "() => !document.getElementById('code-form').hidden")
    page.fill("#code", service.ctx.outbox.last_code(app))
    page.fill("#pin", PIN)
    page.click("#enrol-button")
    until(page, "() => document.getElementById('wallet').dataset.enrolled === 'yes'")
    assert page.input_value("#pin") == ""  # the PIN is not kept in the page
    # what left the browser: the card number, the code and PIN, then only signed requests
    # carrying public keys (a COSE_Key with a private part would not parse)
    paths = [url.removeprefix(service.base_url) for url, _ in sent]
    assert paths == ["/wallet/api/send-code", "/wallet/api/challenge", "/wallet/api/enrol"]
    enrol_body = json.loads(sent[2][1])
    assert set(enrol_body) == {"card_number", "requests"}
    assert set(enrol_body["requests"]) == {"full", "counter"}
    for request in enrol_body["requests"].values():
        assert parse_enrolment(base64.b64decode(request)).key.alg.name == "ES256"

    # it shows a live code for the pharmacy
    page.goto(service.base_url + "/wallet/pharmacy")
    until(page, "() => document.getElementById('qr').dataset.code !== undefined")
    first = _scan_qr(page)
    assert first.startswith("EC2:")

    # the counter page (another PC: its own browser profile) verifies it
    counter = context.browser.new_context(locale="zh-CN").new_page()  # type: ignore[union-attr]
    counter.goto(service.base_url + "/counter?purpose=pharmacy")
    assert _counter_verdict(counter, first) == ("verdict ok", "OK")
    shown = counter.inner_text("#verdict-fields")
    assert RESIDENT not in shown and "张三丰" not in shown  # the pharmacy sees masked data
    # the same code again (a screenshot shown twice)
    assert _counter_verdict(counter, first) == ("verdict bad", "REPLAYED")

    # the clerk reports the card lost and publishes the list
    service.ctx.registry.change(number, CardEvent.REPORT_LOSS, actor="clerk:1")
    service.ctx.registry.refresh_revocation_list(actor="clerk:1")

    page.bring_to_front()
    page.wait_for_timeout(1100)  # a new second: a new presentation
    page.click("#new-code")
    page.wait_for_function(
        "(t) => document.getElementById('qr').dataset.code !== t", arg=first, polling=100
    )
    after = _scan_qr(page)
    assert after != first
    assert _counter_verdict(counter, after) == ("verdict bad", "REVOKED")
    counter.context.close()
    assert service.ctx.clock() >= T0
