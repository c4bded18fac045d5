"""Screenshots of the wallet and counter pages for docs/service.md, taken in Debian's Chromium.

    python scripts/screenshots.py [--out docs/screenshots]

Runs the demo service (a throw-away data folder, the demo issuer, its clock starting at a fixed
instant) on a free 127.0.0.1 port, issues a demo card through the registry, enrols the wallet
page in the browser as a holder would (card number, the code from the demo outbox, the PIN),
and writes one PNG per page: the wallet (enrolment, purposes, the live code for the pharmacy
and, in English, for an identity check) and the counter page (waiting, a green and a red
verdict), named ``wallet-*.png`` and ``counter-*.png``. The applicant pages and the clerk
console have their own script, ``scripts/screenshots_pages.py``. Chromium is
``$ECARD_CHROMIUM`` (default ``/usr/bin/chromium``; ``scripts/system-setup.sh`` installs it),
driven by Playwright.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

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
PHONE = {"width": 412, "height": 860}
DESK = {"width": 1100, "height": 760}
PIN = "138205"
RESIDENT = "11010519491231002X"


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


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots; the exit status is 0 when every page was taken."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("docs/screenshots"),
        help="folder (default: docs/screenshots)",
    )
    args = parser.parse_args(argv)

    import uvicorn
    from playwright.sync_api import sync_playwright
    from sqlalchemy import select

    from ecard.service.app import create_app
    from ecard.service.config import ServiceConfig
    from ecard.service.context import build_context
    from ecard.workflow.steps import CONSENT_PERSONAL, CONSENT_PHOTO
    from ecard.workflow.store import CardRow

    args.out.mkdir(parents=True, exist_ok=True)
    chromium = os.environ.get("ECARD_CHROMIUM", "/usr/bin/chromium")
    with tempfile.TemporaryDirectory() as folder:
        now, advance = _clock(START)
        ctx = build_context(ServiceConfig(data_dir=Path(folder)), clock=now)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"

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

        taken: list[str] = []

        def shot(page: object, name: str) -> None:
            path = args.out / f"{name}.png"
            page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
            taken.append(path.name)

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
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
            browser.close()
        server.should_exit = True
        thread.join(timeout=10)
    print("wrote " + ", ".join(taken) + f" to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
