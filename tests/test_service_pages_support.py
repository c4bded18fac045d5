"""What the page tests share: a service on a real store with real keys, a browser-like client
per person, form helpers that read the CSRF token from the page like a browser would."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from tests.conftest import T0

from ecard.service.accounts import mainland_mobile
from ecard.service.app import create_app
from ecard.service.auth import create_user
from ecard.service.config import ServiceConfig
from ecard.service.context import ServiceContext, build_context, running_clock
from ecard.service.pages.applicant import registration_key

RESIDENT = "11010519491231002X"
OTHER = "110105198001010016"
PHONE = "13800138000"
PASSWORD = "correct horse battery"


@dataclass
class Clock:
    """A clock the test moves."""

    now: dt.datetime = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += dt.timedelta(**kw)


@dataclass
class Service:
    """A running app and its context; ``client()`` opens a new browser."""

    ctx: ServiceContext
    clients: list[TestClient] = field(default_factory=list)

    def client(self, *, base_url: str = "http://testserver") -> TestClient:
        c = TestClient(create_app(self.ctx), base_url=base_url)
        self.clients.append(c)
        return c

    def staff(self, name: str, *roles: str) -> TestClient:
        create_user(self.ctx, name, PASSWORD, roles=roles)
        c = self.client()
        r = post(c, "/clerk/login", "/clerk/login", username=name, password=PASSWORD)
        assert r.status_code == 303, r.text
        return c


def service(
    tmp_path: Path,
    clock: Callable[[], dt.datetime] | None = None,
    db_url: str | None = None,
    **extra: str,
) -> Service:
    config = ServiceConfig(data_dir=tmp_path / "svc", db_url=db_url, extra=dict(extra))
    return Service(build_context(config, clock=clock or running_clock(T0)))


def token(html: str, form_id: str | None = None) -> str:
    """The CSRF token of the form ``form_id`` (or the first form) on the page."""
    if form_id is not None:
        start = html.index(f'id="{form_id}"')
        html = html[start:]
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def post(
    c: TestClient,
    page_url: str,
    action: str,
    form_id: str | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    **fields: str,
) -> object:
    """Open ``page_url``, fill the form and send it to ``action`` (redirects not followed)."""
    page = c.get(page_url)
    assert page.status_code == 200, page.text
    data = {"csrf_token": token(page.text, form_id), **fields}
    return c.post(action, data=data, files=files, follow_redirects=False)


def codes(html: str) -> list[str]:
    """The refusal codes a page shows."""
    return re.findall(r'data-code="([A-Z_]+)"', html)


def picture(fmt: str = "PNG", size: tuple[int, int] = (96, 128)) -> bytes:
    image = Image.new("RGB", size, (200, 120, 40))
    for x in range(0, size[0], 4):
        image.putpixel((x, x % size[1]), (x % 256, 0, 255 - x % 256))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (6000, 6000)).save(out, format="PNG")  # 36 Mpixels in a few kilobytes
    return out.getvalue()


INFO = {
    "document_type": "1",
    "document_number": RESIDENT,
    "name": "张三丰",
    "region": "110105",
    "phone": PHONE,
    "consent_personal": "1",
    "consent_photo": "1",
}


def register(c: TestClient, phone: str = PHONE) -> None:
    """Register ``phone`` and confirm it with the code the outbox received for it: signed in."""
    r = post(
        c, "/apply/register", "/apply/register", phone=phone, password=PASSWORD, password2=PASSWORD
    )
    assert r.status_code == 200 and 'id="register-code-form"' in r.text, r.text
    r = confirm_registration(c, r.text, phone, registration_code(c, phone))
    assert r.status_code == 303 and r.headers["location"] == "/apply/form", r.text


def registration_code(c: TestClient, phone: str = PHONE) -> str:
    """The last registration code the outbox of the client's service received for ``phone``."""
    ctx: ServiceContext = c.app.state.ctx  # type: ignore[attr-defined]
    return ctx.outbox.last_code(registration_key(mainland_mobile(phone)))


def confirm_registration(c: TestClient, page: str, phone: str, code: str) -> Any:
    """Send the code form of the registration ``page``."""
    data = {"csrf_token": token(page, "register-code-form"), "phone": phone, "code": code}
    return c.post("/apply/register/confirm", data=data, follow_redirects=False)


def apply_online(svc: Service, c: TestClient, **info: str) -> str:
    """Register, fill in the form, upload the photo, bind the phone, liveness, send: the
    application id."""
    register(c, info.get("phone", PHONE))
    r = post(c, "/apply/form", "/apply/form", **{**INFO, **info})
    assert r.status_code == 303, codes(r.text)
    steps = c.get("/apply/steps").text
    app_id = re.search(r'id="app-id">([0-9a-f]{32})<', steps).group(1)
    r = post(
        c,
        "/apply/steps",
        "/apply/photo",
        "photo-form",
        files={"photo": ("id.png", picture(), "image/png")},
    )
    assert r.status_code == 303, codes(r.text)
    assert post(c, "/apply/steps", "/apply/send-code", "send-code-form").status_code == 303
    code = svc.ctx.outbox.last_code(app_id)
    r = post(c, "/apply/steps", "/apply/check-code", "check-code-form", code=code)
    assert r.status_code == 303, codes(r.text)
    assert post(c, "/apply/steps", "/apply/liveness", "liveness-form").status_code == 303
    r = post(c, "/apply/steps", "/apply/submit", "submit-form")
    assert r.status_code == 303 and r.headers["location"] == "/apply/status", codes(r.text)
    return app_id
