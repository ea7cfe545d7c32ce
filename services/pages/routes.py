"""The pages' routes, mounted on the query service by the composition root: sign-in and out,
the analyst's worklist and household pages, the casework forms, and the style sheet."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from services.casework.service import Casework
from services.oversight.service import OversightQueries
from services.pages.analyst_routes import analyst_routes
from services.pages.household import HouseholdPages
from services.pages.oversight_routes import oversight_routes
from services.pages.people import PageSettings
from services.pages.sessions import SessionBook
from services.pages.sign_in_routes import sign_in_routes
from services.pages.step_routes import step_routes
from services.pages.web import STATIC
from services.projections.read_model import ReadModelsOf
from services.settings import Settings
from services.timelines.service import TimelineQueries

STATIC_MAX_AGE = 3600
"""The style sheet holds nothing about anyone: a browser may keep it for an hour."""


def pages_router(
    casework: Casework,
    timelines: TimelineQueries,
    oversight: OversightQueries,
    sessions: SessionBook,
    settings: PageSettings,
    audit: tuple[Settings, ReadModelsOf],
) -> APIRouter:
    """Every page; none is in the API's OpenAPI document. `audit` is what the auditor's
    reports read: the settings and the maker of read models for a replay."""
    router = APIRouter(include_in_schema=False)
    sign_in_routes(router, sessions, settings)
    analyst_routes(router, sessions, casework, HouseholdPages(casework, timelines))
    step_routes(router, sessions, casework)
    oversight_routes(router, sessions, oversight, *audit)

    @router.get("/pages/static/style.css")
    def style() -> FileResponse:
        return FileResponse(
            STATIC / "style.css",
            media_type="text/css",
            headers={"Cache-Control": f"max-age={STATIC_MAX_AGE}"},
        )

    return router
