"""What the applicant and clerk pages share: rendering a form page under its session (CSRF
token, cookies, language), turning a library refusal into a message next to its field, and
read-only views of the workflow's records for the pages.

A refusal is shown as ``<p class="field-error" id="error-<field>" data-code="<CODE>">`` next
to the field it concerns (``id="error"`` when it concerns the whole form); the code is the
library's stable code (``WorkflowCode``, ``DocumentProblem``, ``AuthCode``), never personal
data. The views read the workflow's rows and return ids, states and times; only
:func:`application_detail` (for staff) carries the name and document number.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from python_multipart.exceptions import FormParserError
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from ecard.card import CHINA_TZ
from ecard.documents import DocumentError, DocumentType
from ecard.errors import EcardError, Lang
from ecard.service.accounts import AuthCode, AuthError, SessionInfo
from ecard.service.auth import CSRF_FIELD, STATUS, Web
from ecard.service.context import ServiceContext
from ecard.service.templating import page_lang, render
from ecard.workflow.errors import WorkflowCode, WorkflowError
from ecard.workflow.store import ApplicationRow, CardRow, CodeRow, PhotoRow

#: Library code -> the form field its message goes next to (else the whole form).
FIELD_OF: Final[dict[str, str]] = {
    WorkflowCode.NAME_INVALID: "name",
    WorkflowCode.PHONE_INVALID: "phone",
    WorkflowCode.CONSENT_REQUIRED: "consents",
    WorkflowCode.GUARDIAN_REQUIRED: "document_number",
    WorkflowCode.CODE_FORMAT: "code",
    WorkflowCode.CODE_WRONG: "code",
    WorkflowCode.CODE_EXPIRED: "code",
    WorkflowCode.CODE_USED: "code",
    WorkflowCode.CODE_TRIES_EXCEEDED: "code",
    WorkflowCode.RESEND_TOO_SOON: "send_code",
    WorkflowCode.DAILY_CAP: "send_code",
    WorkflowCode.LIVENESS_FAILED: "liveness",
    WorkflowCode.PIN_WEAK: "pin",
    WorkflowCode.PIN_WRONG: "pin",
    WorkflowCode.REASON_REQUIRED: "reason",
    WorkflowCode.PHOTO_INVALID: "photo",
    WorkflowCode.PHOTO_TOO_LARGE: "photo",
    WorkflowCode.PHOTO_BOMB: "photo",
    AuthCode.PHONE_INVALID: "phone",
    AuthCode.PASSWORD_WEAK: "password",
    AuthCode.PASSWORD_MISMATCH: "password2",
    AuthCode.ACCOUNT_EXISTS: "phone",
    AuthCode.LOGIN_INVALID: "username",
}

#: Applicant-facing application states.
STATE_LABELS: Final = {
    "submitted": ("待审核", "waiting for review"),
    "approved": ("已通过审核", "approved"),
    "rejected": ("未通过审核", "rejected"),
    "issued": ("已制卡", "card issued"),
}
#: Card states.
CARD_LABELS: Final = {
    "sealed": ("封存", "sealed"),
    "normal": ("正常", "normal"),
    "temporary_loss": ("临时挂失", "temporary loss report"),
    "formal_loss": ("正式挂失", "formal loss report"),
    "frozen": ("冻结", "frozen"),
    "replaced": ("已补换", "replaced"),
    "cancelled": ("注销", "cancelled"),
}


@dataclass(frozen=True)
class Refusal:
    """A refusal as a page shows it: stable code, message in the page language, field."""

    code: str
    message: str
    field: str = "form"


def refusal(exc: EcardError, lang: Lang, field: str | None = None) -> Refusal:
    """The :class:`Refusal` for a library or account error."""
    if isinstance(exc, WorkflowError):
        code = exc.workflow_code.value
    elif isinstance(exc, DocumentError):
        code = exc.problem.value
        field = field or "document_number"
    elif isinstance(exc, AuthError):
        code = exc.auth_code.value
    else:
        code = exc.code.value
    return Refusal(code, exc.message(lang), field or FIELD_OF.get(code, "form"))


def lang_of(request: Request, ctx: ServiceContext) -> Lang:
    """The page language."""
    return "en" if page_lang(request, ctx) == "en" else "zh"


def translator(lang: Lang) -> Callable[[str, str], str]:
    """``t(zh, en)`` for templates: the text in the page language."""

    def t(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    return t


def page(
    request: Request,
    ctx: ServiceContext,
    web: Web,
    template: str,
    *,
    session: SessionInfo,
    new_session: str | None = None,
    status: int = 200,
    errors: list[Refusal] | None = None,
    **values: Any,
) -> HTMLResponse:
    """Render ``template`` with the session's CSRF token, the account, ``errors`` by field
    and ``t``; set the session cookie if it is new and the ``lang`` cookie when asked."""
    lang = lang_of(request, ctx)
    by_field = {e.field: e for e in errors or []}
    response = render(
        request,
        ctx,
        template,
        status_code=status,
        csrf=session.csrf,
        csrf_field=CSRF_FIELD,
        account=session.account,
        errors=by_field,
        t=translator(lang),
        **values,
    )
    if new_session is not None:
        web.set_cookie(request, response, new_session)
    asked = request.query_params.get("lang")
    if asked in ("zh", "en"):
        response.set_cookie("lang", asked, path="/", samesite="strict", httponly=True)
    response.headers["Cache-Control"] = "no-store"
    return response


def refused_page(request: Request, ctx: ServiceContext, exc: AuthError, home: str) -> HTMLResponse:
    """The page for a refused request (CSRF, role, session): the code, the message, a way
    back; HTTP status by code."""
    lang = lang_of(request, ctx)
    response = render(
        request,
        ctx,
        "_form_refused.html",
        status_code=STATUS.get(exc.auth_code, 400),
        code=exc.auth_code.value,
        message=exc.message(lang),
        home=home,
        t=translator(lang),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def read_form(request: Request, *, max_files: int = 0, max_fields: int = 30) -> FormData:
    """The request's form (urlencoded or multipart).

    Raises:
        AuthError: ``FORM_INVALID`` (a malformed body, too many parts). Starlette before 0.40
        lets python-multipart's own parse error through, so that one is caught here too.
    """
    try:
        return await request.form(max_files=max_files, max_fields=max_fields)
    except (MultiPartException, HTTPException, FormParserError):
        raise AuthError(AuthCode.FORM_INVALID) from None


def redirect(path: str) -> RedirectResponse:
    """303 See Other to ``path`` (after a successful POST)."""
    return RedirectResponse(path, status_code=303)


def text(form: Any, name: str, limit: int = 200) -> str:
    """A text field of ``form`` ('' when absent or not text), cut at ``limit`` characters."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def document_types(lang: Lang) -> list[tuple[int, str]]:
    """``(value, label)`` of every document type, for a select."""
    return [(d.value, d.label(lang)) for d in DocumentType]


