"""The counter page: bilingual, no inline script, nothing from elsewhere; and in a real
headless Chromium (Debian's, driven by Playwright) against a real uvicorn server: a scan typed
into the input with Enter gives a green verdict with the masked fields, the same code again a
red REPLAYED one, focus stays on the input, and the page asks nothing of any other origin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.browser.support import CHROMIUM_FLAGS, chromium_path, served_app
from tests.service_support import bound_presenter, make_app
from tests.service_threads import in_thread
from tests.test_service_api import CARD, NAME

from ecard.service.app import STATIC
from ecard.service.context import ServiceContext


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(make_app(tmp_path)[1])


def test_page_languages_and_purposes(client: TestClient) -> None:
    zh = client.get("/counter")
    assert zh.status_code == 200 and 'lang="zh-CN"' in zh.text
    assert "验码窗口" in zh.text and "药店购药" in zh.text and "演示签发机构" in zh.text
    en = client.get("/counter?purpose=identity&lang=en")
    assert 'lang="en"' in en.text and "Identity check" in en.text
    assert 'data-purpose="identity"' in en.text
    for element in ('id="scan"', 'id="verdict"', 'id="verdict-fields"', 'id="new-challenge"'):
        assert element in en.text
    unknown = client.get("/counter?purpose=casino")
    assert unknown.status_code == 404 and unknown.json()["error"] == "PURPOSE_NOT_SERVED"


def test_purpose_is_escaped_and_no_inline_script(client: TestClient) -> None:
    page = client.get("/counter?lang=en").text
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts == ['<script src="/static/counter/counter.js" defer>']
    assert "<script>" not in page and " on" not in re.sub(r"\s+", " ", page).replace(" only", "")
    assert "style=" not in page
    hostile = client.get('/counter?purpose="><script>alert(1)</script>')
    assert hostile.status_code == 404 and "<script>" not in hostile.text


def test_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get("/counter").text
    assets = [STATIC / "counter" / "counter.js", STATIC / "counter" / "counter.css"]
    for text in (page, *(p.read_text() for p in assets)):
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text), "external resource"
    js = (STATIC / "counter" / "counter.js").read_text()
    assert "innerHTML" not in js and "eval(" not in js and '"/api/verify"' in js


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServiceContext, str]]:
    ctx, app = make_app(tmp_path)
    with served_app(app) as base:
        yield ctx, base


def test_counter_in_a_real_browser(served: tuple[ServiceContext, str]) -> None:
    in_thread(lambda: _counter_in_a_real_browser(*served))


def _counter_in_a_real_browser(ctx: ServiceContext, base: str) -> None:
    from playwright.sync_api import sync_playwright

    presenter = bound_presenter(ctx, CARD)
    requests: list[str] = []
    problems: list[str] = []
    with sync_playwright() as pw:
        path = chromium_path()
        assert path is not None, "tests/conftest.py stops the run when Chromium is missing"
        browser = pw.chromium.launch(executable_path=path, args=list(CHROMIUM_FLAGS))
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
            )
            page.goto(f"{base}/counter?purpose=pharmacy&lang=en")
            page.wait_for_function("() => document.activeElement?.id === 'scan'", polling=100)

            def scan(text: str, n: int) -> None:
                page.keyboard.type(text)  # a USB scanner is a keyboard
                page.keyboard.press("Enter")
                page.wait_for_selector(f"#counter[data-done='{n}']")

            code = presenter.present("pharmacy")
            scan(code, 1)
            verdict = page.locator("#verdict")
            assert verdict.get_attribute("class") == "verdict ok"
            assert verdict.get_attribute("data-code") == "OK"
            assert page.locator("#verdict-word").inner_text() == "VALID"
            assert page.locator("dd[data-field='name']").inner_text() == "张*丰"
            assert page.locator("dd[data-field='card_number']").inner_text() == "A1*****78"
            assert "compare the name" in page.locator("#verdict-action").inner_text()
            assert NAME not in page.content()
            assert page.input_value("#scan") == ""
            assert page.evaluate("document.activeElement.id") == "scan"

            page.mouse.click(5, 5)  # staff click elsewhere: focus comes back
            page.wait_for_function("() => document.activeElement?.id === 'scan'", polling=100)
            scan(code, 2)
            assert verdict.get_attribute("class") == "verdict bad"
            assert verdict.get_attribute("data-code") == "REPLAYED"
            assert page.locator("#verdict-word").inner_text() == "INVALID"
            assert "fresh code" in page.locator("#verdict-action").inner_text()

            page.goto(f"{base}/counter?purpose=pharmacy&lang=zh")
            page.wait_for_function("() => document.activeElement?.id === 'scan'", polling=100)
            scan(bound_presenter(ctx, CARD).present("pharmacy"), 1)
            assert page.locator("#verdict-word").inner_text() == "有效"
            assert page.locator("#verdict-action").inner_text().startswith("受理")
        finally:
            browser.close()
    assert requests and all(u.startswith(base + "/") for u in requests), requests
    assert not problems, problems  # no CSP violation, no script error
