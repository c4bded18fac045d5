"""The wallet's JSON API over HTTP (httpx against the running uvicorn): every refusal is the
service's error body with one stable code and both languages, never the value sent, an ID
number or a name; a whole enrolment through the API with a real device key binds both
profiles; the page, its service worker and its manifest are served as a browser needs them."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest
from tests.browser.support import PIN, RunningService, issue_card, resident_id

from ecard.errors import ErrorCode
from ecard.formats.cose import assemble_sign1, sig_structure
from ecard.formats.cosekey import DeviceKey
from ecard.formats.presentation import enrolment_parts
from ecard.formats.qrtext import decode as decode_card_text
from ecard.holder.keys import SoftwareDeviceKey
from ecard.holder.wallet import HolderClock, Presenter, enrolment_request

NAME = "王小明"


@pytest.fixture(scope="module")
def http(service: RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.base_url, timeout=10) as client:
        yield client


def _refusal(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False and body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["message_zh"], str) and body["message_zh"] != body["message"]
    return body


def test_json_only(http: httpx.Client) -> None:
    r = http.post(
        "/wallet/api/send-code",
        content="card_number=A1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _refusal(r, 415, "UNSUPPORTED_MEDIA_TYPE")
    r = http.post(
        "/wallet/api/send-code",
        content=b'{"card_number": ',
        headers={"Content-Type": "application/json"},
    )
    _refusal(r, 400, "MALFORMED_JSON")


def test_shape_refusals_never_echo_the_value(http: httpx.Client) -> None:
    secret = resident_id(7)
    r = http.post("/wallet/api/send-code", json={"card_number": "A1", "ssn": secret})
    body = _refusal(r, 422, "INVALID_REQUEST")
    assert secret not in r.text and "ssn" in str(body["message"])
    r = http.post("/wallet/api/challenge", json={"card_number": "A1", "code": "1" * 40, "pin": "1"})
    _refusal(r, 422, "INVALID_REQUEST")
    r = http.post(
        "/wallet/api/enrol", json={"card_number": "A1", "requests": {"full": "not base64!"}}
    )
    _refusal(r, 422, "INVALID_REQUEST")


def test_unknown_card(http: httpx.Client) -> None:
    _refusal(
        http.post("/wallet/api/send-code", json={"card_number": "Z99999999"}), 404, "NOT_FOUND"
    )


def test_enrolment_through_the_api(http: httpx.Client, service: RunningService) -> None:
    resident = resident_id(2)
    app, number = issue_card(service, resident, NAME)
    assert http.post("/wallet/api/send-code", json={"card_number": number}).json() == {"ok": True}
    code = service.ctx.outbox.last_code(app)

    # a wrong PIN is counted and refused without a word of who the card belongs to
    r = http.post(
        "/wallet/api/challenge", json={"card_number": number, "code": code, "pin": "902741"}
    )
    _refusal(r, 400, "PIN_WRONG")
    for secret in (resident, NAME, "902741", code):
        assert secret not in r.text

    service.clock.advance(61)
    http.post("/wallet/api/send-code", json={"card_number": number})
    code = service.ctx.outbox.last_code(app)
    r = http.post("/wallet/api/challenge", json={"card_number": number, "code": code, "pin": PIN})
    assert r.status_code == 200, r.text
    nonces = {p: base64.b64decode(n) for p, n in r.json()["nonces"].items()}
    assert set(nonces) == {"full", "counter"} and all(len(n) == 16 for n in nonces.values())

    keys = {p: SoftwareDeviceKey.generate() for p in nonces}
    requests = {
        p: base64.b64encode(enrolment_request(keys[p], n)).decode() for p, n in nonces.items()
    }
    # the full request signed by the counter key: not a proof of possession
    forged = dict(requests)
    device = DeviceKey.from_public_key(keys["full"].public_key())
    protected, payload = enrolment_parts(device, nonces["full"])
    forged["full"] = base64.b64encode(
        assemble_sign1(protected, payload, keys["counter"].sign(sig_structure(protected, payload)))
    ).decode()
    r = http.post("/wallet/api/enrol", json={"card_number": number, "requests": forged})
    _refusal(r, 400, "ENROL_PROOF_INVALID")
    # every nonce named was consumed by that try
    r = http.post("/wallet/api/enrol", json={"card_number": number, "requests": requests})
    _refusal(r, 400, "ENROL_NONCE_USED")

    service.clock.advance(61)
    http.post("/wallet/api/send-code", json={"card_number": number})
    r = http.post(
        "/wallet/api/challenge",
        json={"card_number": number, "code": service.ctx.outbox.last_code(app), "pin": PIN},
    )
    nonces = {p: base64.b64decode(n) for p, n in r.json()["nonces"].items()}
    requests = {
        p: base64.b64encode(enrolment_request(keys[p], n)).decode() for p, n in nonces.items()
    }
    r = http.post("/wallet/api/enrol", json={"card_number": number, "requests": requests})
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    assert set(cards) == {"full", "counter"}
    for profile, card in cards.items():
        assert base64.b64decode(card["cose"]) == decode_card_text(card["text"])
        clock = HolderClock.synced(service.ctx.clock())
        shown = Presenter(card["text"], keys[profile], clock).present(
            "identity" if profile == "full" else "pharmacy"
        )
        verdict = http.post("/api/verify", json={"code": shown})
        assert verdict.json()["code"] == ErrorCode.OK.value, verdict.text


def test_time_page_worker_manifest(http: httpx.Client, service: RunningService) -> None:
    now = http.get("/wallet/api/time").json()
    assert now["ok"] is True and abs(now["now"] - service.ctx.clock().timestamp()) < 2
    for path in (
        "/wallet",
        "/wallet/identity",
        "/wallet/treatment",
        "/wallet/pharmacy",
        "/wallet/payment",
    ):
        page = http.get(path)
        assert (
            page.status_code == 200
            and "script-src 'self'" in page.headers["content-security-policy"]
        )
        assert '<script type="module" src="/static/wallet/wallet.js">' in page.text
        assert "<script>" not in page.text  # no inline script
    assert http.get("/wallet/shopping").status_code == 404
    worker = http.get("/wallet/sw.js")
    assert worker.headers["service-worker-allowed"] == "/wallet"
    assert worker.headers["content-type"].startswith("text/javascript")
    manifest = http.get("/static/wallet/manifest.webmanifest").json()
    assert manifest["start_url"] == "/wallet" and manifest["scope"] == "/wallet"
    english = http.get("/wallet/pharmacy?lang=en").text
    assert "Pharmacy" in english and "Enrol this phone" in english
