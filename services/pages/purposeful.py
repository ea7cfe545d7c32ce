"""The shape every page with personal data has: signed in, else to the sign-in; a purpose
chosen, else the chooser (nothing about anyone shown before); then one read through the gate,
its refusal a page; then the template."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from privacy.purposes import PurposeRegister, Resource
from services.errors import Refusal
from services.pages.people import SIGN_IN, current
from services.pages.sessions import PageSession, SessionBook
from services.pages.web import refused_page, render, see_other

Read = Callable[[PageSession, str], dict[str, Any]]
"""Reads through the gate for the person and purpose; returns the template's context."""


def choose_purpose(
    request: Request, session: PageSession, register: PurposeRegister, resource: Resource
) -> Response:
    """Nothing about anyone is shown before a purpose is chosen: the purposes this person's
    role may use for this kind of page, with what each is for."""
    choices = [
        {"name": name, "description": p.description}
        for name, p in sorted(register.purposes.items())
        if session.analyst.role in p.roles and resource in p.resources
    ]
    return render(
        request,
        "purpose.html",
        session.locale,
        session=session,
        choices=choices,
        action=request.url.path,
    )


def with_purpose(
    request: Request,
    sessions: SessionBook,
    register: PurposeRegister,
    resource: Resource,
    purpose: str | None,
) -> tuple[PageSession, str] | Response:
    """The signed-in person and their chosen purpose, or the page to go to first (the sign-in,
    the chooser)."""
    session = current(request, sessions)
    if session is None:
        return see_other(SIGN_IN)
    if not purpose:
        return choose_purpose(request, session, register, resource)
    return session, purpose


@dataclass(frozen=True)
class Pages:
    """Answers the pages of one router by that shape."""

    sessions: SessionBook
    register: PurposeRegister

    def page(
        self,
        request: Request,
        resource: Resource,
        purpose: str | None,
        template: str,
        read: Read,
    ) -> Response:
        session = current(request, self.sessions)
        if session is None:
            return see_other(SIGN_IN)
        if not purpose:
            return choose_purpose(request, session, self.register, resource)
        try:
            context = read(session, purpose)
        except Refusal as refusal:
            return refused_page(request, session.locale, refusal, session=session)
        return render(
            request, template, session.locale, session=session, purpose=purpose, **context
        )
