"""The wallet pages (``/wallet``, ``/wallet/<purpose>``) and their JSON API (``/wallet/api/...``).

Contract: the holder's device keys live in the browser (WebCrypto, non-extractable, kept in
IndexedDB); this module never sees a private key. It serves the page, the service worker and
the web app manifest, the server's time (the page's clock), and three enrolment steps that
translate HTTP to the workflow registry: ``send-code`` (a one-time code to the card's phone),
``challenge`` (code and PIN checked, one nonce per credential profile) and ``enrol`` (one
signed enrolment request per profile, :mod:`ecard.formats.presentation` layout, answered with
the bound credentials). Every decision stays in the registry and :mod:`ecard.signing.binding`.

The API takes ``Content-Type: application/json`` only (a cross-site form cannot send it without
a CORS preflight, which this origin never grants) and answers errors as
``{"ok": false, "error": CODE, "message": ..., "message_zh": ...}`` with the library's stable
code (the workflow's where a workflow step refused). Messages never carry an ID number or name.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar, cast

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecard.errors import EcardError
from ecard.formats.credential import IssuedCard
from ecard.formats.presentation import PURPOSES
from ecard.holder.wallet import REFRESH_SECONDS
from ecard.service.context import ServiceContext
from ecard.service.templating import render
from ecard.workflow.errors import WorkflowError

#: The static folder of the wallet's scripts (service worker, manifest).
WALLET_STATIC: Final = Path(__file__).resolve().parent.parent / "static" / "wallet"
#: The credential profile each purpose page presents: the full card only for identity checks.
PURPOSE_PROFILE: Final = {
    "identity": "full",
    "treatment": "counter",
    "pharmacy": "counter",
    "payment": "counter",
}
#: The profiles a wallet enrols, each with its own device key.
PROFILES: Final = ("full", "counter")
#: Largest JSON body the wallet API reads (two enrolment requests fit in 2 KiB).
MAX_JSON: Final = 16 * 1024

#: Service-level codes of the wallet API, with their (en, zh) messages.
API_MESSAGES: Final = {
    "UNSUPPORTED_MEDIA_TYPE": (
        "send the request as JSON (Content-Type: application/json)",
        "请以 JSON 格式发送请求（Content-Type: application/json）",
    ),
    "BAD_REQUEST": (
        "the request is not valid JSON of the expected shape",
        "请求不是预期格式的 JSON",
    ),
    "TOO_LARGE": ("the request is too large", "请求过大"),
}


class EnrolmentDesk(Protocol):
    """The registry's enrolment steps the wallet API calls (ecard.workflow.steps.Registry)."""

    def send_card_code(self, card_number: str, *, actor: str = "online") -> None:
        """A one-time code to the card's phone."""

    def enrolment_challenge(
        self,
        card_number: str,
        code: str,
        pin: str,
        *,
        profiles: Sequence[str] = ("full", "counter"),
        actor: str = "online",
    ) -> dict[str, bytes]:
        """One fresh nonce per profile after the code and PIN are checked."""

    def enrol_device(
        self, card_number: str, requests: Mapping[str, bytes], *, actor: str = "online"
    ) -> dict[str, IssuedCard]:
        """The bound credentials for one enrolment request per profile."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SendCodeRequest(_Body):
    """``POST /wallet/api/send-code``."""

    card_number: str = Field(min_length=1, max_length=32, description="the card number")


class ChallengeRequest(_Body):
    """``POST /wallet/api/challenge``: the one-time code and the card's PIN."""

    card_number: str = Field(min_length=1, max_length=32)
    code: str = Field(min_length=1, max_length=16, description="the one-time code sent")
    pin: str = Field(min_length=1, max_length=32, description="the card's query PIN")
    profiles: list[str] = Field(default=list(PROFILES), min_length=1, max_length=2)


class EnrolRequest(_Body):
    """``POST /wallet/api/enrol``: base64 enrolment requests by profile."""

    card_number: str = Field(min_length=1, max_length=32)
    requests: dict[str, str] = Field(min_length=1, max_length=2)


class BoundCredential(BaseModel):
    """One bound credential as the page stores it."""

    text: str = Field(description="the EC1: text of the bound card (never shown as a QR)")
    cose: str = Field(description="base64 of the card's COSE_Sign1 bytes (kcwt)")
    profile: str


_M = TypeVar("_M", bound=BaseModel)


def error_body(code: str, en: str, zh: str, status: int) -> JSONResponse:
    """The API's error answer."""
    body = {"ok": False, "error": code, "message": en, "message_zh": zh}
    return JSONResponse(body, status_code=status)


def _api_error(code: str, status: int) -> JSONResponse:
    en, zh = API_MESSAGES[code]
    return error_body(code, en, zh, status)


