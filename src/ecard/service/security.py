"""The HTTP security layer every request and response passes through.

One ASGI middleware (:class:`SecurityLayer`, outermost in the application) does, in order:

* **rate limits**: a token bucket per client address and route for what is worth guessing or
  flooding (:data:`RATE_RULES`: sending one-time codes, signing in, verifying); an empty
  bucket is ``429 RATE_LIMITED`` with ``Retry-After`` (seconds);
* **JSON content type**: a ``POST``/``PUT``/``PATCH``/``DELETE`` under ``/api/`` must say
  ``Content-Type: application/json`` (``415``), which a cross-site HTML form cannot send
  without a CORS preflight this service never grants: the JSON API's CSRF defence;
* **body size**: at most ``limits.max_body`` bytes (64 KiB), ``limits.max_photo_body`` (6 MiB)
  for ``POST /apply/photo``; a declared ``Content-Length`` above it is refused before reading,
  and the bytes are counted while they are read, so an absent or lying length does not get
  past it (``413 BODY_TOO_LARGE``);
* **security headers** on every response, errors and static files included: a strict
  Content-Security-Policy (no inline script or style, no third-party origin), ``nosniff``,
  no referrer, no framing; and ``Cache-Control: no-store`` on every answer but the static
  files and those that set their own (the signed lists), so no page or result with a
  holder's (masked) data stays in a shared cache or the browser's;
* **access log**: one line per request on the ``ecard.service.access`` logger: method, the
  route's *template* (``/api/applications/{application_id}/send-code``, never the identifiers
  in it) or, off the routes, the path, **never the query string**, the status and the time
  taken. Never a body, a query, a cookie, a header or the client's address;
* a crash inside the application is a ``500 INTERNAL`` JSON body with the headers (the
  exception's type is logged, not its message).

Its refusals are the JSON error bodies of :mod:`ecard.service.errors`, or the same code and
messages as a page (``error.html``) when a browser asks for a page outside the APIs.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecard.service.config import Limits
from ecard.service.context import ServiceContext
from ecard.service.errors import SERVICE_MESSAGES, BodyTooLarge, ServiceCode, route_name

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
_RAW_HEADERS: Final = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]

#: The access log (one line per request, no personal data).
ACCESS_LOG: Final = logging.getLogger("ecard.service.access")
LOG: Final = logging.getLogger("ecard.service")

#: The path whose body may be as large as ``limits.max_photo_body``.
PHOTO_PATH: Final = "/apply/photo"
#: Prefix of the static files (the only answers that may be cached without saying so).
STATIC_PREFIX: Final = "/static/"
#: Prefix of the JSON API (content type required on state-changing methods).
API_PREFIX: Final = "/api/"
#: Most buckets kept (client address x route); the fullest are dropped first past it.
MAX_BUCKETS: Final = 50_000

#: ``(method, test on the path, bucket class)``: the rate-limited routes.
RATE_RULES: Final[tuple[tuple[str, Callable[[str], bool], str], ...]] = (
    ("POST", lambda p: p == "/apply/send-code", "sensitive"),
    ("POST", lambda p: p == "/apply/register", "sensitive"),
    ("POST", lambda p: p == "/wallet/api/send-code", "sensitive"),
    ("POST", lambda p: p == "/clerk/login", "sensitive"),
    ("POST", lambda p: p.startswith("/api/") and p.endswith("send-code"), "sensitive"),
    ("POST", lambda p: p.startswith("/api/verify"), "verify"),
)

_STATE_CHANGING: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Token buckets keyed by (client address, route): ``burst`` tokens, refilled at ``rate``
    per second; thread-safe, bounded in memory (:data:`MAX_BUCKETS`)."""

    def __init__(
        self,
        rules: dict[str, tuple[int, float]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rules = rules
        self._clock = clock
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, kind: str, client: str, route: str) -> float:
        """Take one token; ``0`` if granted, else the seconds until one is available."""
        burst, rate = self._rules[kind]
        now = self._clock()
        key = (client, route)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(burst), now)
                if len(self._buckets) > MAX_BUCKETS:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
                bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.stamp) * rate)
                bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate if rate > 0 else 3600.0


def limiter_for(limits: Limits) -> RateLimiter:
    """The rate limiter the configured ``limits`` describe."""
    return RateLimiter(
        {
            "sensitive": (limits.sensitive_burst, limits.sensitive_per_minute / 60.0),
            "verify": (limits.verify_burst, float(limits.verify_per_second)),
        }
    )


def _error_body(code: ServiceCode, detail: str = "", detail_zh: str = "") -> bytes:
    en = SERVICE_MESSAGES.message(code, "en", detail)
    zh = SERVICE_MESSAGES.message(code, "zh", detail, detail_zh)
    return json.dumps(
        {"ok": False, "error": code.value, "message": en, "message_zh": zh}, ensure_ascii=False
    ).encode()


