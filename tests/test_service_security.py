"""The HTTP security layer: headers on every answer, body limits enforced while reading
(with, without and with a lying Content-Length), the JSON content type, hostile JSON, rate
limits, the access log without query strings or personal data, and one real uvicorn server.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from tests.service_support import make_app
from tests.service_threads import run_async

from ecard.service.app import create_app
from ecard.service.security import CSP, HEADERS, RateLimiter

SSN, NAME = "11010519491231002X", "张三丰"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(make_app(tmp_path)[1])


def assert_headers(response: httpx.Response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (name, response.request.url)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in CSP


def error_of(response: httpx.Response) -> str:
    body = response.json()
    assert body["ok"] is False and body["message"] and body["message_zh"]
    assert set(body) == {"ok", "error", "message", "message_zh"}
    return str(body["error"])


def test_headers_on_every_answer(client: TestClient) -> None:
    answers = [
        client.get("/api/health"),
        client.get("/counter"),
        client.get("/static/counter/counter.js"),
        client.get("/static/css/ecard.css"),
        client.get("/no/such/page"),
        client.post("/api/verify", content=b"{", headers={"content-type": "application/json"}),
        client.post("/api/verify", content=b"x", headers={"content-type": "text/plain"}),
        client.post(
            "/api/verify", content=b"x" * 70_000, headers={"content-type": "application/json"}
        ),
        client.put("/api/health", json={}),
    ]
    for answer in answers:
        assert_headers(answer)
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 404, 400, 415, 413, 405]
    caching = [a.headers.get("cache-control") for a in answers]
    assert caching[:2] == ["no-store", "no-store"] and caching[2:4] == [None, None]
    assert set(caching[4:]) == {"no-store"}
    assert error_of(answers[4]) == "NOT_FOUND"
    assert error_of(answers[8]) == "METHOD_NOT_ALLOWED"


def test_json_content_type_required(client: TestClient) -> None:
    """A cross-site form can post urlencoded, multipart or text/plain: all refused."""
    for kind in (
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
        "",
    ):
        answer = client.post(
            "/api/verify", content=b'{"code":"EC1:"}', headers={"content-type": kind}
        )
        assert answer.status_code == 415 and error_of(answer) == "UNSUPPORTED_MEDIA_TYPE", kind
    ok = client.post(
        "/api/verify",
        content=b'{"code":"EC1:"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 200


def test_oversized_bodies(client: TestClient) -> None:
    big = b'{"code":"' + b"A" * 70_000 + b'"}'
    declared = client.post("/api/verify", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and error_of(declared) == "BODY_TOO_LARGE"
    assert "65536" in declared.json()["message"] and "字节" in declared.json()["message_zh"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        yield b'{"code":"'
        for _ in range(20):
            yield b"A" * 4096
        yield b'"}'

    streamed = client.post(
        "/api/verify", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413 and error_of(streamed) == "BODY_TOO_LARGE"

    # the photo upload may be larger, up to 6 MiB
    photo = client.post("/apply/photo", content=b"\0" * (1 << 20))
    assert photo.status_code != 413
    too_big = client.post("/apply/photo", content=b"\0" * (7 << 20))
    assert too_big.status_code == 413


def _asgi_post(
    app: Any, path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]
) -> tuple[int, bytes, dict[bytes, bytes]]:
    """Drive the ASGI app directly: a request whose headers may lie about its body."""
    sent: list[dict[str, Any]] = []
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }
    run_async(lambda: app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, dict(start["headers"])


def test_lying_content_length_does_not_bypass_the_limit(tmp_path: Path) -> None:
    app = make_app(tmp_path)[1]
    chunks = [b'{"code":"'] + [b"A" * 8192] * 10 + [b'"}']
    status, body, headers = _asgi_post(
        app,
        "/api/verify",
        chunks,
        [(b"content-type", b"application/json"), (b"content-length", b"20")],
    )
    assert status == 413 and json.loads(body)["error"] == "BODY_TOO_LARGE"
    assert headers[b"content-security-policy"] == CSP.encode()
    status, body, _ = _asgi_post(
        app,
        "/api/verify",
        [b"{}"],
        [(b"content-type", b"application/json"), (b"content-length", b"-5")],
    )
    assert status == 400 and json.loads(body)["error"] == "INVALID_REQUEST"


def test_hostile_json(client: TestClient) -> None:
    def post(raw: bytes) -> httpx.Response:
        return client.post("/api/verify", content=raw, headers={"content-type": "application/json"})

    cases = {
        b"{": "MALFORMED_JSON",
        b'{"code": "\xff\xfe\xfd"}': "MALFORMED_JSON",
        b"[" * 30_000 + b"]" * 30_000: "MALFORMED_JSON",
        b'{"code": ' + b"[" * 20_000 + b"]" * 20_000 + b"}": "MALFORMED_JSON",
        b'{"code": "EC1:' + b"A" * 5000 + b'"}': "INVALID_REQUEST",
        b'{"code": 12}': "INVALID_REQUEST",
        b'{"code": "EC1:", "extra": 1}': "INVALID_REQUEST",
        b'{"code": "EC1:", "purpose": "casino"}': "INVALID_REQUEST",
        b'"just a string"': "INVALID_REQUEST",
        b"null": "INVALID_REQUEST",
    }
    for raw, code in cases.items():
        answer = post(raw)
        assert answer.status_code in (400, 422), raw[:40]
        assert error_of(answer) == code, (raw[:40], answer.json())
        assert "AAAA" not in answer.text and "casino" not in answer.text  # never echoes input
    deep_in_string = post(json.dumps({"code": "[" * 4000}).encode())
    assert deep_in_string.status_code == 200 and deep_in_string.json()["code"] == "BAD_PREFIX"


def _from(app: Any, address: str) -> httpx.AsyncClient:
    """A client of ``app`` connecting from ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 1000))
    return httpx.AsyncClient(transport=transport, base_url="http://service")


