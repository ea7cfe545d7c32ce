"""Who is signed in to the pages, and the checks every page and form makes of them: a session
from the cookie, a CSRF token on every form, and the synthetic users of the development
sign-in."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from contracts.regions import VtRegion
from privacy.actors import Analyst, AnalystRole
from services.errors import Refusal, RefusalKind
from services.pages.oidc import OidcLogin
from services.pages.sessions import SESSION_COOKIE, PageSession, SessionBook, same_token

SIGN_IN = "/pages/sign-in"
CSRF_FIELD = "csrf"
PRE_SESSION_CSRF = "radar_sign_in_csrf"
"""Before there is a session, the sign-in form's token is checked against this cookie."""

DEV_USERS: dict[str, Analyst] = {
    "triage-utrecht": Analyst("dev.triage", "vt-utrecht", AnalystRole.TRIAGE, VtRegion.VT09),
    "safety-utrecht": Analyst(
        "dev.veiligheid", "vt-utrecht", AnalystRole.SAFETY_ASSESSMENT, VtRegion.VT09
    ),
    "monitoring-utrecht": Analyst(
        "dev.monitoring", "vt-utrecht", AnalystRole.MONITORING, VtRegion.VT09
    ),
    "doctor-utrecht": Analyst(
        "dev.arts", "vt-utrecht", AnalystRole.CONFIDENTIAL_DOCTOR, VtRegion.VT09
    ),
    "triage-amsterdam": Analyst(
        "dev.triage.ams", "vt-amsterdam-amstelland", AnalystRole.TRIAGE, VtRegion.VT13
    ),
    "privacy-officer": Analyst("dev.fg", "radar-fg", AnalystRole.PRIVACY_OFFICER, VtRegion.VT09),
    "auditor": Analyst("dev.audit", "radar-audit", AnalystRole.AUDITOR, VtRegion.VT09),
    "om-utrecht": Analyst(
        "dev.officier", "om-midden-nederland", AnalystRole.PROSECUTOR, VtRegion.VT09
    ),
    "school-utrecht": Analyst("dev.school", "obs-de-regenboog", AnalystRole.SCHOOL, VtRegion.VT09),
    "leerplicht-utrecht": Analyst(
        "dev.leerplicht", "leerplicht-gm0344", AnalystRole.COMPULSORY_EDUCATION, VtRegion.VT09
    ),
    "reporter-politie": Analyst(
        "dev.melder.politie", "politie-midden-nederland", AnalystRole.REPORTER, VtRegion.VT09
    ),
    "reporter-school": Analyst(
        "dev.melder.school", "obs-de-regenboog", AnalystRole.REPORTER, VtRegion.VT09
    ),
}
"""Synthetic people for `make run` (role, region, organisation); never in production."""


@dataclass(frozen=True)
class PageSettings:
    dev_sign_in: bool
    secure_cookie: bool
    idle_seconds: int
    oidc: OidcLogin | None = None


HOMES = {
    AnalystRole.PRIVACY_OFFICER: "/pages/break-glass",
    AnalystRole.AUDITOR: "/pages/audit",
    AnalystRole.PROSECUTOR: "/pages/referrals",
    AnalystRole.SCHOOL: "/pages/handle-with-care",  # its Handle with Care notices
    AnalystRole.COMPULSORY_EDUCATION: "/pages/handle-with-care",
    AnalystRole.REPORTER: "/pages/my-signals",
}


def home(analyst: Analyst) -> str:
    """Where a person starts after signing in: the page of their work."""
    return HOMES.get(analyst.role, "/pages/worklist")


def current(request: Request, sessions: SessionBook) -> PageSession | None:
    return sessions.find(request.cookies.get(SESSION_COOKIE))


def require_csrf(given: str | None, expected: str) -> None:
    """A form without its session's token is refused before anything is done."""
    if not same_token(given, expected):
        raise Refusal(RefusalKind.FORBIDDEN, "the form's CSRF token is missing or wrong")