class SecurityLayer:
    """The ASGI middleware described in the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Limits,
        limiter: RateLimiter | None = None,
        demo: bool = False,
        default_lang: str = "zh",
    ) -> None:
        self.app = app
        self.limits = limits
        self.limiter = limiter or limiter_for(limits)
        self.demo = demo
        self.default_lang = default_lang

    def _page(self, scope: Scope, body: bytes) -> bytes | None:
        """The refusal as a page when a browser asked for a page (else ``None``: JSON)."""
        headers = dict(scope.get("headers", []))
        accept = headers.get(b"accept", b"").decode("latin-1")
        path = scope.get("path", "")
        if "/api/" in path or "text/html" not in accept or "application/json" in accept:
            return None
        from ecard.service.errors import ErrorBody
        from ecard.service.templating import ENV

        languages = headers.get(b"accept-language", b"").decode("latin-1").lower()
        lang = (
            "en"
            if languages.startswith("en")
            else "zh"
            if languages.startswith("zh")
            else self.default_lang
        )
        error = ErrorBody.model_validate_json(body)
        html = ENV.get_template("error.html").render(lang=lang, demo=self.demo, error=error)
        return html.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method: str = scope["method"]
        path: str = scope["path"]
        status = {"code": 0}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((k, v) for k, v in _RAW_HEADERS if k not in names),
                ]
                if b"cache-control" not in names and not path.startswith(STATIC_PREFIX):
                    message["headers"].append((b"cache-control", b"no-store"))
            await send(message)

        async def refuse(
            code: ServiceCode,
            http: int,
            detail: str = "",
            extra: tuple[tuple[bytes, bytes], ...] = (),
            detail_zh: str = "",
        ) -> None:
            body = _error_body(code, detail, detail_zh)
            page = self._page(scope, body)
            kind = b"application/json" if page is None else b"text/html; charset=utf-8"
            body = body if page is None else page
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": http,
                    "headers": [
                        (b"content-type", kind),
                        (b"content-length", str(len(body)).encode()),
                        *extra,
                    ],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": body})

        try:
            await self._handle(scope, receive, send_with_headers, refuse, method, path)
        except BodyTooLarge as exc:
            if status["code"] == 0:
                await refuse(
                    ServiceCode.BODY_TOO_LARGE,
                    413,
                    f"at most {exc.limit} bytes",
                    detail_zh=f"最多 {exc.limit} 字节",
                )
        except Exception as exc:  # a bug must not leak a trace or lose the headers
            LOG.error("internal error on %s %s: %s", method, route_name(scope), type(exc).__name__)
            if status["code"] == 0:
                await refuse(ServiceCode.INTERNAL, 500)
        finally:
            ACCESS_LOG.info(
                "%s %s %d %.1fms",
                method,
                route_name(scope),
                status["code"],
                (time.perf_counter() - started) * 1000,
            )

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        refuse: Callable[..., Awaitable[None]],
        method: str,
        path: str,
    ) -> None:
        for rule_method, test, kind in RATE_RULES:
            if method == rule_method and test(path):
                client = scope.get("client")
                address = client[0] if client else "-"
                wait = self.limiter.take(kind, address, path)
                if wait > 0:
                    retry = str(max(1, math.ceil(wait)))
                    await refuse(
                        ServiceCode.RATE_LIMITED, 429, "", ((b"retry-after", retry.encode()),)
                    )
                    return
                break
        headers = dict(scope.get("headers", []))
        if method in _STATE_CHANGING and path.startswith(API_PREFIX):
            kind_header = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if kind_header != b"application/json":
                await refuse(ServiceCode.UNSUPPORTED_MEDIA_TYPE, 415)
                return
        limit = (
            self.limits.max_photo_body
            if method == "POST" and path == PHOTO_PATH
            else self.limits.max_body
        )
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                await refuse(
                    ServiceCode.INVALID_REQUEST,
                    400,
                    "bad Content-Length",
                    detail_zh="Content-Length 无效",
                )
                return
            if length > limit:
                await refuse(
                    ServiceCode.BODY_TOO_LARGE,
                    413,
                    f"at most {limit} bytes",
                    detail_zh=f"最多 {limit} 字节",
                )
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def install(app: FastAPI, ctx: ServiceContext) -> None:
    """Install the security layer on ``app`` (outermost middleware)."""
    app.add_middleware(
        SecurityLayer,
        limits=ctx.config.limits,
        demo=ctx.demo is not None,
        default_lang=ctx.config.default_lang,
    )


__all__ = [
    "ACCESS_LOG",
    "API_PREFIX",
    "CSP",
    "HEADERS",
    "MAX_BUCKETS",
    "PHOTO_PATH",
    "RATE_RULES",
    "STATIC_PREFIX",
    "RateLimiter",
    "SecurityLayer",
    "install",
    "limiter_for",
]
