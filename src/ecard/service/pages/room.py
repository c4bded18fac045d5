"""What a form router (the applicant pages, the clerk console) starts with: its realm's auth
helpers bound to the context, who is signed in, reading a POSTed form under its CSRF check,
rendering a page or a refusal, and the sign-in and sign-out routes.

Contract: :meth:`Room.post` reads the form (limits in parts and fields) and checks the CSRF
token before anything else runs, raising :class:`~ecard.service.accounts.AuthError`
(``FORM_INVALID``, ``CSRF_FAILED``, ``SESSION_EXPIRED``); a router answers that with
:meth:`Room.refused`. :meth:`Room.signed_in` answers ``None`` for an anonymous, expired or
other-kind session, never raises. Nothing here carries personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from ecard.errors import Lang
from ecard.service.accounts import Account, AuthCode, AuthError, Kind, SessionInfo
from ecard.service.auth import Web, accounts_for
from ecard.service.context import ServiceContext
from ecard.service.pages.forms import (
    lang_of,
    page,
    read_form,
    redirect,
    refusal,
    refused_page,
    text,
)


@dataclass(frozen=True)
class Room:
    """One form router's shared helpers: ``realm`` names its sessions and records, ``kind``
    the accounts that may sign in to it, ``prefix`` its URLs (``/clerk``, ``/apply``)."""

    ctx: ServiceContext
    web: Web
    kind: Kind
    prefix: str

    @classmethod
    def open(cls, ctx: ServiceContext, realm: str, kind: Kind) -> Room:
        """The room of ``realm``; opens (and upgrades) the account store now, not at the
        first request."""
        accounts_for(ctx)
        return cls(ctx, Web(ctx, realm), kind, f"/{realm}")

    def signed_in(self, request: Request) -> tuple[SessionInfo, Account] | None:
        """The live session and its account when one of :attr:`kind` is signed in."""
        try:
            info = self.web.current(request)
        except AuthError:
            return None
        if info is None or info.account is None or info.account.kind != self.kind:
            return None
        return info, info.account

    async def post(
        self, request: Request, *, max_files: int = 0, max_fields: int = 30
    ) -> tuple[SessionInfo, FormData]:
        """The POSTed form and its session, the CSRF token checked.

        Raises:
            AuthError: ``FORM_INVALID``, ``CSRF_FAILED``, ``SESSION_EXPIRED``.
        """
        form = await read_form(request, max_files=max_files, max_fields=max_fields)
        return self.web.check_post(request, form), form

    def lang(self, request: Request) -> Lang:
        """The page language."""
        return lang_of(request, self.ctx)

    def page(
        self, request: Request, template: str, *, session: SessionInfo, **values: Any
    ) -> HTMLResponse:
        """:func:`~ecard.service.pages.forms.page` in this room."""
        return page(request, self.ctx, self.web, template, session=session, **values)

    def refused(self, request: Request, exc: AuthError, home: str) -> HTMLResponse:
        """The page of a refused request, with a way back to ``home``."""
        return refused_page(request, self.ctx, exc, home)

    def add_sign_in(
        self,
        r: APIRouter,
        template: str,
        *,
        login_field: str,
        limit: int,
        done: str,
        shown: Callable[[str], dict[str, Any]],
    ) -> None:
        """``GET <prefix>/login`` (the sign-in form under a live or new anonymous session)
        and ``POST <prefix>/login``: the login in ``login_field`` (cut at ``limit``) and
        ``password``; a refusal (``AUTH_FAILED`` 401, ``AUTH_LOCKED`` 429) shows the form
        again with what ``shown`` keeps of the login; a success rotates the session and goes
        to ``done``."""

        def login_page(request: Request) -> Response:
            """The sign-in form."""
            info, new = self.web.page_session(request)
            return self.page(request, template, session=info, new_session=new, **shown(""))

        async def login(request: Request) -> Response:
            """Sign in; the session is rotated."""
            try:
                info, form = await self.post(request)
            except AuthError as exc:
                return self.refused(request, exc, f"{self.prefix}/login")
            name = text(form, login_field, limit)
            try:
                account = self.web.store.authenticate(
                    self.kind, name, text(form, "password", 200), self.web.realm
                )
            except AuthError as exc:
                return self.page(
                    request, template, session=info,
                    status=429 if exc.auth_code is AuthCode.AUTH_LOCKED else 401,
                    errors=[refusal(exc, self.lang(request), "form")], **shown(name),
                )  # fmt: skip
            response = redirect(done)
            self.web.sign_in(request, response, info, account)
            return response

        r.add_api_route("/login", login_page, methods=["GET"], response_class=HTMLResponse)
        r.add_api_route("/login", login, methods=["POST"], response_class=HTMLResponse)

    def add_logout(self, r: APIRouter) -> None:
        """``POST <prefix>/logout``: sign out, back to the sign-in form."""
        login = f"{self.prefix}/login"

        async def logout(request: Request) -> Response:
            """Sign out."""
            try:
                info, _ = await self.post(request)
            except AuthError as exc:
                return self.refused(request, exc, login)
            response = redirect(login)
            self.web.sign_out(request, response, info)
            return response

        r.add_api_route("/logout", logout, methods=["POST"], response_class=HTMLResponse)


__all__ = ["Room"]
