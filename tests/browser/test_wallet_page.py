"""The wallet page in Chromium, with credentials bound to keys the page made: it shows a live
QR code that a scanner (zxing-cpp reading the page's screenshot) turns into a presentation the
counter's verifier accepts; it re-signs every 30 s with a countdown; it works offline after the
first visit (service worker); the private key never leaves it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page
from tests.browser.support import RunningService, issue_card, read_qr_texts, resident_id, until
from tests.browser.wallet_js import STORE_JS, b64, enrolment_request

from ecard.card import Card, Holder
from ecard.countercard import CounterCard
from ecard.errors import ErrorCode
from ecard.formats.presentation import decode_text, parse_presentation
from ecard.signing.binding import check_enrolment, new_nonce
from ecard.signing.issuer import Issuer
from ecard.verify.policy import Policy
from ecard.verify.verifier import Verifier

CARD = Card(
    holder=Holder(name="李四", ssn="11010519491231002X"),
    card_number="B87654321",
    region="110105",
    issued=dt.date(2024, 1, 15),
    expires=dt.date(2034, 1, 15),
)


def _enrol_in_page(page: Page, service: RunningService) -> None:
    """What the page's enrolment does, with the registry's part done by the issuer itself."""
    pki = service.ctx.demo
    assert pki is not None
    issuer = Issuer(pki.signer.signer(), pki.signer.certificate, clock=service.ctx.clock)
    cards = {}
    for profile in ("full", "counter"):
        nonce = new_nonce()
        key = check_enrolment(enrolment_request(page, nonce, slot=profile), nonce)
        bound = issuer.issue(CARD, device_key=key, profile=profile)
        cards[profile] = [profile, b64(bound.cose), bound.text]
    page.evaluate(STORE_JS, [CARD.card_number, cards])


def _verifier(service: RunningService, shift: float = 0) -> Verifier:
    clock: Callable[[], dt.datetime] = service.ctx.clock

    def now() -> dt.datetime:
        return clock() + dt.timedelta(seconds=shift)

    return Verifier(service.ctx.trust, Policy(clock=now, require_binding=True))


def _scan(page: Page) -> str:
    """The QR text on the page, read from a screenshot of the whole page."""
    texts = read_qr_texts(page.screenshot(full_page=True))
    assert len(texts) == 1, texts
    return texts[0]


def _open(page: Page, service: RunningService, path: str) -> None:
    page.goto(service.base_url + path)
    until(page, "() => document.getElementById('wallet')?.dataset.ready === 'yes'")


@pytest.fixture
def enrolled(page: Page, service: RunningService) -> Page:
    _open(page, service, "/wallet")
    _enrol_in_page(page, service)
    return page


def test_not_enrolled_page_asks_for_the_card_number(page: Page, service: RunningService) -> None:
    _open(page, service, "/wallet/pharmacy")
    assert page.locator("#enrol").is_visible()
    assert not page.locator("#present").is_visible()
    assert page.get_attribute("#wallet", "data-enrolled") == "no"


@pytest.mark.parametrize(
    ("path", "purpose", "what"),
    [
        ("/wallet/pharmacy", "pharmacy", "counter"),
        ("/wallet/identity", "identity", "full"),
    ],
)
def test_live_code_read_from_the_screenshot_verifies(
    enrolled: Page, service: RunningService, path: str, purpose: str, what: str
) -> None:
    _open(enrolled, service, path)
    until(enrolled, "() => document.getElementById('qr').dataset.code !== undefined")
    text = _scan(enrolled)
    assert text == enrolled.get_attribute("#qr", "data-code")
    presented = parse_presentation(decode_text(text))
    assert presented.aud == purpose
    assert abs(presented.iat - service.ctx.clock().timestamp()) <= 2  # the server's time
    verifier = _verifier(service)
    result = verifier.verify(text)
    assert result.code is ErrorCode.OK, result.code
    assert result.purpose == purpose
    if what == "counter":  # a pharmacy receives no ID number and no full name
        assert isinstance(result.card, CounterCard)
        dumped = result.card.model_dump_json()
        assert CARD.holder.ssn not in dumped and CARD.holder.name not in dumped
        assert result.card.card_number == CARD.card_number
    else:
        assert isinstance(result.card, Card)
        assert result.card.holder.ssn == CARD.holder.ssn
    assert verifier.verify(text).code is ErrorCode.REPLAYED  # the same screenshot again
    assert 0 < int(enrolled.inner_text("#countdown")) <= 30


def test_code_is_re_signed_every_30_seconds_with_a_countdown(
    context: BrowserContext, enrolled: Page, service: RunningService
) -> None:
    # the page's clock stands still from before it loads: its timers (and performance.now())
    # move only when the test moves them, however long a screenshot takes on a busy machine
    enrolled.clock.install()
    enrolled.clock.pause_at(dt.datetime.now() + dt.timedelta(seconds=5))
    _open(enrolled, service, "/wallet/pharmacy")
    until(enrolled, "() => document.getElementById('qr').dataset.code !== undefined")
    first = _scan(enrolled)
    generation = enrolled.get_attribute("#wallet", "data-generation")
    assert int(enrolled.inner_text("#countdown")) == 30
    enrolled.clock.run_for(10_000)
    assert int(enrolled.inner_text("#countdown")) == 20
    assert enrolled.get_attribute("#qr", "data-code") == first  # still the same code
    enrolled.clock.run_for(19_000)
    assert int(enrolled.inner_text("#countdown")) == 1
    assert enrolled.get_attribute("#qr", "data-code") == first
    enrolled.clock.run_for(1_000)
    # the re-signing is asynchronous (WebCrypto): wait for the new code, on the frozen clock
    until(enrolled, "(g) => document.getElementById('wallet').dataset.generation !== g", generation)
    until(enrolled, "(c) => document.getElementById('qr').dataset.code !== c", first)
    second = _scan(enrolled)
    assert second != first
    assert int(enrolled.inner_text("#countdown")) == 30
    iat1 = parse_presentation(decode_text(first)).iat
    iat2 = parse_presentation(decode_text(second)).iat
    assert iat2 - iat1 == 30
    # the page's time moved 30 s ahead of the server's, as a phone's would in 30 s
    assert _verifier(service, shift=30).verify(second).code is ErrorCode.OK


def test_typed_counter_challenge_is_answered(enrolled: Page, service: RunningService) -> None:
    _open(enrolled, service, "/wallet/treatment")
    until(enrolled, "() => document.getElementById('qr').dataset.code !== undefined")
    verifier = _verifier(service)
    challenge = verifier.new_challenge()
    before = enrolled.get_attribute("#wallet", "data-generation")
    enrolled.fill("#challenge", challenge)
    enrolled.press("#challenge", "Enter")
    enrolled.wait_for_function(
        "(g) => document.getElementById('wallet').dataset.generation !== g", arg=before, polling=100
    )
    text = _scan(enrolled)
    assert parse_presentation(decode_text(text)).cnonce == challenge.encode()
    assert verifier.verify(text, challenge=challenge).code is ErrorCode.OK


def test_offline_after_the_first_visit(
    context: BrowserContext, enrolled: Page, service: RunningService
) -> None:
    _open(enrolled, service, "/wallet/pharmacy")
    # once the worker is active, every later visit is served through it (a page that was
    # already loading while it activated may stay uncontrolled: the next visit is the test)
    assert enrolled.evaluate("navigator.serviceWorker.ready.then((r) => r.active.state)") in (
        "activating",
        "activated",
    )
    _open(enrolled, service, "/wallet/pharmacy")
    assert enrolled.evaluate("() => navigator.serviceWorker.controller !== null")
    online = _scan(enrolled)
    context.set_offline(True)
    # the network is gone for the page: its own requests fail
    assert (
        enrolled.evaluate("fetch('/api/health').then(() => 'reached', () => 'offline')")
        == "offline"
    )
    response = enrolled.reload()
    assert response is not None and response.from_service_worker
    until(enrolled, "() => document.getElementById('wallet')?.dataset.ready === 'yes'")
    assert enrolled.get_attribute("#wallet", "data-clock") == "last-sync"
    until(enrolled, "() => document.getElementById('qr').dataset.code !== undefined")
    offline = _scan(enrolled)
    assert offline != online
    verifier = _verifier(service)
    assert verifier.verify(offline).code is ErrorCode.OK
    # and it keeps signing new codes with no network
    enrolled.wait_for_timeout(1100)
    enrolled.click("#new-code")
    enrolled.wait_for_function(
        "(t) => document.getElementById('qr').dataset.code !== t", arg=offline, polling=100
    )
    again = _scan(enrolled)
    assert again != offline
    assert verifier.verify(again).code is ErrorCode.OK
    context.set_offline(False)


def test_private_key_stays_in_the_browser(enrolled: Page, service: RunningService) -> None:
    _open(enrolled, service, "/wallet/pharmacy")
    outcome = enrolled.evaluate(
        """async () => {
          const device = await import('/static/wallet/device.js');
          const creds = await device.load('credentials');
          const out = {};
          for (const [profile, c] of Object.entries(creds)) {
            let exported = 'no';
            try { await crypto.subtle.exportKey('pkcs8', c.privateKey); exported = 'yes'; }
            catch (e) { exported = e.name; }
            out[profile] = [c.privateKey.extractable, c.privateKey.type, exported];
          }
          return out;
        }"""
    )
    assert outcome == {
        "full": [False, "private", "InvalidAccessError"],
        "counter": [False, "private", "InvalidAccessError"],
    }


def test_refusals_are_shown_as_text_in_the_page_language(
    page: Page, service: RunningService
) -> None:
    _open(page, service, "/wallet")
    hostile = "<img src=x onerror=window.__pwned=1>"
    page.fill("#card-number", hostile)
    page.click("#send-code")
    until(page, "() => document.getElementById('status').dataset.key !== undefined")
    status = page.locator("#status")
    assert status.get_attribute("data-key") in ("NOT_FOUND", "INVALID_REQUEST")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in status.inner_text())  # Chinese by default
    assert page.locator("#status img").count() == 0
    assert page.evaluate("() => window.__pwned === undefined")


def test_wrong_pin_enrols_nothing(page: Page, service: RunningService) -> None:
    app, number = issue_card(service, resident_id(3), "赵六")
    _open(page, service, "/wallet?lang=en")
    page.fill("#card-number", number)
    page.click("#send-code")
    until(page, "() => !document.getElementById('code-form').hidden")
    page.fill("#code", service.ctx.outbox.last_code(app))
    page.fill("#pin", "902741")
    page.click("#enrol-button")
    page.wait_for_function(
        "() => !['code_sent', 'enrolling'].includes(document.getElementById('status').dataset.key)",
        polling=100,
    )
    assert page.get_attribute("#status", "data-key") == "PIN_WRONG", page.inner_text("#status")
    assert "PIN" in page.inner_text("#status")
    assert page.get_attribute("#wallet", "data-enrolled") == "no"
    stored = page.evaluate(
        """async () => {
          const device = await import('/static/wallet/device.js');
          return [await device.load('credentials'), await device.load('card_number')];
        }"""
    )
    assert stored == [None, None]


def test_pages_load_with_no_console_error_and_no_csp_violation(
    enrolled: Page, service: RunningService
) -> None:
    problems: list[str] = []
    enrolled.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    enrolled.on("pageerror", lambda e: problems.append(str(e)))
    enrolled.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))
    for path in (
        "/wallet",
        "/wallet/identity",
        "/wallet/treatment",
        "/wallet/pharmacy",
        "/wallet/payment",
    ):
        _open(enrolled, service, path + "?lang=en")
        if path != "/wallet":
            until(enrolled, "() => document.getElementById('qr').dataset.code !== undefined")
    assert problems == []