def test_rate_limits(tmp_path: Path) -> None:
    app = make_app(
        tmp_path, limits={"verify_burst": 3, "verify_per_second": 1, "sensitive_burst": 2}
    )[1]

    async def scenario() -> None:
        async with _from(app, "10.0.0.1") as here, _from(app, "10.0.0.2") as elsewhere:
            answers = [await here.post("/api/verify", json={"code": "EC1:"}) for _ in range(4)]
            assert [a.status_code for a in answers] == [200, 200, 200, 429]
            limited = answers[-1]
            assert error_of(limited) == "RATE_LIMITED"
            assert limited.json()["message_zh"] == "请求过于频繁：请稍后再试"
            assert int(limited.headers["retry-after"]) >= 1
            assert_headers(limited)
            assert (await elsewhere.post("/api/verify", json={"code": "EC1:"})).status_code == 200
            batch = await here.post("/api/verify/batch", json={"codes": ["EC1:"]})
            assert batch.status_code == 200  # its own bucket
            assert (await here.get("/api/health")).status_code == 200  # not limited
            for path in (
                "/clerk/login",
                "/apply/send-code",
                "/wallet/api/send-code",
                "/api/applications/x/send-code",
            ):
                statuses = [(await here.post(path, json={})).status_code for _ in range(3)]
                assert 429 not in statuses[:2] and statuses[2] == 429, (path, statuses)

    run_async(scenario)


