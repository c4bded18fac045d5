"""What the browser tests share: the system Chromium under Playwright, the service on a real
uvicorn in a background thread, and reading a QR code off a screenshot.

Chromium is Debian's (``$ECARD_CHROMIUM``, default ``/usr/bin/chromium``), launched by
Playwright through ``executable_path`` (never a downloaded browser) with the flags below and
a fresh profile; the service is :func:`ecard.service.app.create_app` over
``build_context(ServiceConfig(data_dir=tmp), clock=running_clock(T0))``, so its certificates,
cards and the wallet's clock all start at the fixed instant T0 and advance with the monotonic
clock.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import uvicorn
from PIL import Image
from playwright.sync_api import Page

from ecard.service.app import create_app
from ecard.service.config import ServiceConfig
from ecard.service.context import ServiceContext, build_context, running_clock

#: Chromium's flags: headless, no sandbox (root in a container), nothing phoning home.
CHROMIUM_FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_path() -> str | None:
    """The system Chromium: ``$ECARD_CHROMIUM`` or ``chromium`` on the PATH."""
    path = os.environ.get("ECARD_CHROMIUM") or shutil.which("chromium")
    return path if path and Path(path).is_file() else None


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MovableClock:
    """``running_clock(start)`` that a test can also move forward (past a resend interval, a
    code's lifetime): never back, and never the wall clock."""

    def __init__(self, start: dt.datetime) -> None:
        self._running = running_clock(start)
        self._jump = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return self._running() + self._jump

    def advance(self, seconds: float) -> None:
        """Move the service's time forward by ``seconds``."""
        assert seconds >= 0
        self._jump += dt.timedelta(seconds=seconds)


@dataclass
class RunningService:
    """The service under test: its context, its clock and its address."""

    ctx: ServiceContext
    clock: MovableClock
    base_url: str


@contextmanager
def served_app(app: Any) -> Iterator[str]:
    """``app`` (ASGI) on uvicorn on a free 127.0.0.1 port, in a background thread, until the
    block ends; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="ecard-test-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test service did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve(data_dir: Path, start: dt.datetime) -> Iterator[RunningService]:
    """The service on a free 127.0.0.1 port, in a background thread, until the block ends."""
    clock = MovableClock(start)
    ctx = build_context(ServiceConfig(data_dir=data_dir), clock=clock)
    with served_app(create_app(ctx)) as base_url:
        yield RunningService(ctx, clock, base_url)


def resident_id(serial: int) -> str:
    """A valid citizen ID number (check character computed), a different one per ``serial``."""
    from ecard.identifiers import citizen_id_check_char

    first17 = f"110105194912{serial % 28 + 1:02d}{serial % 1000:03d}"
    return first17 + citizen_id_check_char(first17)


#: The query PIN the issued test cards get.
PIN: Final = "138205"


def issue_card(service: RunningService, resident: str, name: str = "张三丰") -> tuple[str, str]:
    """A card issued through the registry as the online channel does (apply, code from the
    outbox, liveness, review, issue) with :data:`PIN` set: ``(application id, card number)``."""
    from sqlalchemy import select

    from ecard.workflow.steps import CONSENT_PERSONAL, CONSENT_PHOTO
    from ecard.workflow.store import CardRow

    reg = service.ctx.registry
    app = reg.submit(
        channel="online",
        document_type=1,
        document_number=resident,
        name=name,
        phone="13800138000",
        region="110105",
        actor="account:1",
        consents=(CONSENT_PERSONAL, CONSENT_PHOTO),
    )
    reg.send_code(app)
    reg.check_code(app, service.ctx.outbox.last_code(app))
    reg.record_liveness(app, b"liveness evidence")
    reg.review_online(app)
    reg.issue(app, actor="clerk:1")
    with reg.store.session() as session:
        number = session.scalars(
            select(CardRow.card_number).where(CardRow.application_id == app)
        ).one()
    reg.set_pin(number, PIN)
    service.clock.advance(61)  # past the resend interval of the application's code
    return app, number


def read_qr_texts(png: bytes) -> list[str]:
    """Every QR text zxing-cpp finds in a screenshot."""
    import zxingcpp

    image = Image.open(io.BytesIO(png)).convert("L")
    return [
        r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
    ]


def until(page: Page, condition: str, arg: object = None) -> None:
    """Wait until the JavaScript function ``condition`` (of ``arg``) is true in ``page``,
    polled on a timer: Chromium gives a page in the background no animation frames, so waits
    polled on them (Playwright's default) can miss a change there.

    ``condition`` must be a function, not a bare expression: Playwright re-evaluates an
    expression with ``eval`` on each poll, which the pages' CSP (no 'unsafe-eval') refuses
    whenever the first poll is false; a function is compiled once, outside the CSP."""
    assert condition.lstrip().startswith(("(", "async")), "until() takes a function"
    page.wait_for_function(condition, arg=arg, polling=100)


def scan_qr(page: Page) -> str:
    """The one QR code on a screenshot of ``page`` (as a counter's scanner reads it)."""
    texts = read_qr_texts(page.screenshot(full_page=True))
    assert len(texts) == 1, texts
    return texts[0]


def enrol_wallet(page: Page, service: RunningService, number: str, app_id: str) -> None:
    """On the wallet page open in ``page``: enrol this browser for card ``number`` (a code
    sent to the phone of ``app_id``, read from the outbox, and :data:`PIN`)."""
    until(page, "() => document.getElementById('wallet')?.dataset.ready === 'yes'")
    page.fill("#card-number", number)
    page.click("#send-code")
    until(page, "() => !document.getElementById('code-form').hidden")
    page.fill("#code", service.ctx.outbox.last_code(app_id))
    page.fill("#pin", PIN)
    page.click("#enrol-button")
    until(page, "() => document.getElementById('wallet').dataset.enrolled === 'yes'")


def first_code(page: Page, service: RunningService, purpose: str = "pharmacy") -> str:
    """Open the wallet's page for ``purpose`` and read its first code off the screenshot."""
    page.goto(f"{service.base_url}/wallet/{purpose}")
    until(page, "() => document.getElementById('qr').dataset.code !== undefined")
    return scan_qr(page)


def next_code(page: Page, previous: str) -> str:
    """On a purpose page of the wallet: wait for a new second, ask for a new code and read
    it off the screenshot once the page shows it instead of ``previous``."""
    page.bring_to_front()  # the phone is in the holder's hand again
    page.wait_for_timeout(1100)  # a new second: a new presentation
    page.click("#new-code")
    page.wait_for_function(
        "(t) => document.getElementById('qr').dataset.code !== t", arg=previous, polling=100
    )
    return scan_qr(page)


@dataclass
class Counter:
    """The counter page of a pharmacy, on another PC (its own browser profile)."""

    page: Page

    def verdict(self, text: str) -> tuple[str, str]:
        """Type ``text`` into the page as a USB scanner does: (verdict class, code)."""
        self.page.bring_to_front()  # a page in the background gets no animation frames
        done = self.page.get_attribute("#counter", "data-done") or "0"
        self.page.fill("#scan", text)
        self.page.press("#scan", "Enter")
        self.page.wait_for_function(
            "(d) => (document.getElementById('counter').dataset.done || '0') !== d",
            arg=done,
            polling=100,
        )
        verdict = self.page.locator("#verdict")
        return verdict.get_attribute("class") or "", verdict.get_attribute("data-code") or ""
