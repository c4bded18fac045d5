"""The clerk console (window channel), under ``/clerk``: plain HTML forms that work without
JavaScript, Chinese by default, English with ``?lang=en``.

Pages: ``/clerk/login`` (``POST /clerk/login``, ``POST /clerk/logout``); ``/clerk/queue``
(applications waiting for review with their deadlines, the overdue ones from
:meth:`~ecard.workflow.steps.Registry.overdue_applications`, approved ones waiting for
issuance, publishing the revocation list: ``POST /clerk/publish``); ``/clerk/window``
(enter a window application from an identity document: ``POST /clerk/window``);
``/clerk/applications/<id>`` (the case, its ID photo at ``.../photo``, ``POST .../review``
with ``decision`` ``approve``/``reject`` and ``reason``, ``POST .../issue``);
``/clerk/cards?number=<card>`` and ``/clerk/cards/<card>`` (status, ``POST .../change`` with
``event`` among :data:`CARD_EVENTS` and ``reason``, ``POST .../replace`` with ``reason``);
``/clerk/users`` (admin: the staff accounts, ``POST /clerk/users`` adds one).

Roles (:data:`ecard.service.auth.PERMISSIONS`): entering, issuing, card changes and publishing
need ``clerk``; decisions need ``reviewer``; ``admin`` may do all and alone manages the staff
accounts. Every action calls the
library with ``actor="clerk:<account id>"``, so the workflow's event log records who did
what; sign-in, sign-out and refused attempts (role, CSRF, and every action the library
refused, with its code) go to the service's own ``svc_auth_events``. The library refuses a reviewer deciding a case they entered
(``OWN_CASE``); the page shows it next to the decision.

Stable element ids and names (browser tests rely on them): forms ``login-form``
(``username``, ``password``), ``logout-form``, ``window-form`` (``document_type``,
``document_number``, ``name``, ``region``, ``phone``, ``birth_date``, ``document_expires``,
``consent_personal``, ``consent_photo``), ``review-form`` (``decision``, ``reason``),
``issue-form``, ``card-search-form`` (``number``), ``change-form`` (``event``, ``reason``),
``replace-form`` (``reason``), ``publish-form``, ``user-form`` (``username``, ``password``,
``role_clerk``, ``role_reviewer``, ``role_admin``; admin only, at ``/clerk/users``); elements ``queue`` (rows
``data-application``, ``overdue`` class), ``overdue``, ``approved``, ``app-id``,
``app-state`` (``data-state``), ``card-number``, ``card-state`` (``data-state``),
``notice``; errors ``error-<field>`` and ``error`` with ``data-code``.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from ecard.errors import EcardError
from ecard.service.accounts import ROLES, Account, AuthCode, AuthError, SessionInfo
from ecard.service.auth import Web, accounts_for
from ecard.service.context import ServiceContext
from ecard.service.pages.applicant import INFO_FIELDS, document_type
from ecard.service.pages.forms import (
    CARD_LABELS,
    STATE_LABELS,
    Refusal,
    application_detail,
    application_view,
    applications_in,
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
from ecard.workflow.lifecycle import CardEvent
from ecard.workflow.steps import CONSENT_PERSONAL, CONSENT_PHOTO

#: The card status changes the console offers (replacement has its own form).
CARD_EVENTS: Final = (
    CardEvent.REPORT_LOSS,
    CardEvent.LIFT_LOSS,
    CardEvent.FORMAL_LOSS,
    CardEvent.FREEZE,
    CardEvent.UNFREEZE,
    CardEvent.CANCEL,
)
#: Labels of the card events.
EVENT_LABELS: Final = {
    CardEvent.REPORT_LOSS: ("临时挂失", "report lost (temporary)"),
    CardEvent.LIFT_LOSS: ("解除挂失", "lift the loss report"),
    CardEvent.FORMAL_LOSS: ("正式挂失", "formal loss report"),
    CardEvent.FREEZE: ("冻结", "freeze"),
    CardEvent.UNFREEZE: ("解冻", "unfreeze"),
    CardEvent.CANCEL: ("注销", "cancel"),
}
_CARD_CHARS: Final = frozenset("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")


def _card_number(value: str) -> str | None:
    clean = value.strip().upper()
    return clean if len(clean) == 9 and set(clean) <= _CARD_CHARS else None


def router(ctx: ServiceContext) -> APIRouter:
    """The clerk routes."""
    r = APIRouter(prefix="/clerk", include_in_schema=False)
    web = Web(ctx, "clerk")
    accounts_for(ctx)  # open (and upgrade) the account store now, not at the first request
    registry = ctx.registry

    def refused(account: Account, action: str, exc: EcardError, target: str | None = None) -> None:
        """Record a refused clerk action: the account, the action, the library's code and the
        application id or card number (never personal data)."""
        web.store.record("clerk", account.actor, action, refusal(exc, "en").code, target)

    def staff(request: Request) -> tuple[SessionInfo, Account] | None:
        try:
            info = web.current(request)
        except AuthError:
            return None
        if info is None or info.account is None or info.account.kind != "staff":
            return None
        return info, info.account

    async def post_form(
        request: Request, action: str | None
    ) -> tuple[SessionInfo, FormData, Account | None]:
        form = await read_form(request, max_files=0, max_fields=30)
        info = web.check_post(request, form)
        account = None if action is None else web.require(info, action, request.url.path)
        return info, form, account

    # -- sign-in

    @r.get("", response_class=HTMLResponse)
    @r.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        """The queue when signed in, else the sign-in form."""
        return redirect("/clerk/queue" if staff(request) else "/clerk/login")

    def login_form(
        request: Request, info: SessionInfo, new: str | None, username: str = "",
        errors: list[Refusal] | None = None, status: int = 200,
    ) -> Response:  # fmt: skip
        return page(
            request, ctx, web, "clerk_login.html", session=info, new_session=new,
            status=status, errors=errors, username=username,
        )  # fmt: skip

    @r.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> Response:
        """The sign-in form."""
        info, new = web.page_session(request)
        return login_form(request, info, new)

    @r.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        """Sign in with user name and password; the session is rotated."""
        try:
            info, form, _ = await post_form(request, None)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/login")
        username = text(form, "username", 64)
        try:
            account = web.store.authenticate(
                "staff", username, text(form, "password", 200), "clerk"
            )
        except AuthError as exc:
            status = 429 if exc.auth_code is AuthCode.AUTH_LOCKED else 401
            return login_form(
                request, info, None, username, [refusal(exc, lang_of(request, ctx), "form")], status
            )
        response = redirect("/clerk/queue")
        web.sign_in(request, response, info, account)
        return response

    @r.post("/logout", response_class=HTMLResponse)
    async def logout(request: Request) -> Response:
        """Sign out."""
        try:
            info, _, _ = await post_form(request, None)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/login")
        response = redirect("/clerk/login")
        web.sign_out(request, response, info)
        return response

    # -- the queue

    def queue_page(
        request: Request, info: SessionInfo, errors: list[Refusal] | None = None,
        notice: str = "",
    ) -> Response:  # fmt: skip
        overdue = registry.overdue_applications()
        return page(
            request, ctx, web, "clerk_queue.html", session=info,
            status=422 if errors else 200, errors=errors, notice=notice,
            waiting=applications_in(ctx, ("submitted",)),
            approved=applications_in(ctx, ("approved",)),
            overdue=overdue, when=when, sent_ts=lambda d: int(d.timestamp()),
        )  # fmt: skip

    @r.get("/queue", response_class=HTMLResponse)
    def queue(request: Request) -> Response:
        """Applications waiting for review (deadlines, overdue), approved ones to issue."""
        found = staff(request)
        if found is None:
            return redirect("/clerk/login")
        try:
            web.require(found[0], "queue", request.url.path)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/login")
        notice = request.query_params.get("done", "")
        return queue_page(request, found[0], notice=notice if notice == "published" else "")

    @r.post("/publish", response_class=HTMLResponse)
    async def publish(request: Request) -> Response:
        """Sign and publish the next revocation list."""
        try:
            info, _, account = await post_form(request, "publish")
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/queue")
        assert account is not None
        try:
            registry.refresh_revocation_list(actor=account.actor)
        except EcardError as exc:
            refused(account, "publish", exc)
            return queue_page(request, info, [refusal(exc, lang_of(request, ctx))])
        return redirect("/clerk/queue?done=published")

    # -- window applications

    def window_page(
        request: Request, info: SessionInfo, values: dict[str, str],
        errors: list[Refusal] | None = None,
    ) -> Response:  # fmt: skip
        return page(
            request, ctx, web, "clerk_window.html", session=info,
            status=422 if errors else 200, errors=errors, values=values,
            document_types=document_types(lang_of(request, ctx)),
        )  # fmt: skip

    @r.get("/window", response_class=HTMLResponse)
    def window(request: Request) -> Response:
        """Enter an application from the identity document the person shows."""
        found = staff(request)
        if found is None:
            return redirect("/clerk/login")
        try:
            web.require(found[0], "enter", request.url.path)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/queue")
        return window_page(request, found[0], {"document_type": "1"})

    @r.post("/window", response_class=HTMLResponse)
    async def enter(request: Request) -> Response:
        """Record a window application (the library's ``submit``, channel ``window``)."""
        try:
            info, form, account = await post_form(request, "enter")
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/queue")
        assert account is not None
        lang = lang_of(request, ctx)
        values = {k: text(form, k) for k in INFO_FIELDS}
        consents = [CONSENT_PERSONAL] if values["consent_personal"] else []
        if values["consent_photo"]:
            consents.append(CONSENT_PHOTO)
        from datetime import date

        try:
            dates = {}
            for field in ("birth_date", "document_expires"):
                try:
                    dates[field] = date.fromisoformat(values[field]) if values[field] else None
                except ValueError:
                    raise refuse(
                        WorkflowCode.WRONG_STEP, f"{field} is written YYYY-MM-DD"
                    ) from None
            app_id = registry.submit(
                channel="window",
                document_type=document_type(values["document_type"]),
                document_number=values["document_number"],
                name=values["name"],
                phone=values["phone"],
                region=values["region"],
                actor=account.actor,
                consents=consents,
                birth_date=dates["birth_date"],
                document_expires=dates["document_expires"],
            )
        except EcardError as exc:
            refused(account, "enter", exc)
            return window_page(request, info, values, [refusal(exc, lang)])
        return redirect(f"/clerk/applications/{app_id}")

    # -- one application

    def app_page(
        request: Request, info: SessionInfo, app_id: str, errors: list[Refusal] | None = None,
        status: int = 422,
    ) -> Response:  # fmt: skip
        lang = lang_of(request, ctx)
        view = application_view(ctx, app_id)
        if view is None:
            return page(
                request, ctx, web, "clerk_missing.html", session=info, status=404,
                errors=[refusal(refuse(WorkflowCode.NOT_FOUND), lang)],
            )  # fmt: skip
        return page(
            request, ctx, web, "clerk_application.html", session=info,
            status=status if errors else 200, errors=errors, view=view,
            detail=application_detail(ctx, app_id, lang), when=when,
            state_labels=STATE_LABELS, card_labels=CARD_LABELS,
        )  # fmt: skip

    def _app_id(value: str) -> str | None:
        return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None

    @r.get("/applications/{app_id}", response_class=HTMLResponse)
    def application(request: Request, app_id: str) -> Response:
        """One case: its data, checks, decision and card."""
        found = staff(request)
        if found is None:
            return redirect("/clerk/login")
        try:
            web.require(found[0], "queue", request.url.path)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/queue")
        return app_page(request, found[0], _app_id(app_id) or "-")

    @r.get("/applications/{app_id}/photo")
    def photo(request: Request, app_id: str) -> Response:
        """The case's ID photo, decrypted (the reading is an event in the workflow's log)."""
        found = staff(request)
        if found is None:
            return redirect("/clerk/login")
        try:
            account = web.require(found[0], "queue", request.url.path)
            picture = registry.read_photo(_app_id(app_id) or "-", actor=account.actor)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/queue")
        except EcardError as exc:
            return app_page(
                request,
                found[0],
                _app_id(app_id) or "-",
                [refusal(exc, lang_of(request, ctx))],
                404,
            )
        return Response(
            picture.data, media_type=picture.media_type, headers={"Cache-Control": "no-store"}
        )

    @r.post("/applications/{app_id}/review", response_class=HTMLResponse)
    async def review(request: Request, app_id: str) -> Response:
        """Approve or reject (reviewer role); a rejection needs a reason."""
        try:
            info, form, account = await post_form(request, "review")
        except AuthError as exc:
            return refused_page(request, ctx, exc, f"/clerk/applications/{_app_id(app_id) or ''}")
        assert account is not None
        case = _app_id(app_id) or "-"
        decision = text(form, "decision", 10)
        reason = text(form, "reason", 500).strip() or None
        try:
            if decision not in ("approve", "reject"):
                raise refuse(WorkflowCode.WRONG_STEP, "decision is approve or reject")
            registry.review(
                case, reviewer=account.actor, approve=decision == "approve", reason=reason
            )
        except EcardError as exc:
            refused(account, "review", exc, case)
            return app_page(request, info, case, [refusal(exc, lang_of(request, ctx), "reason")])
        return redirect(f"/clerk/applications/{case}")

    @r.post("/applications/{app_id}/issue", response_class=HTMLResponse)
    async def issue(request: Request, app_id: str) -> Response:
        """Make the card of an approved application and sign its credential."""
        try:
            info, _, account = await post_form(request, "issue")
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/queue")
        assert account is not None
        case = _app_id(app_id) or "-"
        try:
            registry.issue(case, actor=account.actor)
        except EcardError as exc:
            refused(account, "issue", exc, case)
            return app_page(request, info, case, [refusal(exc, lang_of(request, ctx), "issue")])
        return redirect(f"/clerk/applications/{case}")

    # -- cards

    def card_page(
        request: Request, info: SessionInfo, number: str, errors: list[Refusal] | None = None
    ) -> Response:
        lang = lang_of(request, ctx)
        try:
            state = registry.card_state(number).value
        except EcardError as exc:
            return page(
                request, ctx, web, "clerk_missing.html", session=info, status=404,
                errors=[refusal(exc, lang)],
            )  # fmt: skip
        return page(
            request, ctx, web, "clerk_card.html", session=info, status=422 if errors else 200,
            errors=errors, number=number, state=state, card_labels=CARD_LABELS,
            events=[(e.value, EVENT_LABELS[e]) for e in CARD_EVENTS],
        )  # fmt: skip

    @r.get("/cards", response_class=HTMLResponse)
    def find_card(request: Request) -> Response:
        """Look a card up by its number."""
        found = staff(request)
        if found is None:
            return redirect("/clerk/login")
        try:
            web.require(found[0], "card", request.url.path)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/queue")
        number = _card_number(request.query_params.get("number", ""))
        if number is None:
            lang = lang_of(request, ctx)
            return page(
                request, ctx, web, "clerk_missing.html", session=found[0], status=404,
                errors=[refusal(refuse(WorkflowCode.NOT_FOUND), lang, "number")],
            )  # fmt: skip
        return redirect(f"/clerk/cards/{number}")

    @r.get("/cards/{number}", response_class=HTMLResponse)
    def card(request: Request, number: str) -> Response:
        """A card's status and the changes a clerk can make."""
        found = staff(request)
        if found is None:
            return redirect("/clerk/login")
        try:
            web.require(found[0], "card", request.url.path)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/queue")
        return card_page(request, found[0], _card_number(number) or "-")

    @r.post("/cards/{number}/change", response_class=HTMLResponse)
    async def change(request: Request, number: str) -> Response:
        """Report loss, lift, formal loss, freeze, unfreeze or cancel (cancel needs a reason)."""
        try:
            info, form, account = await post_form(request, "card")
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/queue")
        assert account is not None
        card_no = _card_number(number) or "-"
        reason = text(form, "reason", 500).strip() or None
        try:
            event = CardEvent(text(form, "event", 20))
            if event not in CARD_EVENTS:
                raise ValueError(event)
        except ValueError:
            lang = lang_of(request, ctx)
            return card_page(
                request, info, card_no,
                [refusal(refuse(WorkflowCode.TRANSITION_REFUSED, "unknown event"), lang, "event")],
            )  # fmt: skip
        try:
            registry.change(card_no, event, actor=account.actor, reason=reason)
        except EcardError as exc:
            refused(account, event.value, exc, card_no)
            return card_page(
                request, info, card_no, [refusal(exc, lang_of(request, ctx), "reason")]
            )
        return redirect(f"/clerk/cards/{card_no}")

    @r.post("/cards/{number}/replace", response_class=HTMLResponse)
    async def replace(request: Request, number: str) -> Response:
        """Replace the card (a reason is required); shows the new card."""
        try:
            info, form, account = await post_form(request, "card")
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/queue")
        assert account is not None
        card_no = _card_number(number) or "-"
        try:
            issued = registry.replace(
                card_no, actor=account.actor, reason=text(form, "reason", 500)
            )
        except EcardError as exc:
            refused(account, "replace", exc, card_no)
            return card_page(
                request, info, card_no, [refusal(exc, lang_of(request, ctx), "replace_reason")]
            )
        # no credential when cards are bound to devices (the holder enrols the new card)
        new_number = issued.card.card_number if issued else registry.replaced_by(card_no)
        return redirect(f"/clerk/cards/{new_number or card_no}")

    # -- staff accounts (admin)

    def users_page(
        request: Request, info: SessionInfo, errors: list[Refusal] | None = None,
        values: dict[str, str] | None = None, status: int = 422,
    ) -> Response:  # fmt: skip
        return page(
            request, ctx, web, "clerk_users.html", session=info,
            status=status if errors else 200, errors=errors, users=web.store.staff(),
            roles=ROLES, values=values or {},
        )  # fmt: skip

    @r.get("/users", response_class=HTMLResponse)
    def users(request: Request) -> Response:
        """The staff accounts and a form to add one (admin)."""
        found = staff(request)
        if found is None:
            return redirect("/clerk/login")
        try:
            web.require(found[0], "users", request.url.path)
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/queue")
        return users_page(request, found[0])

    @r.post("/users", response_class=HTMLResponse)
    async def add_user(request: Request) -> Response:
        """Create a staff account with its roles and first password (admin)."""
        try:
            info, form, account = await post_form(request, "users")
        except AuthError as exc:
            return refused_page(request, ctx, exc, "/clerk/queue")
        assert account is not None
        values = {"username": text(form, "username", 64)}
        chosen = tuple(role for role in ROLES if form.get(f"role_{role}"))
        lang = lang_of(request, ctx)
        try:
            if not chosen:
                raise AuthError(AuthCode.ROLE_REQUIRED)
            created = web.store.create_user(
                values["username"], text(form, "password", 300), kind="staff", roles=chosen
            )
        except AuthError as exc:
            field = "roles" if exc.auth_code is AuthCode.ROLE_REQUIRED else None
            return users_page(request, info, [refusal(exc, lang, field)], values)
        web.store.record("clerk", account.actor, "create_user", "ok", created.actor)
        return redirect("/clerk/users")

    return r


__all__ = ["CARD_EVENTS", "EVENT_LABELS", "router"]
