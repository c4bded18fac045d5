"""The whole story in Chromium, on a real uvicorn: a card issued through the registry, the
holder enrols the wallet page (card number, code from the outbox, PIN), the page shows a QR
that zxing-cpp reads from the screenshot, the counter page verifies it (green), the same code
again is refused as replayed (red), the card is reported lost and the list published, and the
next presentation is refused (red)."""

from __future__ import annotations

import base64
import json

from playwright.sync_api import Page
from tests.browser.support import (
    Counter,
    RunningService,
    enrol_wallet,
    first_code,
    issue_card,
    next_code,
    resident_id,
)
from tests.conftest import T0

from ecard.formats.presentation import parse_enrolment
from ecard.workflow.lifecycle import CardEvent

RESIDENT = resident_id(1)


def test_apply_enrol_present_replay_lose(
    page: Page, service: RunningService, counter: Counter
) -> None:
    app, number = issue_card(service, RESIDENT)

    # the holder enrols this browser; everything it sends is recorded
    sent: list[tuple[str, str]] = []
    page.on(
        "request",
        lambda r: sent.append((r.url, r.post_data or "")) if r.method == "POST" else None,
    )
    page.goto(service.base_url + "/wallet")
    enrol_wallet(page, service, number, app)
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
    first = first_code(page, service)
    assert first.startswith("EC2:")

    # the counter page (another PC: its own browser profile) verifies it
    assert counter.verdict(first) == ("verdict ok", "OK")
    shown = counter.page.inner_text("#verdict-fields")
    assert RESIDENT not in shown and "张三丰" not in shown  # the pharmacy sees masked data
    # the same code again (a screenshot shown twice)
    assert counter.verdict(first) == ("verdict bad", "REPLAYED")

    # the clerk reports the card lost and publishes the list
    service.ctx.registry.change(number, CardEvent.REPORT_LOSS, actor="clerk:1")
    service.ctx.registry.refresh_revocation_list(actor="clerk:1")

    after = next_code(page, first)
    assert after != first
    assert counter.verdict(after) == ("verdict bad", "REVOKED")
    assert service.ctx.clock() >= T0
