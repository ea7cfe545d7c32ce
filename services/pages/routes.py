"""The pages' routes, mounted on the query service by the composition root: sign-in and out,
the analyst's worklist and household pages, the casework forms, and the style sheet."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import FileResponse

from privacy.storage.vault import IdentityVault
from services.casework.lead_time_store import LeadTimeStore
from services.casework.service import Casework
from services.feedback.store import FeedbackStore
from services.handle_with_care.service import HandleWithCare
from services.oversight.service import OversightQueries
from services.pages.analyst_routes import analyst_routes
from services.pages.feedback_routes import feedback_routes
from services.pages.household import HouseholdPages
from services.pages.hwc_routes import hwc_routes
from services.pages.identity_routes import identity_routes
from services.pages.oidc import OidcLogin, OidcSettings
from services.pages.oversight_routes import oversight_routes
from services.pages.people import PageSettings
from services.pages.purposeful import Pages
from services.pages.referral_routes import referral_routes
from services.pages.sessions import SessionBook
from services.pages.sign_in_routes import sign_in_routes
from services.pages.statistics_routes import statistics_routes
from services.pages.step_routes import step_routes
from services.pages.web import STATIC
from services.projections.read_model import ReadModelsOf
from services.referrals.store import ReferralStore
from services.settings import Settings
from services.timelines.service import TimelineQueries

STATIC_MAX_AGE = 3600
"""The style sheet holds nothing about anyone: a browser may keep it for an hour."""


def page_settings(settings: Settings) -> PageSettings:
    """How people sign in to the pages: the development sign-in, OIDC, or both."""
    oidc = None
    if settings.pages_oidc_issuer:
        assert settings.pages_oidc_client_id and settings.pages_oidc_redirect_url
        assert settings.pages_oidc_client_secret_file is not None  # all four: Settings checks
        oidc = OidcLogin(
            OidcSettings(
                settings.pages_oidc_issuer,
                settings.pages_oidc_client_id,
                settings.pages_oidc_client_secret_file,
                settings.pages_oidc_redirect_url,
            )
        )
    return PageSettings(
        dev_sign_in=settings.pages_dev_sign_in,
        secure_cookie=settings.pages_behind_tls,
        idle_seconds=settings.pages_idle_minutes * 60,
        oidc=oidc,
    )


def pages_router(
    casework: Casework,
    timelines: TimelineQueries,
    oversight: OversightQueries,
    settings: Settings,
    read_models: ReadModelsOf,
    vault: IdentityVault,
    lead_times: LeadTimeStore,
    referrals: ReferralStore,
    feedback: FeedbackStore,
    handle_with_care: HandleWithCare | None = None,
) -> APIRouter:
    """Every page; none is in the API's OpenAPI document. `read_models` makes the read models
    of an auditor's replay; `vault` answers a re-identification; `lead_times` the lead-time
    table; `feedback` the reporter's own signals."""
    router = APIRouter(include_in_schema=False)
    sessions = SessionBook(timedelta(minutes=settings.pages_idle_minutes))  # this process's
    sign_in_routes(router, sessions, page_settings(settings))
    analyst_routes(router, sessions, casework, HouseholdPages(casework, timelines))
    step_routes(router, sessions, casework)
    register = casework.gate.policy.register
    identity_routes(router, sessions, casework.gate, vault, register)
    statistics_routes(
        router, Pages(sessions, register), casework.gate, lead_times, lambda: casework.ledger
    )
    oversight_routes(router, sessions, oversight, settings, read_models)
    referral_routes(router, sessions, casework, register, referrals, settings.referral_recipients)
    if handle_with_care is not None:
        hwc_routes(router, Pages(sessions, register), handle_with_care)
    feedback_routes(router, Pages(sessions, register), casework.gate, feedback)

    @router.get("/pages/static/style.css")
    def style() -> FileResponse:
        return FileResponse(
            STATIC / "style.css",
            media_type="text/css",
            headers={"Cache-Control": f"max-age={STATIC_MAX_AGE}"},
        )

    return router
