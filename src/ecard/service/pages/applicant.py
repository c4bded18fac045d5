"""The applicant pages (online channel), under ``/apply``: plain HTML forms that work without
JavaScript, Chinese by default, English with ``?lang=en``.

Story: ``/apply/register`` (mainland mobile number + password) or ``/apply/login`` →
``/apply/form`` (document type and number, name, region, phone, the consents; the library's
``submit``) → ``/apply/steps``: upload the ID photo (``POST /apply/photo``, multipart, checked
and stored encrypted by the library), bind the phone (``POST /apply/send-code`` then ``POST
/apply/check-code``), the liveness check (``POST /apply/liveness``), send for review (``POST
/apply/submit``) → ``/apply/status``: state, review deadline, decision and reason; once the
card is issued, the service PIN (``POST /apply/pin``, once) and the link to the wallet page.

Review of online applications: ``ServiceConfig.extra["online_review"]`` is ``"reviewer"`` (the
default: the application waits in the clerk console's queue for a reviewer) or ``"auto"`` (the
library's automatic rules, :meth:`~ecard.workflow.steps.Registry.review_online`, decide at
submission). The workflow's events name the actor ``applicant:<account id>``.

Stable element ids and names (browser tests rely on them): forms ``register-form``,
``login-form``, ``logout-form``, ``info-form``, ``photo-form``, ``send-code-form``,
``check-code-form``, ``liveness-form``, ``submit-form``, ``pin-form``; fields ``phone``,
``password``, ``password2``, ``document_type``, ``document_number``, ``name``, ``region``,
``birth_date``, ``document_expires``, ``consent_personal``, ``consent_photo``, ``photo``,
``code``, ``pin``, ``pin2``, ``csrf_token``; on the steps and status pages ``app-id``,
``step-photo``/``step-phone``/``step-liveness`` (``data-done="1"`` when done),
``app-state`` (``data-state``), ``review-due``, ``decision-reason``, ``card-number``,
``card-state`` (``data-state``), ``waiting-card``, ``pin-set``, ``wallet-link``; errors ``error-<field>`` and
``error`` with ``data-code``.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from ecard.errors import EcardError
from ecard.service.accounts import Account, AuthCode, AuthError, SessionInfo
from ecard.service.auth import Web, accounts_for
from ecard.service.context import ServiceContext
from ecard.service.pages.forms import (
    CARD_LABELS,
    STATE_LABELS,
    Refusal,
    application_view,
    document_types,
    lang_of,
    page,
    read_form,
    redirect,
    refusal,
    refused_page,
    text,
    when,
)
from ecard.workflow.errors import WorkflowCode, refuse
from ecard.workflow.photos import MAX_PHOTO_BYTES
from ecard.workflow.steps import CONSENT_PERSONAL, CONSENT_PHOTO

#: The evidence handed to the liveness port (the demo's FixedLiveness ignores it; a vendor's
#: SDK would post its own token here).
LIVENESS_EVIDENCE: Final = b"ecard-service-liveness-demo"
#: The form fields of the personal information form kept when it is refused.
INFO_FIELDS: Final = (
    "document_type",
    "document_number",
    "name",
    "region",
    "phone",
    "birth_date",
    "document_expires",
    "consent_personal",
    "consent_photo",
)


def _date(value: str, field: str, lang: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _FieldError(
            Refusal(
                AuthCode.FORM_INVALID.value,
                "日期格式应为 YYYY-MM-DD" if lang == "zh" else "a date is written YYYY-MM-DD",
                field,
            )
        ) from None


def document_type(value: str) -> int | str:
    """The select's value as the library takes it (the type's number, else the text)."""
    return int(value) if value.isdigit() and len(value) < 3 else value


class _FieldError(Exception):
    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal
        super().__init__(refusal.code)


def router(ctx: ServiceContext) -> APIRouter:
    """The applicant routes."""
    r = APIRouter(prefix="/apply", include_in_schema=False)
    web = Web(ctx, "apply")
    accounts_for(ctx)  # open (and upgrade) the account store now, not at the first request
    registry = ctx.registry

    def signed_in(request: Request) -> tuple[SessionInfo, Account] | None:
        try:
            info = web.current(request)
        except AuthError:
            return None
        if info is None or info.account is None or info.account.kind != "applicant":
            return None
        return info, info.account

    def current_app(account: Account) -> str | None:
        links = web.store.applications(account)
        return links[0].application_id if links else None

    def sent(account: Account) -> bool:
        links = web.store.applications(account)
        return bool(links) and links[0].sent_at is not None

    async def post_form(request: Request) -> tuple[SessionInfo, FormData]:
        form = await read_form(request, max_files=0, max_fields=30)
        return web.check_post(request, form), form

    # -- sign-in

    @r.get("", response_class=HTMLResponse)
    @r.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        """Where the applicant stands: sign in, the form, the steps or the status."""
        found = signed_in(request)
        if found is None:
            return redirect("/apply/login")
        app_id = current_app(found[1])
        if app_id is None:
            return redirect("/apply/form")
        return redirect("/apply/status" if sent(found[1]) else "/apply/steps")

    @r.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> Response:
        """The sign-in form."""
        info, new = web.page_session(request)
        return page(
            request, ctx, web, "applicant_login.html", session=info, new_session=new, values={}
        )

    @r.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        """Sign in with the mobile number and password."""
        try:
            info, form = await post_form(request)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/apply/login")
        phone = text(form, "phone", 32)
        try:
            account = web.store.authenticate(
                "applicant", phone, text(form, "password", 200), "apply"
            )
        except AuthError as exc:
            return page(
                request, ctx, web, "applicant_login.html", session=info,
                status=401 if exc.auth_code is AuthCode.AUTH_FAILED else 429,
                errors=[refusal(exc, lang_of(request, ctx), "form")], values={"phone": phone},
            )  # fmt: skip
        response = redirect("/apply")
        web.sign_in(request, response, info, account)
        return response

    @r.get("/register", response_class=HTMLResponse)
    def register_page(request: Request) -> Response:
        """The registration form."""
        info, new = web.page_session(request)
        return page(
            request, ctx, web, "applicant_register.html", session=info, new_session=new, values={}
        )

    @r.post("/register", response_class=HTMLResponse)
    async def register(request: Request) -> Response:
        """Create an applicant account and sign in."""
        try:
            info, form = await post_form(request)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/apply/register")
        phone = text(form, "phone", 32)
        password = text(form, "password", 300)
        try:
            if password != text(form, "password2", 300):
                raise AuthError(AuthCode.PASSWORD_MISMATCH)
            account = web.store.create_user(phone, password, kind="applicant")
        except AuthError as exc:
            return page(
                request, ctx, web, "applicant_register.html", session=info, status=422,
                errors=[refusal(exc, lang_of(request, ctx))], values={"phone": phone},
            )  # fmt: skip
        response = redirect("/apply/form")
        web.sign_in(request, response, info, account)
        return response

    @r.post("/logout", response_class=HTMLResponse)
    async def logout(request: Request) -> Response:
        """Sign out."""
        try:
            info, _ = await post_form(request)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/apply/login")
        response = redirect("/apply/login")
        web.sign_out(request, response, info)
        return response

    # -- personal information

    def info_page(
        request: Request,
        info: SessionInfo,
        values: dict[str, str],
        errors: list[Refusal] | None = None,
        status: int = 200,
    ) -> Response:
        return page(
            request, ctx, web, "applicant_form.html", session=info, status=status,
            errors=errors, values=values, document_types=document_types(lang_of(request, ctx)),
        )  # fmt: skip

    @r.get("/form", response_class=HTMLResponse)
    def form_page(request: Request) -> Response:
        """The personal information form."""
        found = signed_in(request)
        if found is None:
            return redirect("/apply/login")
        info, account = found
        app_id = current_app(account)
        view = application_view(ctx, app_id) if app_id else None
        if view is not None and view.state != "rejected":
            return redirect("/apply")
        return info_page(
            request, info, {"document_type": "1", "consent_personal": "", "consent_photo": ""}
        )

    @r.post("/form", response_class=HTMLResponse)
    async def submit_form(request: Request) -> Response:
        """Record the application (the library's ``submit``, channel ``online``)."""
        try:
            info, form = await post_form(request)
            account = web.signed_in(info)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/apply/login")
        lang = lang_of(request, ctx)
        values = {k: text(form, k) for k in INFO_FIELDS}
        existing = current_app(account)
        view = application_view(ctx, existing) if existing else None
        if view is not None and view.state != "rejected":
            return redirect("/apply")
        consents = [CONSENT_PERSONAL] if values["consent_personal"] else []
        if values["consent_photo"]:
            consents.append(CONSENT_PHOTO)
        try:
            app_id = registry.submit(
                channel="online",
                document_type=document_type(values["document_type"]),
                document_number=values["document_number"],
                name=values["name"],
                phone=values["phone"],
                region=values["region"],
                actor=account.actor,
                consents=consents,
                birth_date=_date(values["birth_date"], "birth_date", lang),
                document_expires=_date(values["document_expires"], "document_expires", lang),
            )
        except _FieldError as exc:
            return info_page(request, info, values, [exc.refusal], 422)
        except EcardError as exc:
            return info_page(request, info, values, [refusal(exc, lang)], 422)
        web.store.link_application(account, app_id)
        return redirect("/apply/steps")

    # -- the steps: photo, phone, liveness, send

    def steps_page(
        request: Request, info: SessionInfo, app_id: str, errors: list[Refusal] | None = None
    ) -> Response:
        view = application_view(ctx, app_id)
        return page(
            request, ctx, web, "applicant_steps.html", session=info,
            status=422 if errors else 200, errors=errors, view=view,
            max_photo=MAX_PHOTO_BYTES,
        )  # fmt: skip

    @r.get("/steps", response_class=HTMLResponse)
    def steps(request: Request) -> Response:
        """The photo, phone and liveness steps, and sending the application."""
        found = signed_in(request)
        if found is None:
            return redirect("/apply/login")
        app_id = current_app(found[1])
        if app_id is None:
            return redirect("/apply/form")
        return steps_page(request, found[0], app_id)

    async def step(
        request: Request, *, multipart: bool = False
    ) -> tuple[SessionInfo, FormData, Account, str]:
        form = await read_form(request, max_files=1 if multipart else 0, max_fields=10)
        info = web.check_post(request, form)
        account = web.signed_in(info)
        app_id = current_app(account)
        if app_id is None:
            raise AuthError(AuthCode.AUTH_REQUIRED)
        return info, form, account, app_id

    @r.post("/photo", response_class=HTMLResponse)
    async def photo(request: Request) -> Response:
        """Upload the ID photo (multipart field ``photo``): checked and stored encrypted by the
        library; a refused file stores nothing."""
        try:
            info, form, account, app_id = await step(request, multipart=True)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/apply")
        upload = form.get("photo")
        data = await upload.read(MAX_PHOTO_BYTES + 1) if isinstance(upload, UploadFile) else b""
        try:
            if not data:
                raise refuse(WorkflowCode.PHOTO_INVALID, "no file")
            registry.store_photo(app_id, data, actor=account.actor)
        except EcardError as exc:
            return steps_page(request, info, app_id, [refusal(exc, lang_of(request, ctx), "photo")])
        finally:
            if isinstance(upload, UploadFile):
                await upload.close()
        return redirect("/apply/steps")

    @r.post("/send-code", response_class=HTMLResponse)
    async def send_code(request: Request) -> Response:
        """Send a one-time code to the application's phone."""
        try:
            info, _, account, app_id = await step(request)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/apply")
        try:
            registry.send_code(app_id, actor=account.actor)
        except EcardError as exc:
            return steps_page(
                request, info, app_id, [refusal(exc, lang_of(request, ctx), "send_code")]
            )
        return redirect("/apply/steps")

    @r.post("/check-code", response_class=HTMLResponse)
    async def check_code(request: Request) -> Response:
        """Check the code read on the phone: binds the phone."""
        try:
            info, form, account, app_id = await step(request)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/apply")
        try:
            registry.check_code(app_id, text(form, "code", 16).strip(), actor=account.actor)
        except EcardError as exc:
            return steps_page(request, info, app_id, [refusal(exc, lang_of(request, ctx), "code")])
        return redirect("/apply/steps")

    @r.post("/liveness", response_class=HTMLResponse)
    async def liveness(request: Request) -> Response:
        """The face liveness check through the liveness port."""
        try:
            info, _, account, app_id = await step(request)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/apply")
        try:
            registry.record_liveness(app_id, LIVENESS_EVIDENCE, actor=account.actor)
        except EcardError as exc:
            return steps_page(
                request, info, app_id, [refusal(exc, lang_of(request, ctx), "liveness")]
            )
        return redirect("/apply/steps")

    @r.post("/submit", response_class=HTMLResponse)
    async def submit(request: Request) -> Response:
        """Send the application for review once the photo, phone and liveness steps are done."""
        try:
            info, _, _account, app_id = await step(request)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/apply")
        view = application_view(ctx, app_id)
        lang = lang_of(request, ctx)
        try:
            if view is None or not (view.photo and view.phone_verified and view.liveness):
                raise refuse(
                    WorkflowCode.WRONG_STEP, "ID photo, phone code and liveness check first"
                )
            if ctx.config.extra.get("online_review", "reviewer") == "auto":
                registry.review_online(app_id)
        except EcardError as exc:
            return steps_page(request, info, app_id, [refusal(exc, lang)])
        web.store.mark_sent(app_id)
        return redirect("/apply/status")

    # -- status, PIN

    def status_page(
        request: Request, info: SessionInfo, app_id: str, errors: list[Refusal] | None = None
    ) -> Response:
        return page(
            request, ctx, web, "applicant_status.html", session=info,
            status=422 if errors else 200, errors=errors, view=application_view(ctx, app_id),
            when=when, state_labels=STATE_LABELS, card_labels=CARD_LABELS,
        )  # fmt: skip

    @r.get("/status", response_class=HTMLResponse)
    def status(request: Request) -> Response:
        """The application's state, deadline, decision; the PIN and wallet once issued."""
        found = signed_in(request)
        if found is None:
            return redirect("/apply/login")
        app_id = current_app(found[1])
        if app_id is None:
            return redirect("/apply/form")
        return status_page(request, found[0], app_id)

    @r.post("/pin", response_class=HTMLResponse)
    async def pin(request: Request) -> Response:
        """Set the card's 6-digit service PIN, once: a signed-in account alone does not change
        it afterwards (that is done at a window, in person)."""
        try:
            info, form, account, app_id = await step(request)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/apply")
        view = application_view(ctx, app_id)
        lang = lang_of(request, ctx)
        try:
            if view is None or view.card_number is None:
                raise refuse(WorkflowCode.WRONG_STEP, "no card yet")
            if view.pin_set:
                raise refuse(WorkflowCode.WRONG_STEP, "the PIN is set: change it at a window")
            value = text(form, "pin", 16)
            if value != text(form, "pin2", 16):
                raise AuthError(AuthCode.PASSWORD_MISMATCH)
            registry.set_pin(view.card_number, value, actor=account.actor)
        except AuthError as exc:
            return status_page(request, info, app_id, [refusal(exc, lang, "pin2")])
        except EcardError as exc:
            return status_page(request, info, app_id, [refusal(exc, lang)])
        return redirect("/apply/status")

    return r


__all__ = ["INFO_FIELDS", "LIVENESS_EVIDENCE", "document_type", "router"]
