"""JSON error bodies of the service, one stable code per refusal, in English and Chinese.

Every error answer of the JSON API (and of any request that asks for JSON) has the body::

    {"ok": false, "error": CODE, "message": "<English>", "message_zh": "<中文>"}

``CODE`` is the library's own where the library refused: an
:class:`~ecard.errors.ErrorCode` value for an :class:`~ecard.errors.EcardError`, a
:class:`~ecard.workflow.errors.WorkflowCode` value for a
:class:`~ecard.workflow.errors.WorkflowError`, a
:class:`~ecard.documents.DocumentProblem` value for a :class:`~ecard.documents.DocumentError`
(``DOCUMENT_FORMAT``...). What only HTTP can refuse (a malformed or
oversized body, the wrong content type, too many requests, an unknown route) has a
:class:`ServiceCode`. The messages are the library's, which carry no ID number, name, phone
number, code or PIN; validation errors name the field and the rule, never the value sent.

:func:`install` puts the exception handlers on an application; the HTML pages render their
own errors and only fall back to these for what reaches the application level.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from ecard.documents import DocumentError
from ecard.errors import EcardError, ErrorCode, MessageTable
from ecard.workflow.errors import WorkflowCode, WorkflowError

#: Where refusals are logged (code only: never a body, a value or personal data).
LOG: Final = logging.getLogger("ecard.service")


def route_name(scope: Mapping[str, Any]) -> str:
    """The route template of a request (``/api/applications/{application_id}/send-code``,
    never the identifiers in the path), or its path off the routes (static files, unknown
    paths); never the query. Newer Starlette names the route in the scope; otherwise the
    application's routes are matched here."""
    route = scope.get("route")
    if route is None:
        routes = getattr(getattr(scope.get("app"), "router", None), "routes", ())
        partial = None
        for candidate in routes:
            if isinstance(candidate, Mount) or not hasattr(candidate, "matches"):
                continue
            match, _ = candidate.matches(scope)
            if match is Match.FULL:
                route = candidate
                break
            if match is Match.PARTIAL and partial is None:
                partial = candidate
        route = route or partial
    if route is not None and not isinstance(route, Mount):
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return path
    path = scope.get("path", "")
    return path if isinstance(path, str) else ""


class ServiceCode(StrEnum):
    """Refusals that only HTTP makes (the library's codes cover everything else)."""

    INVALID_REQUEST = "INVALID_REQUEST"
    MALFORMED_JSON = "MALFORMED_JSON"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    BODY_TOO_LARGE = "BODY_TOO_LARGE"
    RATE_LIMITED = "RATE_LIMITED"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    PURPOSE_NOT_SERVED = "PURPOSE_NOT_SERVED"
    NO_LIST = "NO_LIST"
    NOT_AVAILABLE = "NOT_AVAILABLE"
    CONFIG_INVALID = "CONFIG_INVALID"
    INTERNAL = "INTERNAL"


#: Per code: (English, Chinese).
_MESSAGES: Final[dict[ServiceCode, tuple[str, str]]] = {
    ServiceCode.INVALID_REQUEST: ("the request is not valid", "请求内容不符合要求"),
    ServiceCode.MALFORMED_JSON: (
        "the request body is not valid JSON (UTF-8)",
        "请求内容不是有效的 JSON（UTF-8）",
    ),
    ServiceCode.UNSUPPORTED_MEDIA_TYPE: (
        "send the request body as Content-Type: application/json",
        "请求内容类型须为 application/json",
    ),
    ServiceCode.BODY_TOO_LARGE: ("the request body is too large", "请求内容过大"),
    ServiceCode.RATE_LIMITED: (
        "too many requests: wait and try again",
        "请求过于频繁：请稍后再试",
    ),
    ServiceCode.NOT_FOUND: ("no such page or resource", "页面或资源不存在"),
    ServiceCode.METHOD_NOT_ALLOWED: ("this method is not allowed here", "不支持此请求方法"),
    ServiceCode.PURPOSE_NOT_SERVED: (
        "this counter does not serve that purpose",
        "本窗口不受理该用途",
    ),
    ServiceCode.NO_LIST: ("no list has been published yet", "尚未发布名单"),
    ServiceCode.NOT_AVAILABLE: (
        "this operation is not available on this service",
        "本服务不提供此项操作",
    ),
    ServiceCode.CONFIG_INVALID: (
        "the service configuration is not valid",
        "服务配置无效",
    ),
    ServiceCode.INTERNAL: (
        "the service failed: the error was logged",
        "服务内部错误：已记录日志",
    ),
}
SERVICE_MESSAGES: Final = MessageTable(ServiceCode, _MESSAGES)

#: HTTP status per workflow refusal (anything not listed: 400).
WORKFLOW_STATUS: Final[dict[WorkflowCode, int]] = {
    WorkflowCode.NOT_FOUND: 404,
    WorkflowCode.CONFLICT: 409,
    WorkflowCode.ACTIVE_CARD_EXISTS: 409,
    WorkflowCode.WRONG_STEP: 409,
    WorkflowCode.TRANSITION_REFUSED: 409,
    WorkflowCode.RESEND_TOO_SOON: 429,
    WorkflowCode.DAILY_CAP: 429,
    WorkflowCode.PIN_LOCKED: 423,
    WorkflowCode.PHOTO_TOO_LARGE: 413,
}

