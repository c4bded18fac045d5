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
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ecard.formats.presentation import PURPOSES
from ecard.holder.wallet import REFRESH_SECONDS
from ecard.service.context import ServiceContext
from ecard.service.errors import ErrorBody, ServiceCode, ServiceError
from ecard.service.templating import render

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


class ServerTime(BaseModel):
    """The server's time, which the wallet page keeps with ``performance.now()``."""

    ok: bool = True
    now: float = Field(description="seconds since the epoch")


class Done(BaseModel):
    """A step that answers nothing but success."""

    ok: bool = True


class Nonces(BaseModel):
    """The enrolment nonces (base64), one per profile."""

    ok: bool = True
    nonces: dict[str, str]


class BoundCredential(BaseModel):
    """One bound credential as the page stores it."""

    text: str = Field(description="the EC1: text of the bound card (never shown as a QR)")
    cose: str = Field(description="base64 of the card's COSE_Sign1 bytes (kcwt)")
    profile: str


class BoundCredentials(BaseModel):
    """The bound credentials by profile."""

    ok: bool = True
    cards: dict[str, BoundCredential]


def require_json(request: Request) -> None:
    """Refuse a body that is not ``Content-Type: application/json`` (415): a cross-site form
    cannot send one without a CORS preflight, which this origin never grants."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise ServiceError(ServiceCode.UNSUPPORTED_MEDIA_TYPE, 415)


def _b64(data: str) -> bytes:
    try:
        return base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError(ServiceCode.INVALID_REQUEST, 422, "requests (base64)") from None


def router(ctx: ServiceContext) -> APIRouter:
    """The wallet routes."""
    r = APIRouter(tags=["wallet"])

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
    def server_time() -> ServerTime:
        """The server's time (seconds since the epoch): the wallet page's clock."""
        return ServerTime(now=ctx.clock().timestamp())

    json_only = [Depends(require_json)]
    refusals: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorBody},
        415: {"model": ErrorBody},
        422: {"model": ErrorBody},
        429: {"model": ErrorBody},
    }

    @r.post("/wallet/api/send-code", dependencies=json_only, responses=refusals)
    def send_code(body: SendCodeRequest) -> Done:
        """Send a one-time code to the phone of the card's holder."""
        ctx.registry.send_card_code(body.card_number, actor="online")
        return Done()

    @r.post("/wallet/api/challenge", dependencies=json_only, responses=refusals)
    def challenge(body: ChallengeRequest) -> Nonces:
        """Check the code and the PIN; one fresh enrolment nonce (base64) per profile."""
        nonces = ctx.registry.enrolment_challenge(
            body.card_number, body.code, body.pin, profiles=tuple(body.profiles), actor="online"
        )
        return Nonces(nonces={p: base64.b64encode(n).decode("ascii") for p, n in nonces.items()})

    @r.post("/wallet/api/enrol", dependencies=json_only, responses=refusals)
    def enrol(body: EnrolRequest) -> BoundCredentials:
        """Bind one credential per profile to the device key its enrolment request carries."""
        requests = {p: _b64(v) for p, v in body.requests.items()}
        issued = ctx.registry.enrol_device(body.card_number, requests, actor="online")
        return BoundCredentials(
            cards={
                p: BoundCredential(
                    text=card.text, cose=base64.b64encode(card.cose).decode("ascii"), profile=p
                )
                for p, card in issued.items()
            }
        )

    return r


__all__ = [
    "PROFILES",
    "PURPOSE_PROFILE",
    "WALLET_STATIC",
    "BoundCredential",
    "BoundCredentials",
    "ChallengeRequest",
    "Done",
    "EnrolRequest",
    "Nonces",
    "SendCodeRequest",
    "ServerTime",
    "require_json",
    "router",
]
