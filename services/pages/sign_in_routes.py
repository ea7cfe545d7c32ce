"""Signing in and out of the pages. For `make run` a development sign-in picks one of the
synthetic users; a deployment has it off (settings refuse it with production settings)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from services.errors import Refusal, RefusalKind
from services.pages.i18n import LOCALES, chosen
from services.pages.people import (
    CSRF_FIELD,
    DEV_USERS,
    PRE_SESSION_CSRF,
    SIGN_IN,
    PageSettings,
    current,
    home,
    require_csrf,
)
from services.pages.sessions import SESSION_COOKIE, SessionBook, new_token, same_token
from services.pages.web import refused_page, render, see_other

CSRF = Annotated[str | None, Form(alias=CSRF_FIELD)]
OIDC_STATE = "radar_oidc_state"


def sign_in_routes(router: APIRouter, sessions: SessionBook, settings: PageSettings) -> None:
    def set_cookie(response: Response, name: str, value: str) -> None:
        response.set_cookie(
            name,
            value,
            httponly=True,
            samesite="strict",
            secure=settings.secure_cookie,
            path="/pages",
        )

    @router.get("/pages")
    def start(request: Request) -> Response:
        session = current(request, sessions)
        return see_other(home(session.analyst) if session else SIGN_IN)

    @router.get(SIGN_IN)
    def sign_in_form(request: Request, lang: str | None = None) -> Response:
        locale = chosen(lang)
        if not settings.dev_sign_in and settings.oidc is None:
            refusal = Refusal(RefusalKind.UNAVAILABLE, "no sign-in is configured")
            return refused_page(request, locale, refusal)
        token = new_token()
        response = render(
            request,
            "sign_in.html",
            locale,
            users=DEV_USERS if settings.dev_sign_in else {},
            locales=LOCALES,
            csrf=token,
            oidc=settings.oidc is not None,
        )
        set_cookie(response, PRE_SESSION_CSRF, token)
        return response

    @router.post(SIGN_IN)
    def sign_in(
        request: Request,
        user: Annotated[str, Form(max_length=64)],
        csrf: CSRF = None,
        locale: Annotated[str, Form(max_length=8)] = "nl",
    ) -> Response:
        language = chosen(locale)
        try:
            require_csrf(csrf, request.cookies.get(PRE_SESSION_CSRF) or "")
            if not settings.dev_sign_in or user not in DEV_USERS:
                raise Refusal(RefusalKind.FORBIDDEN, "no such user")
        except Refusal as refusal:
            return refused_page(request, language, refusal)
        session_id, _session = sessions.open(DEV_USERS[user], language)
        response = see_other(home(DEV_USERS[user]))
        set_cookie(response, SESSION_COOKIE, session_id)
        response.delete_cookie(PRE_SESSION_CSRF, path="/pages")
        return response

    @router.get("/pages/sign-in/oidc")
    def oidc_start(request: Request) -> Response:
        """To the identity provider; the state cookie binds its answer to this browser."""
        if settings.oidc is None:
            return refused_page(request, "nl", Refusal(RefusalKind.NOT_FOUND, "no OIDC sign-in"))
        try:
            state, url = settings.oidc.start()
        except Refusal as refusal:
            return refused_page(request, "nl", refusal)
        response = see_other(url)
        set_cookie(response, OIDC_STATE, state)
        return response

    @router.get("/pages/sign-in/oidc/callback")
    def oidc_callback(
        request: Request,
        state: Annotated[str, Query(max_length=128)] = "",
        code: Annotated[str, Query(max_length=2048)] = "",
    ) -> Response:
        try:
            if settings.oidc is None:
                raise Refusal(RefusalKind.NOT_FOUND, "no OIDC sign-in")
            if not state or not same_token(request.cookies.get(OIDC_STATE), state):
                raise Refusal(RefusalKind.UNAUTHENTICATED, "the sign-in was not started here")
            analyst = settings.oidc.finish(state, code)
        except Refusal as refusal:
            return refused_page(request, "nl", refusal)
        session_id, _session = sessions.open(analyst, "nl")
        response = see_other(home(analyst))
        set_cookie(response, SESSION_COOKIE, session_id)
        response.delete_cookie(OIDC_STATE, path="/pages")
        return response

    @router.post("/pages/sign-out")
    def sign_out(request: Request, csrf: CSRF = None) -> Response:
        session = current(request, sessions)
        if session is not None:
            try:
                require_csrf(csrf, session.csrf)
            except Refusal as refusal:
                return refused_page(request, session.locale, refusal, session=session)
            sessions.close(request.cookies.get(SESSION_COOKIE))
        response = see_other(SIGN_IN)
        response.delete_cookie(SESSION_COOKIE, path="/pages")
        return response
