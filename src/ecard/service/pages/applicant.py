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

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from ecard.errors import EcardError
from ecard.service.accounts import Account, AccountStore, AuthCode, AuthError, SessionInfo
from ecard.service.context import ServiceContext
from ecard.service.pages.forms import (
    CARD_LABELS,
    STATE_LABELS,
    ApplicationView,
    Refusal,
    application_view,
    document_types,
    redirect,
    refusal,
    text,
    when,
)
from ecard.service.pages.room import Room
from ecard.workflow.errors import WorkflowCode, refuse
from ecard.workflow.photos import MAX_PHOTO_BYTES
from ecard.workflow.steps import CONSENT_PERSONAL, CONSENT_PHOTO, Registry

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


def registration_key(number: str) -> str:
    """What the code of a registration of ``number`` (E.164) is sent under, in the outbox."""
    return f"register:{number}"


class _FieldError(Exception):
    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal
        super().__init__(refusal.code)


@dataclass(frozen=True)
class StepCall:
    """What a step's library call gets: the registry, the account store, the signed-in
    applicant, their application (id and view), the form and the uploaded file's bytes
    (``b""`` when the step takes none or none was sent)."""

    registry: Registry
    store: AccountStore
    account: Account
    app_id: str
    view: ApplicationView | None
    form: FormData
    upload: bytes


@dataclass(frozen=True)
class Step:
    """One step of an application, ``POST /apply/<path>``: the library call (it returns
    where to go on success and raises the library's refusal), the page that shows a refusal
    (``steps`` or ``status``) and the field it stands next to (``fields``: per code, where
    it differs). ``upload`` names the multipart file field the step reads, if any."""

    call: Callable[[StepCall], str]
    again: Literal["steps", "status"] = "steps"
    field: str | None = None
    upload: str | None = None
    fields: Mapping[str, str] = dataclasses.field(default_factory=dict)


def _photo(c: StepCall) -> str:
    if not c.upload:
        raise refuse(WorkflowCode.PHOTO_INVALID, "no file")
    c.registry.store_photo(c.app_id, c.upload, actor=c.account.actor)
    return "/apply/steps"


def _send_code(c: StepCall) -> str:
    c.registry.send_code(c.app_id, actor=c.account.actor)
    return "/apply/steps"


def _check_code(c: StepCall) -> str:
    c.registry.check_code(c.app_id, text(c.form, "code", 16).strip(), actor=c.account.actor)
    return "/apply/steps"


def _liveness(c: StepCall) -> str:
    c.registry.record_liveness(c.app_id, LIVENESS_EVIDENCE, actor=c.account.actor)
    return "/apply/steps"


def _submit(auto: bool) -> Callable[[StepCall], str]:
    def submit(c: StepCall) -> str:
        view = c.view
        if view is None or not (view.photo and view.phone_verified and view.liveness):
            raise refuse(WorkflowCode.WRONG_STEP, "ID photo, phone code and liveness check first")
        if auto:
            c.registry.review_online(c.app_id)
        c.store.mark_sent(c.app_id)
        return "/apply/status"

    return submit


def _pin(c: StepCall) -> str:
    if c.view is None or c.view.card_number is None:
        raise refuse(WorkflowCode.WRONG_STEP, "no card yet")
    if c.view.pin_set:
        raise refuse(WorkflowCode.WRONG_STEP, "the PIN is set: change it at a window")
    value = text(c.form, "pin", 16)
    if value != text(c.form, "pin2", 16):
        raise AuthError(AuthCode.PASSWORD_MISMATCH)
    c.registry.set_pin(c.view.card_number, value, actor=c.account.actor)
    return "/apply/status"


def steps_of(ctx: ServiceContext) -> Mapping[str, Step]:
    """The application's steps: path -> what it does (same URLs, refusal codes and fields
    as the forms in the templates). Sending is reviewed automatically when
    ``extra["online_review"]`` is ``"auto"``."""
    auto = ctx.config.extra.get("online_review", "reviewer") == "auto"
    return {
        "/photo": Step(_photo, field="photo", upload="photo"),
        "/send-code": Step(_send_code, field="send_code"),
        "/check-code": Step(_check_code, field="code"),
        "/liveness": Step(_liveness, field="liveness"),
        "/submit": Step(_submit(auto)),
        "/pin": Step(_pin, "status", fields={AuthCode.PASSWORD_MISMATCH: "pin2"}),
    }


