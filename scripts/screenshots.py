"""Screenshots of every page for docs/service.md, taken in Debian's Chromium.

    python scripts/screenshots.py [--out docs/screenshots] [--only pages|wallet]

Runs the demo service (a throw-away data folder, the demo issuer, its clock starting at a fixed
instant) on a free 127.0.0.1 port, once per set, and writes one PNG per page:

* ``pages``: the applicant pages and the clerk console, gone through as people would in the
  browser: an applicant registers, fills in the form (once with a refused document number),
  uploads a photo, binds the phone with the code from the demo outbox, passes liveness and
  sends the application; a clerk enters a window application; a reviewer approves the online
  one; a clerk issues it; the applicant sees the status (``apply-*.png``, ``clerk-*.png``);
* ``wallet``: a demo card issued through the registry, the wallet page enrolled in the browser
  as a holder would (card number, the code from the demo outbox, the PIN): the wallet
  (enrolment, purposes, the live code for the pharmacy and, in English, for an identity
  check) and the counter page (waiting, a green and a red verdict) (``wallet-*.png``,
  ``counter-*.png``).

Both sets unless ``--only`` names one. Chromium is ``$ECARD_CHROMIUM`` (default
``/usr/bin/chromium``; ``scripts/system-setup.sh`` installs it), driven by Playwright.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FilePayload, Page, ViewportSize

    from ecard.service.context import ServiceContext

#: The demo's fixed start (the day the screenshots show).
START = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 412, "height": 860}
#: The desk of the wallet's counter, and of the applicant pages and the console.
DESK: ViewportSize = {"width": 1100, "height": 760}
PAGES_DESK: ViewportSize = {"width": 1000, "height": 900}
PIN = "138205"
RESIDENT = "11010519491231002X"
PASSWORD = "demo password 1"  # noqa: S105 (throw-away demo accounts)
#: A shot: (page, file name without .png).
Shot = Callable[[Any, str], None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clock(start: dt.datetime) -> tuple[Callable[[], dt.datetime], Callable[[float], None]]:
    origin = time.monotonic()
    jump = [0.0]

    def now() -> dt.datetime:
        return start + dt.timedelta(seconds=time.monotonic() - origin + jump[0])

    def advance(seconds: float) -> None:
        jump[0] += seconds

    return now, advance


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (90, 120), (180, 200, 230)).save(out, format="PNG")
    return out.getvalue()


@contextmanager
def running_service(clock: Callable[[], dt.datetime]) -> Iterator[tuple[ServiceContext, str]]:
    """The demo service in a throw-away folder on a free port: (context, base URL)."""
    import uvicorn

    from ecard.service.app import create_app
    from ecard.service.config import ServiceConfig
    from ecard.service.context import build_context

    with tempfile.TemporaryDirectory() as folder:
        ctx = build_context(ServiceConfig(data_dir=Path(folder)), clock=clock)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            yield ctx, f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium (``$ECARD_CHROMIUM``) under Playwright, with :data:`FLAGS`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=os.environ.get("ECARD_CHROMIUM", "/usr/bin/chromium"), args=FLAGS
        )
        try:
            yield browser
        finally:
            browser.close()


def pages(shot: Shot) -> None:
    """The applicant pages and the clerk console (``apply-*``, ``clerk-*``)."""
    from ecard.service.auth import create_user
    from ecard.service.context import running_clock
    from ecard.service.pages.applicant import registration_key

    with running_service(running_clock(START)) as (ctx, base), chromium() as browser:
        create_user(ctx, "wang.clerk", PASSWORD, roles=("clerk",))
        create_user(ctx, "li.reviewer", PASSWORD, roles=("reviewer",))
        applicant = browser.new_context(viewport=PAGES_DESK, locale="zh-CN").new_page()
        applicant.goto(base + "/apply/register")
        applicant.fill("#phone", "13800138000")
        applicant.fill("#password", PASSWORD)
        applicant.fill("#password2", PASSWORD)
        shot(applicant, "apply-register")
        applicant.click("#register-form button[type=submit]")
        applicant.wait_for_selector("#register-code-form")
        applicant.fill("#code", ctx.outbox.last_code(registration_key("+8613800138000")))
        applicant.click("#register-code-form button[type=submit]")
        applicant.wait_for_url("**/apply/form")
        applicant.fill("#document_number", "110105194912310021")
        applicant.fill("#name", "张三丰")
        applicant.fill("#region", "110105")
        applicant.fill("#phone", "13800138000")
        applicant.check("#consent_personal")
        applicant.check("#consent_photo")
        applicant.click("#info-form button[type=submit]")
        applicant.wait_for_selector("#error-document_number")
        shot(applicant, "apply-form-refused")
        applicant.fill("#document_number", "11010519491231002X")
        applicant.click("#info-form button[type=submit]")
        applicant.wait_for_url("**/apply/steps")
        app_id = applicant.inner_text("#app-id")
        photo: FilePayload = {"name": "id.png", "mimeType": "image/png", "buffer": _photo()}
        applicant.set_input_files("#photo", files=[photo])
        applicant.click("#photo-form button[type=submit]")
        applicant.wait_for_url("**/apply/steps")
        applicant.click("#send-code-form button[type=submit]")
        applicant.wait_for_url("**/apply/steps")
        applicant.fill("#code", ctx.outbox.last_code(app_id))
        shot(applicant, "apply-steps")
        applicant.click("#check-code-form button[type=submit]")
        applicant.wait_for_url("**/apply/steps")
        applicant.click("#liveness-form button[type=submit]")
        applicant.wait_for_url("**/apply/steps")
        applicant.click("#submit-form button[type=submit]")
        applicant.wait_for_url("**/apply/status")

        def staff(name: str, lang: str) -> Page:
            page = browser.new_context(viewport=PAGES_DESK).new_page()
            page.goto(base + f"/clerk/login?lang={lang}")
            page.fill("#username", name)
            page.fill("#password", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_url("**/clerk/queue")
            return page

        clerk = staff("wang.clerk", "zh")
        clerk.goto(base + "/clerk/window")
        clerk.fill("#document_number", "110105198001010016")
        clerk.fill("#name", "李四")
        clerk.fill("#region", "110105")
        clerk.fill("#phone", "13900139000")
        clerk.check("#consent_personal")
        shot(clerk, "clerk-window")
        clerk.click("#window-form button[type=submit]")
        clerk.wait_for_url("**/clerk/applications/*")
        reviewer = staff("li.reviewer", "en")
        reviewer.goto(base + "/clerk/queue")
        shot(reviewer, "clerk-queue-en")
        reviewer.goto(base + f"/clerk/applications/{app_id}")
        reviewer.click("#approve")
        reviewer.wait_for_selector("#app-state[data-state=approved]")
        clerk.goto(base + f"/clerk/applications/{app_id}")
        clerk.click("#issue-form button[type=submit]")
        clerk.wait_for_selector("#card-state[data-state=normal]")
        shot(clerk, "clerk-application")
        clerk.click("#card-number")
        clerk.wait_for_url("**/clerk/cards/*")
        shot(clerk, "clerk-card")
        applicant.goto(base + "/apply/status")
        shot(applicant, "apply-status-issued")


def wallet(shot: Shot) -> None:
    """The wallet and the counter page (``wallet-*``, ``counter-*``)."""
    from sqlalchemy import select

    from ecard.workflow.steps import CONSENT_PERSONAL, CONSENT_PHOTO
    from ecard.workflow.store import CardRow

    now, advance = _clock(START)
    with running_service(now) as (ctx, base), chromium() as browser:
        reg = ctx.registry
        app = reg.submit(
            channel="online",
            document_type=1,
            document_number=RESIDENT,
            name="张三丰",
            phone="13800138000",
            region="110105",
            actor="account:1",
            consents=(CONSENT_PERSONAL, CONSENT_PHOTO),
        )
        reg.send_code(app)
        reg.check_code(app, ctx.outbox.last_code(app))
        reg.record_liveness(app, b"demo liveness")
        reg.review_online(app)
        reg.issue(app, actor="clerk:demo")
        with reg.store.session() as session:
            number = session.scalars(
                select(CardRow.card_number).where(CardRow.application_id == app)
            ).one()
        reg.set_pin(number, PIN)
        advance(61)
        phone = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=1)
        wallet = phone.new_page()
        wallet.goto(base + "/wallet")
        wallet.wait_for_selector("#wallet[data-ready=yes]", state="attached")
        wallet.fill("#card-number", number)
        wallet.click("#send-code")
        wallet.wait_for_selector("#code-form", state="visible")
        wallet.fill("#code", ctx.outbox.last_code(app))
        shot(wallet, "wallet-enrol")
        wallet.fill("#pin", PIN)
        wallet.click("#enrol-button")
        wallet.wait_for_selector("#wallet[data-enrolled=yes]", state="attached")
        shot(wallet, "wallet-menu")
        wallet.goto(base + "/wallet/pharmacy")
        wallet.wait_for_selector("#qr[data-code]", state="attached")
        wallet.wait_for_timeout(1200)
        shot(wallet, "wallet-pharmacy")
        code = wallet.get_attribute("#qr", "data-code") or ""
        wallet.goto(base + "/wallet/identity?lang=en")
        wallet.wait_for_selector("#qr[data-code]", state="attached")
        shot(wallet, "wallet-identity-en")

        desk = browser.new_context(viewport=DESK, locale="zh-CN")
        counter = desk.new_page()
        if counter.goto(base + "/counter?purpose=pharmacy").ok:  # type: ignore[union-attr]
            shot(counter, "counter-idle")
            for suffix in ("ok", "replayed"):
                done = counter.get_attribute("#counter", "data-done") or "0"
                counter.fill("#scan", code)
                counter.press("#scan", "Enter")
                counter.wait_for_function(
                    "(d) => (document.getElementById('counter').dataset.done || '0') !== d",
                    arg=done,
                    polling=100,
                )
                shot(counter, f"counter-{suffix}")


#: The sets of pages, by name.
SETS = {"pages": pages, "wallet": wallet}


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots; the exit status is 0 when every page was taken."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("docs/screenshots"),
        help="folder (default: docs/screenshots)",
    )
    parser.add_argument(
        "--only", choices=sorted(SETS), help="take only this set (default: every set)"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    taken: list[str] = []

    def shot(page: Page, name: str) -> None:
        path = args.out / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path.name)

    for name, take in SETS.items():
        if args.only in (None, name):
            take(shot)
    print("wrote " + ", ".join(taken) + f" to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
