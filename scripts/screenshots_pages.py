"""Screenshots of the applicant pages and the clerk console for docs/service.md, taken in
Debian's Chromium.

    python scripts/screenshots_pages.py [--out docs/screenshots]

Runs the demo service (a throw-away data folder, the demo issuer, its clock starting at a fixed
instant) on a free 127.0.0.1 port and goes through the pages as people would, in the browser:
an applicant registers, fills in the form (once with a refused document number), uploads a
photo, binds the phone with the code from the demo outbox, passes liveness and sends the
application; a clerk enters a window application; a reviewer approves the online one; a clerk
issues it; the applicant sees the status. One PNG per page, named ``apply-*.png`` and
``clerk-*.png``. Chromium is ``$ECARD_CHROMIUM`` (default ``/usr/bin/chromium``), driven by
Playwright.
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
from pathlib import Path

START = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
DESK = {"width": 1000, "height": 900}
PASSWORD = "demo password 1"  # noqa: S105 (throw-away demo accounts)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (90, 120), (180, 200, 230)).save(out, format="PNG")
    return out.getvalue()


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
    from playwright.sync_api import Page, sync_playwright

    from ecard.service.app import create_app
    from ecard.service.auth import create_user
    from ecard.service.config import ServiceConfig
    from ecard.service.context import build_context, running_clock

    args.out.mkdir(parents=True, exist_ok=True)
    taken: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        ctx = build_context(ServiceConfig(data_dir=Path(tmp)), clock=running_clock(START))
        create_user(ctx, "wang.clerk", PASSWORD, roles=("clerk",))
        create_user(ctx, "li.reviewer", PASSWORD, roles=("reviewer",))
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"

        def shot(page: Page, name: str) -> None:
            page.screenshot(path=str(args.out / f"{name}.png"), full_page=True)
            taken.append(name)

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=os.environ.get("ECARD_CHROMIUM", "/usr/bin/chromium"), args=FLAGS
            )
            applicant = browser.new_context(viewport=DESK, locale="zh-CN").new_page()
            applicant.goto(base + "/apply/register")
            applicant.fill("#phone", "13800138000")
            applicant.fill("#password", PASSWORD)
            applicant.fill("#password2", PASSWORD)
            shot(applicant, "apply-register")
            applicant.click("#register-form button[type=submit]")
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
            applicant.set_input_files(
                "#photo", files=[{"name": "id.png", "mimeType": "image/png", "buffer": _photo()}]
            )
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
                page = browser.new_context(viewport=DESK).new_page()
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
            browser.close()
        server.should_exit = True
        thread.join(timeout=10)
    print("wrote " + ", ".join(taken) + f" to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
