"""The JSON API against the real application (httpx through Starlette's TestClient): real
demo PKI, real bound cards and device keys, the service's own SQLite store and replay cache.
The clock is a movable fixed clock starting at T0 (certificates expire; never the wall clock).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.service_support import bound_presenter, plain_card
from tests.workflow_support import Clock

from ecard.card import Card, Holder
from ecard.service.app import create_app
from ecard.service.config import CounterConfig, Limits, ServiceConfig
from ecard.service.context import ServiceContext, build_context
from ecard.verify.paths import PathValidator
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustStore
from ecard.workflow.steps import CONSENT_PERSONAL, CONSENT_PHOTO

NAME, SSN = "张三丰", "11010519491231002X"
CARD = Card(
    holder=Holder(name=NAME, ssn=SSN),
    card_number="A12345678",
    region="110105",
    issued=dt.date(2024, 1, 15),
    expires=dt.date(2034, 1, 15),
)


def service(
    folder: Path, clock: Clock | None = None, **counter: object
) -> tuple[ServiceContext, TestClient]:
    config = ServiceConfig(data_dir=folder, counter=CounterConfig(**counter))  # type: ignore[arg-type]
    ctx = build_context(config, clock=clock or Clock())
    return ctx, TestClient(create_app(ctx))


@pytest.fixture
def svc(tmp_path: Path) -> tuple[ServiceContext, TestClient]:
    return service(tmp_path)


def no_personal_data(text: str) -> None:
    assert NAME not in text and SSN not in text and CARD.card_number not in text


def test_health_and_openapi(svc: tuple[ServiceContext, TestClient]) -> None:
    _, client = svc
    health = client.get("/api/health")
    assert health.status_code == 200 and health.json()["ok"] is True
    assert health.json()["demo"] is True
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/verify", "/api/verify/batch", "/api/challenge", "/api/applications"):
        assert path in spec["paths"], path
    schemas = spec["components"]["schemas"]
    assert {"VerifyRequest", "VerifyResult", "ErrorBody", "MaskedCard"} <= set(schemas)
    assert schemas["VerifyRequest"]["additionalProperties"] is False


def test_verify_ok_masked_then_replayed(svc: tuple[ServiceContext, TestClient]) -> None:
    ctx, client = svc
    code = bound_presenter(ctx, CARD).present("pharmacy")
    first = client.post("/api/verify", json={"code": code, "purpose": "pharmacy"})
    assert first.status_code == 200
    body = first.json()
    assert body["valid"] is True and body["code"] == "OK"
    assert body["card"]["profile"] == "counter"
    assert body["card"]["name"] == "张*丰" and body["card"]["card_number"] == "A1*****78"
    assert body["card"]["region_name"] and body["purpose"] == "pharmacy"
    assert body["message_zh"] == "电子社保卡有效" and body["action_zh"].startswith("受理")
    assert body["kid"] == ctx.demo.signer.kid.hex()  # type: ignore[union-attr]
    no_personal_data(first.text)

    again = client.post("/api/verify", json={"code": code, "purpose": "pharmacy"}).json()
    assert again["valid"] is False and again["code"] == "REPLAYED" and again["card"] is None
    assert "fresh code" in again["action"] and again["action_zh"]


def test_replays_are_refused_across_workers(tmp_path: Path) -> None:
    """Two services (two uvicorn workers) over one data folder share the replay cache file."""
    ctx_a, worker_a = service(tmp_path)
    _, worker_b = service(tmp_path)
    code = bound_presenter(ctx_a, CARD).present("pharmacy")
    assert worker_a.post("/api/verify", json={"code": code}).json()["code"] == "OK"
    assert worker_b.post("/api/verify", json={"code": code}).json()["code"] == "REPLAYED"


def test_full_profile_card_has_the_id_number_masked(
    svc: tuple[ServiceContext, TestClient],
) -> None:
    ctx, client = svc
    code = bound_presenter(ctx, CARD, profile="full").present("identity")
    body = client.post("/api/verify", json={"code": code, "purpose": "identity"}).json()
    assert body["code"] == "OK" and body["card"]["profile"] == "full"
    assert body["card"]["ssn"] == CARD.holder.masked_ssn != SSN
    no_personal_data(json.dumps(body, ensure_ascii=False))
    # minimum scope: the full card is not for a pharmacy
    code = bound_presenter(ctx, CARD, profile="full").present("pharmacy")
    body = client.post("/api/verify", json={"code": code, "purpose": "pharmacy"}).json()
    assert body["code"] == "PROFILE_NOT_ACCEPTED"


def test_refusals(svc: tuple[ServiceContext, TestClient]) -> None:
    ctx, client = svc
    plain = client.post("/api/verify", json={"code": plain_card(ctx, CARD)}).json()
    assert plain["code"] == "BINDING_REQUIRED" and plain["valid"] is False
    assert plain["message_zh"] and plain["action_zh"]
    for text, code in (("HC1:6BF", "BAD_PREFIX"), ("EC1:%%%", "BAD_BASE45"), ("", "BAD_PREFIX")):
        body = client.post("/api/verify", json={"code": text}).json()
        assert body["code"] == code, (text, body)
    made_for_pharmacy = bound_presenter(ctx, CARD).present("pharmacy")
    body = client.post("/api/verify", json={"code": made_for_pharmacy, "purpose": "treatment"})
    assert body.json()["code"] == "AUDIENCE_MISMATCH"


def test_binding_can_be_configured_off(tmp_path: Path) -> None:
    ctx, client = service(tmp_path, require_binding=False)
    body = client.post("/api/verify", json={"code": plain_card(ctx, CARD)}).json()
    assert body["code"] == "OK" and body["card"]["ssn"] == CARD.holder.masked_ssn


def test_purpose_not_served(tmp_path: Path) -> None:
    _, client = service(tmp_path, purposes=frozenset({"pharmacy"}))
    answer = client.post("/api/verify", json={"code": "EC1:", "purpose": "identity"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "PURPOSE_NOT_SERVED" and answer.json()["ok"] is False
    assert client.get("/counter?purpose=identity").status_code == 404


def test_challenge(svc: tuple[ServiceContext, TestClient]) -> None:
    ctx, client = svc
    presenter = bound_presenter(ctx, CARD)
    challenge = client.post("/api/challenge", json={"purpose": "pharmacy"}).json()
    assert challenge["expires_in"] == 120 and len(challenge["challenge"]) == 6
    other = bound_presenter(ctx, CARD).present("pharmacy", challenge="000000")
    wrong = client.post("/api/verify", json={"code": other, "challenge": challenge["challenge"]})
    assert wrong.json()["code"] == "CHALLENGE_MISMATCH"
    code = presenter.present("pharmacy", challenge=challenge["challenge"])
    ok = client.post(
        "/api/verify",
        json={"code": code, "purpose": "pharmacy", "challenge": challenge["challenge"]},
    )
    assert ok.json()["code"] == "OK"
    bad = client.post("/api/verify", json={"code": code, "challenge": "12ab"})
    assert bad.status_code == 422 and bad.json()["error"] == "INVALID_REQUEST"


def test_batch(tmp_path: Path) -> None:
    config = ServiceConfig(data_dir=tmp_path, limits=Limits(batch_max=3))
    ctx = build_context(config, clock=Clock())
    client = TestClient(create_app(ctx))
    good = bound_presenter(ctx, CARD).present("pharmacy")
    answer = client.post("/api/verify/batch", json={"codes": [good, "HC1:x", good]})
    body = answer.json()
    assert answer.status_code == 200 and (body["valid"], body["invalid"]) == (1, 2)
    assert [r["code"] for r in body["results"]] == ["OK", "BAD_PREFIX", "REPLAYED"]
    over = client.post("/api/verify/batch", json={"codes": ["EC1:"] * 4})
    assert over.status_code == 422 and "at most 3" in over.json()["message"]
    empty = client.post("/api/verify/batch", json={"codes": []})
    assert empty.status_code == 422 and empty.json()["error"] == "INVALID_REQUEST"


def test_workflow_operations(tmp_path: Path) -> None:
    """Apply, bind the phone, query, report loss: the published list then refuses the card
    at this service's counter (binding off here: the workflow issues a plain card)."""
    clock = Clock()
    ctx, client = service(tmp_path, clock, require_binding=False)
    application = {
        "document_type": 1,
        "document_number": SSN,
        "name": NAME,
        "phone": "13800138000",
        "region": "110105",
        "consents": [CONSENT_PERSONAL, CONSENT_PHOTO],
    }
    bad_phone = client.post("/api/applications", json={**application, "phone": "12345"})
    assert bad_phone.status_code == 400
    assert bad_phone.json() == {
        "ok": False,
        "error": "PHONE_INVALID",
        "message": "the phone number is not a mainland China mobile number",
        "message_zh": "手机号码不是中国大陆手机号码",
    }
    bad_number = client.post("/api/applications", json={**application, "document_number": "1"})
    assert bad_number.status_code == 400 and bad_number.json()["error"] == "DOCUMENT_FORMAT"
    created = client.post("/api/applications", json=application)
    assert created.status_code == 201, created.text
    app_id = created.json()["application_id"]
    no_personal_data(created.text)

    assert client.post(f"/api/applications/{app_id}/send-code", json={}).json() == {"ok": True}
    too_soon = client.post(f"/api/applications/{app_id}/send-code", json={})
    assert too_soon.status_code == 429 and too_soon.json()["error"] == "RESEND_TOO_SOON"
    code = ctx.outbox.last_code(app_id)
    other = "000000" if code != "000000" else "111111"
    wrong = client.post(f"/api/applications/{app_id}/check-code", json={"code": other})
    assert wrong.status_code == 400 and wrong.json()["error"] == "CODE_WRONG"
    assert wrong.json()["message_zh"] == "验证码错误"
    checked = client.post(f"/api/applications/{app_id}/check-code", json={"code": code})
    assert checked.json() == {"ok": True}
    missing = client.post("/api/applications/nope/send-code", json={})
    assert missing.status_code == 404 and missing.json()["error"] == "NOT_FOUND"

    registry = ctx.registry
    registry.record_liveness(app_id, b"evidence")
    registry.review_online(app_id)
    issued = registry.issue(app_id, actor="clerk:1")
    assert issued is not None
    number = issued.card.card_number
    registry.set_pin(number, "802413")
    clock.advance(seconds=61)
    client.post(f"/api/applications/{app_id}/send-code", json={})
    proof = {"card_number": number, "code": ctx.outbox.last_code(app_id), "pin": "802413"}
    wrong_pin = client.post("/api/cards/query", json={**proof, "pin": "135792"})
    assert wrong_pin.status_code == 400 and wrong_pin.json()["error"] == "PIN_WRONG"
    clock.advance(seconds=61)
    client.post(f"/api/applications/{app_id}/send-code", json={})
    proof["code"] = ctx.outbox.last_code(app_id)
    view = client.post("/api/cards/query", json=proof)
    assert view.status_code == 200 and view.json()["state"] == "normal"
    assert SSN not in view.text
    assert client.post("/api/verify", json={"code": issued.text}).json()["code"] == "OK"

    assert client.get("/api/lists/revocation").json()["error"] == "NO_LIST"
    clock.advance(seconds=61)
    client.post(f"/api/applications/{app_id}/send-code", json={})
    proof["code"] = ctx.outbox.last_code(app_id)
    lost = client.post("/api/cards/report-loss", json=proof)
    assert lost.status_code == 200 and lost.json()["state"] == "temporary_loss"

    published = client.get("/api/lists/revocation")
    assert published.status_code == 200
    assert published.headers["content-type"] == "application/cbor"
    assert published.content == registry.revocation_list()
    lists = RevocationList.load(
        published.content,
        validator=PathValidator([ctx.demo.root.certificate], revocation="off", clock=clock),  # type: ignore[union-attr]
    )
    assert lists.is_revoked(issued.kid, issued.cti)
    assert client.post("/api/verify", json={"code": issued.text}).json()["code"] == "REVOKED"
    etag = published.headers["etag"]
    cached = client.get("/api/lists/revocation", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""


def test_trust_list_publication(svc: tuple[ServiceContext, TestClient]) -> None:
    ctx, client = svc
    answer = client.get("/api/lists/trust")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/cbor"
    assert "max-age" in answer.headers["cache-control"]
    validator = PathValidator([ctx.demo.root.certificate], revocation="off", clock=ctx.clock)  # type: ignore[union-attr]
    store = TrustStore.from_trust_list(answer.content, validator=validator)
    assert ctx.demo.signer.kid in {e.kid for e in store}  # type: ignore[union-attr]


def test_every_result_code_has_a_staff_action() -> None:
    from ecard.errors import ErrorCode
    from ecard.verify.actions import STAFF_ACTIONS, staff_action

    assert set(STAFF_ACTIONS) == set(ErrorCode)
    for code in ErrorCode:
        en, zh = staff_action(code, "en"), staff_action(code, "zh")
        assert en and zh and en != zh and zh.isascii() is False, code


def test_counter_reads_a_revocation_list_file_and_reloads_it(tmp_path: Path) -> None:
    """A counter PC given its lists as files: a new list dropped in place is seen by the next
    scan; the registry's own lists are not consulted."""
    clock = Clock()
    ctx, _ = service(tmp_path / "svc", clock, require_binding=False)
    registry = ctx.registry
    application = registry.submit(
        channel="online",
        document_type=1,
        document_number=SSN,
        name=NAME,
        phone="13800138000",
        region="110105",
        actor="test",
        consents=(CONSENT_PERSONAL, CONSENT_PHOTO),
    )
    registry.send_code(application)
    registry.check_code(application, ctx.outbox.last_code(application))
    registry.record_liveness(application, b"evidence")
    registry.review_online(application)
    issued = registry.issue(application, actor="clerk:1")
    assert issued is not None
    from ecard.workflow.lifecycle import CardEvent

    number = issued.card.card_number
    registry.change(number, CardEvent.REPORT_LOSS, actor="clerk:1")
    revoking = registry.revocation_list()
    registry.change(number, CardEvent.LIFT_LOSS, actor="clerk:1")
    lifted = registry.revocation_list()
    registry.change(number, CardEvent.REPORT_LOSS, actor="clerk:1")
    revoking_again = registry.revocation_list()
    assert revoking and lifted and revoking_again and len({revoking, lifted, revoking_again}) == 3

    listed = tmp_path / "revocation.cose"
    listed.write_bytes(lifted)
    counter = CounterConfig(require_binding=False, revocation_list=listed)
    config = ServiceConfig(data_dir=tmp_path / "svc", counter=counter)
    pc = TestClient(create_app(build_context(config, clock=clock)))

    def scan() -> dict[str, object]:
        return dict(pc.post("/api/verify", json={"code": issued.text}).json())

    assert scan()["code"] == "OK"
    listed.write_bytes(revoking)  # an older list, as a mistaken or malicious copy would be
    os.utime(listed, ns=(1, 1))
    refused = pc.post("/api/verify", json={"code": issued.text})
    assert refused.status_code == 503, refused.json()
    assert refused.json()["error"] == "LIST_ROLLBACK"
    listed.write_bytes(revoking_again)
    assert scan()["code"] == "REVOKED"
    listed.unlink()
    gone = pc.post("/api/verify", json={"code": issued.text})
    assert gone.status_code == 400 and gone.json()["error"] == "BAD_INPUT"