def library_error(exc: EcardError) -> JSONResponse:
    """A library or workflow refusal as an API error (422: the request was understood)."""
    code = exc.workflow_code.value if isinstance(exc, WorkflowError) else exc.code.value
    return error_body(code, exc.message("en"), exc.message("zh"), 422)


async def read_json(request: Request, model: type[_M]) -> _M | JSONResponse:
    """The body as ``model``, or the error answer (media type, size, shape)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        return _api_error("UNSUPPORTED_MEDIA_TYPE", 415)
    raw = await request.body()
    if len(raw) > MAX_JSON:
        return _api_error("TOO_LARGE", 413)
    try:
        return model.model_validate(json.loads(raw))
    except (ValueError, ValidationError):
        return _api_error("BAD_REQUEST", 400)


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def _b64(data: str) -> bytes:
    return base64.b64decode(data.encode("ascii"), validate=True)


def router(ctx: ServiceContext) -> APIRouter:
    """The wallet routes."""
    r = APIRouter(tags=["wallet"])

    def desk() -> EnrolmentDesk:
        return cast(EnrolmentDesk, ctx.registry)

    def page(purpose: str | None) -> Callable[[Request], Response]:
        def show(request: Request) -> Response:
            return render(
                request,
                ctx,
                "wallet.html",
                purpose=purpose,
                profile=PURPOSE_PROFILE.get(purpose or "", ""),
                purposes=sorted(PURPOSES),
                profiles=PROFILES,
                refresh=REFRESH_SECONDS,
            )

        return show

    r.add_api_route("/wallet", page(None), methods=["GET"], include_in_schema=False)
    for purpose in sorted(PURPOSES):
        r.add_api_route(
            f"/wallet/{purpose}", page(purpose), methods=["GET"], include_in_schema=False
        )

    @r.get("/wallet/sw.js", include_in_schema=False)
    def service_worker() -> Response:
        """The service worker, allowed to control every wallet page (scope ``/wallet``)."""
        return FileResponse(
            WALLET_STATIC / "sw.js",
            media_type="text/javascript",
            headers={"Service-Worker-Allowed": "/wallet", "Cache-Control": "no-cache"},
        )

    @r.get("/wallet/api/time")
    def server_time() -> dict[str, object]:
        """The server's time (seconds since the epoch): the wallet page's clock."""
        return {"ok": True, "now": ctx.clock().timestamp()}

    @r.post("/wallet/api/send-code", openapi_extra=_schema(SendCodeRequest))
    async def send_code(request: Request) -> Response:
        """Send a one-time code to the phone of the card's holder."""
        body = await read_json(request, SendCodeRequest)
        if isinstance(body, Response):
            return body
        try:
            desk().send_card_code(body.card_number, actor="online")
        except EcardError as exc:
            return library_error(exc)
        return JSONResponse({"ok": True})

    @r.post("/wallet/api/challenge", openapi_extra=_schema(ChallengeRequest))
    async def challenge(request: Request) -> Response:
        """Check the code and the PIN; one fresh enrolment nonce (base64) per profile."""
        body = await read_json(request, ChallengeRequest)
        if isinstance(body, Response):
            return body
        try:
            nonces = desk().enrolment_challenge(
                body.card_number, body.code, body.pin, profiles=tuple(body.profiles)
            )
        except EcardError as exc:
            return library_error(exc)
        encoded = {p: base64.b64encode(n).decode("ascii") for p, n in nonces.items()}
        return JSONResponse({"ok": True, "nonces": encoded})

    @r.post("/wallet/api/enrol", openapi_extra=_schema(EnrolRequest))
    async def enrol(request: Request) -> Response:
        """Bind one credential per profile to the device key its enrolment request carries."""
        body = await read_json(request, EnrolRequest)
        if isinstance(body, Response):
            return body
        try:
            requests = {p: _b64(v) for p, v in body.requests.items()}
        except (binascii.Error, ValueError):
            return _api_error("BAD_REQUEST", 400)
        try:
            issued = desk().enrol_device(body.card_number, requests)
        except EcardError as exc:
            return library_error(exc)
        cards = {
            p: BoundCredential(
                text=card.text, cose=base64.b64encode(card.cose).decode("ascii"), profile=p
            ).model_dump()
            for p, card in issued.items()
        }
        return JSONResponse({"ok": True, "cards": cards})

    return r


__all__ = [
    "API_MESSAGES",
    "MAX_JSON",
    "PROFILES",
    "PURPOSE_PROFILE",
    "WALLET_STATIC",
    "BoundCredential",
    "ChallengeRequest",
    "EnrolRequest",
    "EnrolmentDesk",
    "SendCodeRequest",
    "error_body",
    "library_error",
    "read_json",
    "router",
]
