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

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from ecard.errors import EcardError
from ecard.service.accounts import ROLES, Account, AccountStore, AuthCode, AuthError, SessionInfo
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
    redirect,
    refusal,
    text,
    when,
)
from ecard.service.pages.room import Room
from ecard.workflow.errors import WorkflowCode, refuse
from ecard.workflow.lifecycle import CardEvent
from ecard.workflow.steps import CONSENT_PERSONAL, CONSENT_PHOTO, Registry

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


def _app_id(value: str) -> str | None:
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None


#: What a console URL names: an application id, a card number, or nothing.
Target = Literal["application", "card", "none"]
#: Per kind of target: the path parameter and its check (``None`` when malformed).
_TARGETS: Final[Mapping[Target, tuple[str, Callable[[str], str | None]]]] = {
    "application": ("app_id", _app_id),
    "card": ("number", _card_number),
}
#: The page that shows an action's refusal.
Again = Literal["queue", "window", "application", "card", "users"]


@dataclass(frozen=True)
class Call:
    """What an action's library call gets: the registry, the account store, the signed-in
    staff account, the target (application id or card number; ``-`` when malformed) and the
    form."""

    registry: Registry
    store: AccountStore
    account: Account
    target: str
    form: FormData


@dataclass(frozen=True)
class Action:
    """One console action, ``POST <path>``: the role it needs, the library call (which
    returns where to go on success, and raises the library's refusal), the page that shows a
    refusal and the field it stands next to.

    ``check`` runs first and its refusal (next to ``check_field``) is not recorded;
    a refusal of ``call`` is recorded in ``svc_auth_events`` (when ``record``) under
    ``name``, or under the value of the form field ``name_from``. ``home`` is where a
    refused request (CSRF, role) leads back to, ``{target}`` the valid target or ''."""

    name: str
    permission: str
    target: Target
    call: Callable[[Call], str]
    again: Again
    field: str | None = None
    check: Callable[[FormData], None] | None = None
    check_field: str | None = None
    name_from: str | None = None
    record: bool = True
    home: str = "/clerk/queue"
    fields: Mapping[str, str] = dataclasses.field(default_factory=dict)


def _publish(c: Call) -> str:
    c.registry.refresh_revocation_list(actor=c.account.actor)
    return "/clerk/queue?done=published"


def _consents(form: FormData) -> list[str]:
    consents = [CONSENT_PERSONAL] if text(form, "consent_personal") else []
    if text(form, "consent_photo"):
        consents.append(CONSENT_PHOTO)
    return consents


def _day(form: FormData, name: str) -> date | None:
    value = text(form, name)
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise refuse(WorkflowCode.WRONG_STEP, f"{name} is written YYYY-MM-DD") from None


def _enter(c: Call) -> str:
    birth_date, document_expires = _day(c.form, "birth_date"), _day(c.form, "document_expires")
    app_id = c.registry.submit(
        channel="window",
        document_type=document_type(text(c.form, "document_type")),
        document_number=text(c.form, "document_number"),
        name=text(c.form, "name"),
        phone=text(c.form, "phone"),
        region=text(c.form, "region"),
        actor=c.account.actor,
        consents=_consents(c.form),
        birth_date=birth_date,
        document_expires=document_expires,
    )
    return f"/clerk/applications/{app_id}"


def _review(c: Call) -> str:
    decision = text(c.form, "decision", 10)
    if decision not in ("approve", "reject"):
        raise refuse(WorkflowCode.WRONG_STEP, "decision is approve or reject")
    reason = text(c.form, "reason", 500).strip() or None
    c.registry.review(
        c.target, reviewer=c.account.actor, approve=decision == "approve", reason=reason
    )
    return f"/clerk/applications/{c.target}"


def _issue(c: Call) -> str:
    c.registry.issue(c.target, actor=c.account.actor)
    return f"/clerk/applications/{c.target}"


def _event(form: FormData) -> CardEvent:
    try:
        event = CardEvent(text(form, "event", 20))
    except ValueError:
        raise refuse(WorkflowCode.TRANSITION_REFUSED, "unknown event") from None
    if event not in CARD_EVENTS:
        raise refuse(WorkflowCode.TRANSITION_REFUSED, "unknown event")
    return event


def _check_event(form: FormData) -> None:
    _event(form)


def _change(c: Call) -> str:
    reason = text(c.form, "reason", 500).strip() or None
    c.registry.change(c.target, _event(c.form), actor=c.account.actor, reason=reason)
    return f"/clerk/cards/{c.target}"


def _replace(c: Call) -> str:
    c.registry.replace(c.target, actor=c.account.actor, reason=text(c.form, "reason", 500))
    return f"/clerk/cards/{c.registry.replaced_by(c.target) or c.target}"


