"""Pages are Jinja2 templates with autoescaping on, in Chinese by default and English on
request (``?lang=en`` or the ``lang`` cookie, else the browser's Accept-Language, else the
configured default).

:func:`render` is the one way a router answers with a page; every page extends
``base.html``, which shows the demo banner in demo mode and loads no inline script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ecard.service.context import ServiceContext

TEMPLATES: Final = Path(__file__).parent / "templates"

ENV: Final = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def page_lang(request: Request, ctx: ServiceContext) -> str:
    """The page language for ``request``: ``zh`` or ``en``."""
    asked = request.query_params.get("lang") or request.cookies.get("lang")
    if asked in ("zh", "en"):
        return asked
    accept = request.headers.get("accept-language", "").lower()
    if accept.startswith("en"):
        return "en"
    if accept.startswith("zh"):
        return "zh"
    return ctx.config.default_lang


def render(
    request: Request, ctx: ServiceContext, template: str, status_code: int = 200, **values: Any
) -> HTMLResponse:
    """The page ``template`` rendered with ``values`` (and ``lang``, ``demo``, ``request``)."""
    lang = page_lang(request, ctx)
    html = ENV.get_template(template).render(
        request=request, lang=lang, demo=ctx.demo is not None, **values
    )
    return HTMLResponse(html, status_code=status_code)


__all__ = ["ENV", "TEMPLATES", "page_lang", "render"]