#: HTTP status per library code where the service's own state is at fault (else 400).
ECARD_STATUS: Final[dict[ErrorCode, int]] = {
    ErrorCode.REPLAY_CACHE_UNUSABLE: 503,
    ErrorCode.TRUST_LIST_STALE: 503,
    ErrorCode.REVOCATION_LIST_STALE: 503,
    ErrorCode.LIST_ROLLBACK: 503,
    ErrorCode.BAD_LIST: 503,
}


class ErrorBody(BaseModel):
    """The body of every JSON error answer."""

    ok: bool = False
    error: str
    message: str
    message_zh: str


class ServiceError(Exception):
    """A refusal of the service's own (:class:`ServiceCode`), with its HTTP status."""

    def __init__(
        self,
        code: ServiceCode,
        status: int = 400,
        detail: str = "",
        *,
        detail_zh: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.code = code
        self.status = status
        self.detail = detail
        self.detail_zh = detail_zh or detail
        self.headers = headers or {}
        super().__init__(f"{code.value}: {detail}" if detail else code.value)

    def body(self) -> ErrorBody:
        """The error body (``detail``, English and technical, follows both messages)."""
        return ErrorBody(
            error=self.code,
            message=SERVICE_MESSAGES.message(self.code, "en", self.detail),
            message_zh=SERVICE_MESSAGES.message(self.code, "zh", self.detail, self.detail_zh),
        )


class BodyTooLarge(StarletteHTTPException):
    """Raised while a request body is read past its limit.

    An :class:`~starlette.exceptions.HTTPException` on purpose: the framework's body parsing
    passes those through unchanged (any other exception would become a generic 400).
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"at most {limit} bytes")
        self.limit = limit


def error_response(
    body: ErrorBody, status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """``body`` as a JSON answer with ``status``."""
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def ecard_body(exc: EcardError) -> tuple[ErrorBody, int]:
    """The body and HTTP status of a library refusal."""
    if isinstance(exc, WorkflowError):
        code = exc.workflow_code
        return (
            ErrorBody(error=code.value, message=exc.message("en"), message_zh=exc.message("zh")),
            WORKFLOW_STATUS.get(code, 400),
        )
    code_value = exc.problem.value if isinstance(exc, DocumentError) else exc.code.value
    return (
        ErrorBody(error=code_value, message=exc.message("en"), message_zh=exc.message("zh")),
        ECARD_STATUS.get(exc.code, 400),
    )


def service_body(code: ServiceCode, detail: str = "", detail_zh: str | None = None) -> ErrorBody:
    """The body of a service refusal."""
    return ServiceError(code, detail=detail, detail_zh=detail_zh).body()


def _validation_detail(exc: RequestValidationError) -> tuple[ServiceCode, str]:
    """The code and a value-free description of what failed validation."""
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return ServiceCode.MALFORMED_JSON, ""
    parts = []
    for e in errors[:5]:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
        parts.append(f"{loc or 'body'} ({e.get('type', 'invalid')})")
    return ServiceCode.INVALID_REQUEST, ", ".join(parts)


_HTTP_CODES: Final[dict[int, ServiceCode]] = {
    400: ServiceCode.MALFORMED_JSON,
    404: ServiceCode.NOT_FOUND,
    405: ServiceCode.METHOD_NOT_ALLOWED,
    413: ServiceCode.BODY_TOO_LARGE,
    415: ServiceCode.UNSUPPORTED_MEDIA_TYPE,
    429: ServiceCode.RATE_LIMITED,
}


def wants_html(request: Request) -> bool:
    """Whether the request is a browser's for a page (not under ``/api/``, HTML accepted
    before JSON): it then gets the error as a page, with the same code and messages."""
    if request.url.path.startswith("/api/") or "/api/" in request.url.path:
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


def answer(
    request: Request, body: ErrorBody, status: int, headers: Mapping[str, str] | None = None
) -> Response:
    """The error ``body`` as JSON, or as a page (``error.html``) for a browser's page request."""
    if wants_html(request):
        from ecard.service.templating import render

        page = render(request, request.app.state.ctx, "error.html", status_code=status, error=body)
        page.headers.update(headers or {})
        return page
    return error_response(body, status, headers)


def install(app: FastAPI) -> None:
    """Install the handlers mapping every refusal to an :class:`ErrorBody` (as JSON; as a
    page for a browser asking for a page, :func:`wants_html`)."""

    @app.exception_handler(ServiceError)
    async def on_service(request: Request, exc: ServiceError) -> Response:
        return answer(request, exc.body(), exc.status, exc.headers)

    @app.exception_handler(EcardError)
    async def on_ecard(request: Request, exc: EcardError) -> Response:
        body, status = ecard_body(exc)
        LOG.info("refused %s %s: %s", request.method, route_name(request.scope), body.error)
        return answer(request, body, status)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        code, detail = _validation_detail(exc)
        return answer(
            request, service_body(code, detail), 422 if code is ServiceCode.INVALID_REQUEST else 400
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, ServiceCode.INVALID_REQUEST)
        if isinstance(exc, BodyTooLarge):
            body = service_body(code, f"at most {exc.limit} bytes", f"最多 {exc.limit} 字节")
        else:
            body = service_body(code)
        return answer(request, body, exc.status_code, exc.headers)


__all__ = [
    "ECARD_STATUS",
    "SERVICE_MESSAGES",
    "WORKFLOW_STATUS",
    "BodyTooLarge",
    "ErrorBody",
    "ServiceCode",
    "ServiceError",
    "answer",
    "ecard_body",
    "error_response",
    "install",
    "route_name",
    "service_body",
    "wants_html",
]