def _add_user(c: Call) -> str:
    chosen = tuple(role for role in ROLES if c.form.get(f"role_{role}"))
    if not chosen:
        raise AuthError(AuthCode.ROLE_REQUIRED)
    created = c.store.create_user(
        text(c.form, "username", 64), text(c.form, "password", 300), kind="staff", roles=chosen
    )
    c.store.record("clerk", c.account.actor, "create_user", "ok", created.actor)
    return "/clerk/users"


#: The console's actions: path -> what it needs and does. Same URLs, roles, refusal codes
#: and fields as the forms in the templates.
ACTIONS: Final[Mapping[str, Action]] = {
    "/publish": Action("publish", "publish", "none", _publish, "queue"),
    "/window": Action("enter", "enter", "none", _enter, "window"),
    "/applications/{app_id}/review": Action(
        "review", "review", "application", _review, "application", "reason",
        home="/clerk/applications/{target}",
    ),
    "/applications/{app_id}/issue": Action(
        "issue", "issue", "application", _issue, "application", "issue"
    ),
    "/cards/{number}/change": Action(
        "change", "card", "card", _change, "card", "reason",
        check=_check_event, check_field="event", name_from="event",
    ),
    "/cards/{number}/replace": Action(
        "replace", "card", "card", _replace, "card", "replace_reason"
    ),
    "/users": Action(
        "create_user", "users", "none", _add_user, "users", record=False,
        fields={AuthCode.ROLE_REQUIRED: "roles"},
    ),
}  # fmt: skip


#: The console's pages that show one record or form: path -> (role, page, target, what).
VIEWS: Final[Mapping[str, tuple[str, Again, Target, str]]] = {
    "/window": ("enter", "window", "none", "Enter an application from an identity document."),
    "/applications/{app_id}": (
        "queue", "application", "application", "One case: its data, checks, decision and card."
    ),
    "/cards/{number}": ("card", "card", "card", "A card's status and the changes a clerk can make."),
    "/users": ("users", "users", "none", "The staff accounts and a form to add one (admin)."),
}  # fmt: skip


