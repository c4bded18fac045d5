"""The counter page: ``GET /counter`` (``?purpose=pharmacy``, ``?lang=en``).

One input a USB scanner types into (``#scan``: focus kept, Enter submits, cleared after each
scan), a big green or red verdict (``#verdict``, class ``ok`` or ``bad``, ``data-code`` the
result code; ``#verdict-fields`` the masked fields, each ``dd`` with ``data-field``; the
staff action in ``#verdict-action``), an optional counter challenge (``#new-challenge``,
shown in ``#challenge``). ``#counter[data-done]`` counts finished scans (for tests).

The page's script (``/static/counter/counter.js``, no inline script) posts each scan to
``POST /api/verify`` on this service, which verifies against the counter's local trust and
revocation lists: the page loads nothing from elsewhere and keeps working with the internet
down. Replays are refused through the shared replay cache file, whatever worker answers.
An unknown or unserved purpose is ``404 PURPOSE_NOT_SERVED``.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ecard.service.context import ServiceContext
from ecard.service.errors import ServiceCode, ServiceError
from ecard.service.templating import page_lang, render

#: Purpose names per language.
PURPOSE_LABELS: Final[dict[str, tuple[str, str]]] = {
    "pharmacy": ("Pharmacy", "药店购药"),
    "treatment": ("Treatment", "就医"),
    "identity": ("Identity check", "身份核验"),
    "payment": ("Payment", "支付结算"),
}


def router(ctx: ServiceContext) -> APIRouter:
    """The counter routes."""
    r = APIRouter(tags=["counter"])
    served = sorted(ctx.config.counter.purposes)

    @r.get("/counter", response_class=HTMLResponse)
    def counter(request: Request, purpose: str | None = None) -> HTMLResponse:
        """The counter page for ``purpose`` (default: the configured one)."""
        chosen = purpose or ctx.config.counter.default_purpose
        if chosen not in served:
            raise ServiceError(ServiceCode.PURPOSE_NOT_SERVED, 404)
        zh = page_lang(request, ctx) == "zh"
        labels = {p: PURPOSE_LABELS[p][1 if zh else 0] for p in served}
        return render(
            request,
            ctx,
            "counter.html",
            purpose=chosen,
            purposes=served,
            labels=labels,
            purpose_label=labels[chosen],
        )

    return r


__all__ = ["PURPOSE_LABELS", "router"]
