"""Playwright fixtures: one system Chromium for the browser tests (package scope: Playwright's
sync API keeps an event loop running on the main thread while it is open, and the rest of the
suite calls asyncio.run, so it closes when this package's tests end), one service per test module, a
fresh browser context (profile: storage, IndexedDB, service workers) per test, and the counter
page of a pharmacy in a profile of its own (another PC) per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from tests.browser.support import CHROMIUM_FLAGS, Counter, RunningService, chromium_path, serve
from tests.conftest import T0


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium (checked by tests/conftest.py before the run), never a downloaded one."""
    path = chromium_path()
    assert path is not None, "tests/conftest.py stops the run when Chromium is missing"
    browser = playwright.chromium.launch(executable_path=path, args=list(CHROMIUM_FLAGS))
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with serve(Path(tmp_path_factory.mktemp("service")), T0) as running:
        yield running


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile: no storage, no IndexedDB, no service worker from another test."""
    ctx = browser.new_context(viewport={"width": 412, "height": 915}, locale="zh-CN")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    p = context.new_page()
    p.set_default_timeout(15_000)
    return p


@pytest.fixture
def counter(browser: Browser, service: RunningService) -> Iterator[Counter]:
    """The pharmacy's counter page in a profile of its own (another PC), closed after the
    test."""
    ctx = browser.new_context(locale="zh-CN")
    page = ctx.new_page()
    page.goto(service.base_url + "/counter?purpose=pharmacy")
    yield Counter(page)
    ctx.close()