def when(ts: int | None) -> str:
    """A Unix time as ``YYYY-MM-DD HH:MM`` in China time ('' for ``None``)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=UTC).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ApplicationView:
    """An application as the pages show it (no name, no number)."""

    id: str
    channel: str
    state: str
    region: str
    submitted_at: int
    due_at: int
    overdue: bool
    phone_verified: bool
    liveness: bool
    photo: bool
    code_sent: bool
    reason: str | None
    reviewed_by: str | None
    submitted_by: str
    card_number: str | None
    card_state: str | None
    #: Whether the card's service PIN is set.
    pin_set: bool = False


def application_view(ctx: ServiceContext, application_id: str) -> ApplicationView | None:
    """The view of one application, or ``None``."""
    registry = ctx.registry
    now = registry.clock()
    with registry.store.session() as session:
        app = session.get(ApplicationRow, application_id)
        if app is None:
            return None
        card = session.get(CardRow, app.card_number) if app.card_number else None
        days = registry.settings.review_deadline_days(app.region)
        due = app.submitted_at + int(timedelta(days=days).total_seconds())
        return ApplicationView(
            id=app.id,
            channel=app.channel,
            state=app.state,
            region=app.region,
            submitted_at=app.submitted_at,
            due_at=due,
            overdue=app.state == "submitted" and due <= now.timestamp(),
            phone_verified=app.phone_verified,
            liveness=app.liveness is not None,
            photo=session.get(PhotoRow, app.id) is not None,
            code_sent=session.get(CodeRow, app.id) is not None,
            reason=app.reason,
            reviewed_by=app.reviewed_by,
            submitted_by=app.submitted_by,
            card_number=app.card_number,
            card_state=card.state if card else None,
            pin_set=card is not None and card.pin_hash is not None,
        )


def applications_in(ctx: ServiceContext, states: tuple[str, ...]) -> list[ApplicationView]:
    """The applications in ``states``, oldest first (the review queue)."""
    with ctx.registry.store.session() as session:
        ids = session.scalars(
            select(ApplicationRow.id)
            .where(ApplicationRow.state.in_(states))
            .order_by(ApplicationRow.submitted_at, ApplicationRow.id)
            .limit(500)
        ).all()
    views = [application_view(ctx, i) for i in ids]
    return [v for v in views if v is not None]


@dataclass(frozen=True)
class ApplicationDetail:
    """What a clerk sees of an application to review it."""

    document_type: str
    document_number: str
    name: str
    relation: str
    consents: list[str]


def application_detail(
    ctx: ServiceContext, application_id: str, lang: Lang
) -> ApplicationDetail | None:
    """The personal data of an application, for the staff console only."""
    with ctx.registry.store.session() as session:
        app = session.get(ApplicationRow, application_id)
        if app is None:
            return None
        return ApplicationDetail(
            DocumentType(app.document_type).label(lang),
            app.document_number,
            app.name,
            app.relation,
            list(json.loads(app.consents)),
        )


__all__ = [
    "CARD_LABELS",
    "FIELD_OF",
    "STATE_LABELS",
    "ApplicationDetail",
    "ApplicationView",
    "Refusal",
    "application_detail",
    "application_view",
    "applications_in",
    "document_types",
    "lang_of",
    "page",
    "read_form",
    "redirect",
    "refusal",
    "refused_page",
    "text",
    "translator",
    "when",
]
