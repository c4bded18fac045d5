"""Sign-in, sessions, CSRF and roles for the HTML pages (the HTTP side of
:mod:`ecard.service.accounts`).

Contract:

* Two realms, each with its own cookie scoped to its path: ``ecard_apply`` (``Path=/apply``,
  applicants) and ``ecard_clerk`` (``Path=/clerk``, staff). Cookies are ``HttpOnly;
  SameSite=Strict``, and ``Secure`` when the request came over https. A session of one realm
  opens nothing in the other.
* Every page with a form has a session (an anonymous one before sign-in), so the sign-in form
  too carries a synchroniser token: every POST must come with the session cookie and the
  session's token in the ``csrf_token`` field (compared in constant time), else it is refused
  with ``CSRF_FAILED`` (HTTP 403) and the refusal is recorded. A sign-in replaces the
  anonymous session by a new one (rotation), a sign-out deletes it.
* Roles: :data:`PERMISSIONS` says which role each staff action needs; ``admin`` may do
  everything. A refusal is ``ROLE_REQUIRED`` (HTTP 403), recorded with the account id.
* Demo mode: the first start makes three staff accounts (``admin``, ``clerk``, ``reviewer``)
  with random passwords written once to ``demo-staff.txt`` in the data folder (mode 0600).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Final

from fastapi import Request
from starlette.datastructures import FormData
from starlette.responses import Response

from ecard._files import write_atomic
from ecard.service.accounts import (
    Account,
    AccountStore,
    AuthCode,
    AuthError,
    Kind,
    SessionInfo,
)
from ecard.service.context import ServiceContext

#: Realm -> (cookie name, cookie path).
COOKIES: Final = {"apply": ("ecard_apply", "/apply"), "clerk": ("ecard_clerk", "/clerk")}
#: The form field carrying the CSRF token.
CSRF_FIELD: Final = "csrf_token"
#: Staff action -> the roles allowed to do it.
PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "enter": frozenset({"clerk", "admin"}),
    "review": frozenset({"reviewer", "admin"}),
    "issue": frozenset({"clerk", "admin"}),
    "card": frozenset({"clerk", "admin"}),
    "publish": frozenset({"clerk", "admin"}),
    "queue": frozenset({"clerk", "reviewer", "admin"}),
    "users": frozenset({"admin"}),
}
#: Demo staff accounts: user name -> roles.
DEMO_STAFF: Final = {"admin": ("admin",), "clerk": ("clerk",), "reviewer": ("reviewer",)}
#: The file (in the data folder) holding the demo staff's passwords.
DEMO_STAFF_FILE: Final = "demo-staff.txt"

#: HTTP status per refusal.
STATUS: Final = {
    AuthCode.AUTH_FAILED: 401,
    AuthCode.AUTH_LOCKED: 429,
    AuthCode.AUTH_REQUIRED: 401,
    AuthCode.SESSION_EXPIRED: 401,
    AuthCode.CSRF_FAILED: 403,
    AuthCode.ROLE_REQUIRED: 403,
}


def accounts_for(ctx: ServiceContext) -> AccountStore:
    """The account store of ``ctx`` (one per context, kept on it, in the workflow's database);
    in demo mode the demo staff accounts are made on first use. Thread-safe (the routers call
    it when the application is assembled)."""
    with ctx.accounts_lock:
        if ctx.accounts is None:
            ctx.accounts = _open(ctx)
        return ctx.accounts


def _open(ctx: ServiceContext) -> AccountStore:
    store = AccountStore(ctx.config.database_url, ctx.clock)
    if ctx.demo is not None and store.staff_count() == 0:
        lines = []
        for name, roles in DEMO_STAFF.items():
            password = secrets.token_urlsafe(12)
            store.create_user(name, password, kind="staff", roles=roles)
            lines.append(f"{name} {password} {' '.join(roles)}\n")
        write_atomic(
            ctx.config.data_dir / DEMO_STAFF_FILE,
            "# DEMO staff accounts: user name, password, roles\n" + "".join(lines),
            private=True,
        )
    return store


def create_user(
    ctx: ServiceContext,
    login: str,
    password: str,
    *,
    roles: tuple[str, ...] = (),
    applicant: bool = False,
) -> Account:
    """Create a staff account with ``roles`` (or an applicant account with a mobile number as
    ``login``) in the service of ``ctx``: the way tests and scripts add users."""
    kind: Kind = "applicant" if applicant else "staff"
    return accounts_for(ctx).create_user(login, password, kind=kind, roles=roles)


@dataclass
class Web:
    """The auth helpers one router uses, bound to a context and a realm."""

    ctx: ServiceContext
    realm: str

    @property
    def store(self) -> AccountStore:
        """The account store."""
        return accounts_for(self.ctx)

    @property
    def cookie(self) -> str:
        """This realm's cookie name."""
        return COOKIES[self.realm][0]

    def current(self, request: Request) -> SessionInfo | None:
        """The request's live session, else ``None``.

        Raises:
            AuthError: ``SESSION_EXPIRED`` (a signed-in session past its limits).
        """
        return self.store.session(request.cookies.get(self.cookie), self.realm)

    def set_cookie(self, request: Request, response: Response, session_id: str) -> None:
        """Give the browser ``session_id``."""
        name, path = COOKIES[self.realm]
        response.set_cookie(
            name,
            session_id,
            path=path,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )

    def clear_cookie(self, request: Request, response: Response) -> None:
        """Remove the session cookie."""
        name, path = COOKIES[self.realm]
        response.delete_cookie(
            name, path=path, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )

    def page_session(self, request: Request) -> tuple[SessionInfo, str | None]:
        """The session a page with a form renders under: the live one, or a new anonymous one
        (with its id, to set as cookie). An expired signed-in session is dropped silently."""
        try:
            info = self.current(request)
        except AuthError:
            info = None
        if info is not None:
            return info, None
        session_id, info = self.store.open_session(self.realm)
        return info, session_id

    def check_post(self, request: Request, form: FormData) -> SessionInfo:
        """The session of a POST whose CSRF token matches.

        Raises:
            AuthError: ``CSRF_FAILED`` (no session, missing or wrong token),
                ``SESSION_EXPIRED``.
        """
        info = self.current(request)
        sent = form.get(CSRF_FIELD)
        ok = (
            info is not None
            and isinstance(sent, str)
            and hmac.compare_digest(sent.encode(), info.csrf.encode())
        )
        if not ok or info is None:
            actor = "anonymous" if info is None or info.account is None else info.account.actor
            self.store.record(self.realm, actor, request.url.path[:32], AuthCode.CSRF_FAILED)
            raise AuthError(AuthCode.CSRF_FAILED)
        return info

    def signed_in(self, info: SessionInfo | None) -> Account:
        """The session's account.

        Raises:
            AuthError: ``AUTH_REQUIRED`` (anonymous or no session).
        """
        if info is None or info.account is None:
            raise AuthError(AuthCode.AUTH_REQUIRED)
        return info.account

    def require(self, info: SessionInfo | None, action: str, path: str = "") -> Account:
        """The signed-in staff account allowed to do ``action`` (see :data:`PERMISSIONS`).

        Raises:
            AuthError: ``AUTH_REQUIRED``, ``ROLE_REQUIRED`` (recorded).
        """
        account = self.signed_in(info)
        if account.kind != "staff" or not account.roles & PERMISSIONS[action]:
            self.store.record(self.realm, account.actor, action, AuthCode.ROLE_REQUIRED, path[:64])
            raise AuthError(AuthCode.ROLE_REQUIRED)
        return account

    def sign_in(
        self, request: Request, response: Response, old: SessionInfo, account: Account
    ) -> SessionInfo:
        """Rotate: delete ``old`` and give the browser a new session for ``account``."""
        self.store.close_session(old)
        session_id, info = self.store.open_session(self.realm, account)
        self.set_cookie(request, response, session_id)
        return info

    def sign_out(self, request: Request, response: Response, info: SessionInfo) -> None:
        """Delete the session and its cookie."""
        self.store.close_session(info)
        self.clear_cookie(request, response)


__all__ = [
    "COOKIES",
    "CSRF_FIELD",
    "DEMO_STAFF",
    "DEMO_STAFF_FILE",
    "PERMISSIONS",
    "STATUS",
    "Web",
    "accounts_for",
    "create_user",
]