def test_token_bucket_refills() -> None:
    now = [100.0]
    limiter = RateLimiter({"verify": (2, 0.5)}, clock=lambda: now[0])
    assert [limiter.take("verify", "a", "/r") for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("verify", "a", "/r") == pytest.approx(2.0)
    now[0] += 2.0
    assert limiter.take("verify", "a", "/r") == 0.0
    assert limiter.take("verify", "b", "/r") == 0.0


def test_access_log_has_no_query_or_personal_data(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ecard.service")
    client.cookies.set("session", SSN)
    client.get(f"/counter?purpose=pharmacy&name={NAME}&ssn={SSN}")
    client.post("/api/verify", json={"code": f"EC1:{SSN}", "purpose": "pharmacy"})
    client.post(
        "/api/applications",
        json={"document_number": SSN, "name": NAME, "phone": "13800138000", "region": "110105"},
    )
    client.post(f"/api/applications/{SSN}/send-code", json={})
    lines = [r.getMessage() for r in caplog.records if r.name == "ecard.service.access"]
    assert lines[0].startswith("GET /counter 200 ") and lines[0].endswith("ms")
    assert lines[1].startswith("POST /api/verify 200 ")
    assert lines[3].startswith("POST /api/applications/{application_id}/send-code 404 ")
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (SSN, NAME, "13800138000", "?", "purpose=", "session"):
        assert secret not in everything, secret


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_real_uvicorn_server(tmp_path: Path) -> None:
    ctx, app = make_app(tmp_path)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            health = http.get("/api/health")
            assert health.status_code == 200 and health.json()["demo"] is True
            assert_headers(health)
            page = http.get("/counter?lang=en")
            assert page.status_code == 200 and "Counter" in page.text
            from tests.service_support import bound_presenter
            from tests.test_service_api import CARD

            code = bound_presenter(ctx, CARD).present("pharmacy")
            assert http.post("/api/verify", json={"code": code}).json()["code"] == "OK"
            assert http.post("/api/verify", json={"code": code}).json()["code"] == "REPLAYED"

            def chunks() -> Iterator[bytes]:
                for _ in range(40):
                    yield b"A" * 4096

            streamed = http.post(
                "/api/verify", content=chunks(), headers={"content-type": "application/json"}
            )
            assert streamed.status_code == 413 and error_of(streamed) == "BODY_TOO_LARGE"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
    assert not thread.is_alive()


def test_create_app_twice_is_independent(tmp_path: Path) -> None:
    """Each application has its own limiter: tests and workers do not share buckets."""
    ctx, _ = make_app(tmp_path / "a", limits={"verify_burst": 1, "verify_per_second": 0})
    one, two = TestClient(create_app(ctx)), TestClient(create_app(ctx))
    assert one.post("/api/verify", json={"code": "EC1:"}).status_code == 200
    assert two.post("/api/verify", json={"code": "EC1:"}).status_code == 200
    assert one.post("/api/verify", json={"code": "EC1:"}).status_code == 429


def test_a_crash_is_a_bare_500_with_headers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(tmp_path)[1]

    def boom() -> None:
        raise RuntimeError(f"secret detail {SSN}")

    app.add_api_route("/api/boom", boom)
    caplog.set_level(logging.INFO, logger="ecard.service")
    answer = TestClient(app, raise_server_exceptions=False).get("/api/boom")
    assert answer.status_code == 500 and error_of(answer) == "INTERNAL"
    assert_headers(answer)
    assert SSN not in answer.text and SSN not in caplog.text
    assert "RuntimeError" in caplog.text


def test_a_browser_asking_for_a_page_gets_the_error_as_a_page(tmp_path: Path) -> None:
    app = make_app(tmp_path, limits={"sensitive_burst": 1, "sensitive_per_minute": 0})[1]
    browser = TestClient(app, headers={"accept": "text/html,*/*;q=0.8"})
    missing = browser.get("/no/such/page?x=<script>alert(1)</script>")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert 'data-code="NOT_FOUND"' in missing.text and "页面或资源不存在" in missing.text
    assert "<script>alert" not in missing.text
    assert_headers(missing)
    english = browser.get("/counter?purpose=casino", headers={"accept-language": "en-GB"})
    assert english.status_code == 404 and "this counter does not serve that purpose" in english.text
    big = browser.post("/apply/photo", content=b"\0" * (7 << 20))
    assert big.status_code == 413 and 'data-code="BODY_TOO_LARGE"' in big.text
    assert "演示签发机构" in big.text  # the demo banner on every page
    browser.post("/clerk/login", data={"user": "x"})
    limited = browser.post("/clerk/login", data={"user": "x"})
    assert limited.status_code == 429 and 'data-code="RATE_LIMITED"' in limited.text
    assert int(limited.headers["retry-after"]) >= 1
    api = browser.get("/api/nope")
    assert api.status_code == 404 and api.json()["error"] == "NOT_FOUND"  # APIs stay JSON