def router(ctx: ServiceContext) -> APIRouter:
    """The clerk routes."""
    r = APIRouter(prefix="/clerk", include_in_schema=False)
    room = Room.open(ctx, "clerk", "staff")
    web = room.web
    registry = ctx.registry

    def staff_page(
        request: Request, permission: str, home: str = "/clerk/queue"
    ) -> tuple[SessionInfo, Account] | Response:
        """The signed-in staff session allowed ``permission``, else where it goes instead."""
        found = room.signed_in(request)
        if found is None:
            return redirect("/clerk/login")
        try:
            return found[0], web.require(found[0], permission, request.url.path)
        except AuthError as exc:
            return room.refused(request, exc, home)

    # -- sign-in

    @r.get("", response_class=HTMLResponse)
    @r.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        """The queue when signed in, else the sign-in form."""
        return redirect("/clerk/queue" if room.signed_in(request) else "/clerk/login")

    room.add_sign_in(
        r, "clerk_login.html", login_field="username", limit=64, done="/clerk/queue",
        shown=lambda name: {"username": name},
    )  # fmt: skip
    room.add_logout(r)

    # -- the pages an action comes back to with its refusal

    def queue_page(
        request: Request, info: SessionInfo, _target: str, errors: list[Refusal] | None = None,
        _form: FormData | None = None, notice: str = "",
    ) -> Response:  # fmt: skip
        return room.page(
            request, "clerk_queue.html", session=info,
            status=422 if errors else 200, errors=errors, notice=notice,
            waiting=applications_in(ctx, ("submitted",)),
            approved=applications_in(ctx, ("approved",)),
            overdue=registry.overdue_applications(), when=when,
            sent_ts=lambda d: int(d.timestamp()),
        )  # fmt: skip

    def window_page(
        request: Request, info: SessionInfo, _target: str, errors: list[Refusal] | None = None,
        form: FormData | None = None,
    ) -> Response:  # fmt: skip
        values = {k: text(form, k) for k in INFO_FIELDS} if form else {"document_type": "1"}
        return room.page(
            request, "clerk_window.html", session=info,
            status=422 if errors else 200, errors=errors, values=values,
            document_types=document_types(room.lang(request)),
        )  # fmt: skip

    def missing_page(request: Request, info: SessionInfo, errors: list[Refusal]) -> Response:
        return room.page(request, "clerk_missing.html", session=info, status=404, errors=errors)

    def app_page(
        request: Request, info: SessionInfo, app_id: str, errors: list[Refusal] | None = None,
        _form: FormData | None = None, status: int = 422,
    ) -> Response:  # fmt: skip
        lang = room.lang(request)
        view = application_view(ctx, app_id)
        if view is None:
            return missing_page(request, info, [refusal(refuse(WorkflowCode.NOT_FOUND), lang)])
        return room.page(
            request, "clerk_application.html", session=info,
            status=status if errors else 200, errors=errors, view=view,
            detail=application_detail(ctx, app_id, lang), when=when,
            state_labels=STATE_LABELS, card_labels=CARD_LABELS,
        )  # fmt: skip

    def card_page(
        request: Request, info: SessionInfo, number: str, errors: list[Refusal] | None = None,
        _form: FormData | None = None,
    ) -> Response:  # fmt: skip
        try:
            state = registry.card_state(number).value
        except EcardError as exc:
            return missing_page(request, info, [refusal(exc, room.lang(request))])
        return room.page(
            request, "clerk_card.html", session=info, status=422 if errors else 200,
            errors=errors, number=number, state=state, card_labels=CARD_LABELS,
            events=[(e.value, EVENT_LABELS[e]) for e in CARD_EVENTS],
        )  # fmt: skip

    def users_page(
        request: Request, info: SessionInfo, _target: str, errors: list[Refusal] | None = None,
        form: FormData | None = None,
    ) -> Response:  # fmt: skip
        values = {"username": text(form, "username", 64)} if form else {}
        return room.page(
            request, "clerk_users.html", session=info,
            status=422 if errors else 200, errors=errors, users=web.store.staff(),
            roles=ROLES, values=values,
        )  # fmt: skip

    pages: Mapping[Again, Callable[..., Response]] = {
        "queue": queue_page,
        "window": window_page,
        "application": app_page,
        "card": card_page,
        "users": users_page,
    }

    # -- the actions, one handler for the table

    def handler(action: Action) -> Callable[[Request], Awaitable[Response]]:
        async def act(request: Request) -> Response:
            valid = None
            if action.target != "none":
                param, parse = _TARGETS[action.target]
                valid = parse(str(request.path_params.get(param, "")))
            target = valid or "-"
            try:
                info, form = await room.post(request)
                account = web.require(info, action.permission, request.url.path)
            except AuthError as exc:
                return room.refused(request, exc, action.home.format(target=valid or ""))
            again = pages[action.again]
            lang = room.lang(request)
            if action.check is not None:
                try:
                    action.check(form)
                except EcardError as exc:
                    return again(
                        request, info, target, [refusal(exc, lang, action.check_field)], form
                    )
            try:
                done = action.call(Call(registry, web.store, account, target, form))
            except EcardError as exc:
                if action.record:
                    name = text(form, action.name_from, 20) if action.name_from else action.name
                    code = refusal(exc, "en").code
                    where = None if action.target == "none" else target
                    web.store.record("clerk", account.actor, name, code, where)
                field = action.fields.get(refusal(exc, "en").code, action.field)
                return again(request, info, target, [refusal(exc, lang, field)], form)
            return redirect(done)

        act.__doc__ = f"The console action {action.name!r}."
        return act

    for path, action in ACTIONS.items():
        r.add_api_route(path, handler(action), methods=["POST"], response_class=HTMLResponse)

    # -- the pages

    @r.get("/queue", response_class=HTMLResponse)
    def queue(request: Request) -> Response:
        """Applications waiting for review (deadlines, overdue), approved ones to issue."""
        found = staff_page(request, "queue", "/clerk/login")
        if isinstance(found, Response):
            return found
        notice = request.query_params.get("done", "")
        return queue_page(request, found[0], "", notice=notice if notice == "published" else "")

    @r.get("/applications/{app_id}/photo")
    def photo(request: Request, app_id: str) -> Response:
        """The case's ID photo, decrypted (the reading is an event in the workflow's log)."""
        found = staff_page(request, "queue")
        if isinstance(found, Response):
            return found
        case = _app_id(app_id) or "-"
        try:
            picture = registry.read_photo(case, actor=found[1].actor)
        except EcardError as exc:
            return app_page(request, found[0], case, [refusal(exc, room.lang(request))], status=404)
        return Response(
            picture.data, media_type=picture.media_type, headers={"Cache-Control": "no-store"}
        )

    @r.get("/cards", response_class=HTMLResponse)
    def find_card(request: Request) -> Response:
        """Look a card up by its number."""
        found = staff_page(request, "card")
        if isinstance(found, Response):
            return found
        number = _card_number(request.query_params.get("number", ""))
        if number is None:
            lang = room.lang(request)
            errors = [refusal(refuse(WorkflowCode.NOT_FOUND), lang, "number")]
            return missing_page(request, found[0], errors)
        return redirect(f"/clerk/cards/{number}")

    def viewer(permission: str, again: Again, target: Target, doc: str) -> Callable[..., Response]:
        def view(request: Request) -> Response:
            found = staff_page(request, permission)
            if isinstance(found, Response):
                return found
            valid = None
            if target != "none":
                param, parse = _TARGETS[target]
                valid = parse(str(request.path_params.get(param, "")))
            return pages[again](request, found[0], valid or "-")

        view.__doc__ = doc
        return view

    for path, (permission, again, target, doc) in VIEWS.items():
        r.add_api_route(
            path, viewer(permission, again, target, doc), methods=["GET"],
            response_class=HTMLResponse,
        )  # fmt: skip

    return r


__all__ = ["ACTIONS", "CARD_EVENTS", "EVENT_LABELS", "VIEWS", "Action", "Call", "router"]