def router(ctx: ServiceContext) -> APIRouter:
    """The applicant routes."""
    r = APIRouter(prefix="/apply", include_in_schema=False)
    room = Room.open(ctx, "apply", "applicant")
    web = room.web
    registry = ctx.registry

    def current_app(account: Account) -> str | None:
        links = web.store.applications(account)
        return links[0].application_id if links else None

    def sent(account: Account) -> bool:
        links = web.store.applications(account)
        return bool(links) and links[0].sent_at is not None

    def with_app(request: Request) -> tuple[SessionInfo, str] | Response:
        """The signed-in applicant's session and application, else where to go instead."""
        found = room.signed_in(request)
        if found is None:
            return redirect("/apply/login")
        app_id = current_app(found[1])
        return redirect("/apply/form") if app_id is None else (found[0], app_id)

    # -- sign-in

    @r.get("", response_class=HTMLResponse)
    @r.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        """Where the applicant stands: sign in, the form, the steps or the status."""
        found = room.signed_in(request)
        if found is None:
            return redirect("/apply/login")
        app_id = current_app(found[1])
        if app_id is None:
            return redirect("/apply/form")
        return redirect("/apply/status" if sent(found[1]) else "/apply/steps")

    room.add_sign_in(
        r, "applicant_login.html", login_field="phone", limit=32, done="/apply",
        shown=lambda phone: {"values": {"phone": phone} if phone else {}},
    )  # fmt: skip

    @r.get("/register", response_class=HTMLResponse)
    def register_page(request: Request) -> Response:
        """The registration form."""
        info, new = web.page_session(request)
        return room.page(
            request, "applicant_register.html", session=info, new_session=new, values={}
        )

    def confirm_page(
        request: Request, info: SessionInfo, phone: str, errors: list[Refusal] | None = None
    ) -> Response:
        return room.page(
            request, "applicant_register.html", session=info, status=422 if errors else 200,
            errors=errors, values={"phone": phone}, confirm=True,
        )  # fmt: skip

    @r.post("/register", response_class=HTMLResponse)
    async def register(request: Request) -> Response:
        """Keep the registration and send its code to the number; the answer is the same
        whether the number has an account or not (the code tells only the phone's owner)."""
        try:
            info, form = await room.post(request)
        except AuthError as exc:
            return room.refused(request, exc, "/apply/register")
        phone = text(form, "phone", 32)
        password = text(form, "password", 300)
        try:
            if password != text(form, "password2", 300):
                raise AuthError(AuthCode.PASSWORD_MISMATCH)
            number, code = web.store.start_registration(phone, password)
        except AuthError as exc:
            return room.page(
                request, "applicant_register.html", session=info, status=422,
                errors=[refusal(exc, room.lang(request))], values={"phone": phone},
            )  # fmt: skip
        ctx.outbox.send_code(number, code, application_id=registration_key(number))
        return confirm_page(request, info, phone)

    @r.post("/register/confirm", response_class=HTMLResponse)
    async def confirm(request: Request) -> Response:
        """The code sent to the number: creates the account and signs in."""
        try:
            info, form = await room.post(request)
        except AuthError as exc:
            return room.refused(request, exc, "/apply/register")
        phone = text(form, "phone", 32)
        try:
            account = web.store.confirm_registration(phone, text(form, "code", 16).strip())
        except AuthError as exc:
            return confirm_page(request, info, phone, [refusal(exc, room.lang(request), "code")])
        response = redirect("/apply/form")
        web.sign_in(request, response, info, account)
        return response

    room.add_logout(r)

    # -- personal information

    def info_page(
        request: Request,
        info: SessionInfo,
        values: dict[str, str],
        errors: list[Refusal] | None = None,
        status: int = 200,
    ) -> Response:
        return room.page(
            request, "applicant_form.html", session=info, status=status,
            errors=errors, values=values, document_types=document_types(room.lang(request)),
        )  # fmt: skip

    @r.get("/form", response_class=HTMLResponse)
    def form_page(request: Request) -> Response:
        """The personal information form."""
        found = room.signed_in(request)
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
            info, form = await room.post(request)
            account = web.signed_in(info)
        except AuthError as exc:
            return room.refused(request, exc, "/apply/login")
        lang = room.lang(request)
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

    # -- the steps: photo, phone, liveness, send; status, PIN

    def case_page(template: str, **extra: Any) -> Callable[..., Response]:
        """A page of the applicant's application (``template``), with its refusals."""

        def show(
            request: Request, info: SessionInfo, app_id: str, errors: list[Refusal] | None = None
        ) -> Response:
            return room.page(
                request, template, session=info, status=422 if errors else 200, errors=errors,
                view=application_view(ctx, app_id), **extra,
            )  # fmt: skip

        return show

    pages: Mapping[str, Callable[..., Response]] = {
        "steps": case_page("applicant_steps.html", max_photo=MAX_PHOTO_BYTES),
        "status": case_page(
            "applicant_status.html", when=when, state_labels=STATE_LABELS, card_labels=CARD_LABELS
        ),
    }

    def viewer(name: str) -> Callable[[Request], Response]:
        def view(request: Request) -> Response:
            found = with_app(request)
            return found if isinstance(found, Response) else pages[name](request, *found)

        view.__doc__ = {
            "steps": "The photo, phone and liveness steps, and sending the application.",
            "status": "The application's state, deadline, decision; the PIN and wallet once issued.",
        }[name]
        return view

    for name in pages:
        r.add_api_route(f"/{name}", viewer(name), methods=["GET"], response_class=HTMLResponse)

    def handler(step: Step) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                info, form = await room.post(
                    request, max_files=1 if step.upload else 0, max_fields=10
                )
                account = web.signed_in(info)
                app_id = current_app(account)
                if app_id is None:
                    raise AuthError(AuthCode.AUTH_REQUIRED)
            except AuthError as exc:
                return room.refused(request, exc, "/apply")
            upload = form.get(step.upload) if step.upload else None
            try:
                data = (
                    await upload.read(MAX_PHOTO_BYTES + 1)
                    if isinstance(upload, UploadFile)
                    else b""
                )
                view = application_view(ctx, app_id)
                done = step.call(StepCall(registry, web.store, account, app_id, view, form, data))
            except EcardError as exc:
                field = step.fields.get(refusal(exc, "en").code, step.field)
                errors = [refusal(exc, room.lang(request), field)]
                return pages[step.again](request, info, app_id, errors)
            finally:
                if isinstance(upload, UploadFile):
                    await upload.close()
            return redirect(done)

        run.__doc__ = f"The application step {step.call.__name__.lstrip('_')!r}."
        return run

    for path, step in steps_of(ctx).items():
        r.add_api_route(path, handler(step), methods=["POST"], response_class=HTMLResponse)

    return r


__all__ = [
    "INFO_FIELDS",
    "LIVENESS_EVIDENCE",
    "Step",
    "StepCall",
    "document_type",
    "registration_key",
    "router",
    "steps_of",
]
