"""Routes for Veilig Thuis's findings (issue 17): a signal found unfounded (ongegrond) and a
protected reporter (melder beschermen). Steps on the household's worklist through the gate, like
every step: decided for the household's region, logged (allowed or refused) with the purpose;
a refusal changes nothing (radar/household_findings.py says what is refused and why)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request
from pydantic import Field

from contracts.pseudonyms_v2 import HouseholdPseudonymV2
from privacy.actors import Analyst
from radar.household_findings import FindingConflictError, FindingError, UnknownSignalError
from services.casework.service import Casework, staff
from services.casework.views import AlertStep, Note, Recorded
from services.errors import Refusal, RefusalKind, invalid_field
from services.http import QUERY_ERRORS, STEP_ERRORS, endpoint
from services.ledger.application import SignalLedger

Household = Annotated[HouseholdPseudonymV2, Path(description="Household pseudonym")]
Signal = Annotated[UUID, Path(description="The signal's event id")]


class FindingRequest(AlertStep):
    """A finding's purpose (signal_finding) and its reason, through the leak guard."""

    reason: Note


class FindingView(Recorded):
    household: str
    signal_id: str
    finding: str = Field(description="unfounded or reporter-protection")
    by: dict[str, str]
    at: datetime
    score: str | None = Field(
        default=None, description="After a finding of unfounded: the score, the signal left out."
    )


FINDINGS: dict[str, Callable[[SignalLedger], Callable[..., Any]]] = {
    "unfounded": lambda ledger: ledger.find_unfounded,
    "reporter-protection": lambda ledger: ledger.protect_reporter,
}
"""Each finding's step on the ledger, by its path segment (the pages' one form route too)."""
FIELDS = {"unfounded": "signal_finding", "reporter-protection": "reporter_protection"}
"""What the access log records each finding as."""


ROUTES = {
    "unfounded": (
        "find_unfounded",
        "Veilig Thuis found the signal unfounded after investigation: it no longer counts in "
        "the score (rescored at once), the timeline marks it, its publisher hears of it.",
    ),
    "reporter-protection": (
        "protect_reporter",
        "Veilig Thuis protects the reporter of the signal (its organisation, within this "
        "household): no inzage of the household's members names them from now on.",
    ),
}
"""Each finding's route: its name (the operation id) and what it does."""


def findings_router(casework: Casework, person: Any) -> APIRouter:
    router = APIRouter(tags=["findings"], responses={**QUERY_ERRORS, **STEP_ERRORS})
    for finding, (name, description) in ROUTES.items():
        router.add_api_route(
            f"/v1/households/{{household}}/signals/{{signal}}/{finding}",
            _route(casework, person, finding),
            methods=["POST"],
            name=name,
            description=description,
            response_model=FindingView,
            response_model_exclude_none=True,
            status_code=201,
        )
    return router


def _route(casework: Casework, person: Any, finding: str) -> Callable[..., FindingView]:
    def record(
        request: Request,
        household: Household,
        signal: Signal,
        body: FindingRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> FindingView:
        return _finding(casework, request, actor, household, signal, body, finding)

    return record


def _finding(
    casework: Casework,
    request: Request,
    actor: Analyst,
    household: str,
    signal: UUID,
    body: FindingRequest,
    finding: str,
) -> FindingView:
    """Records the finding as a step through the gate (decided and logged once)."""

    def step() -> FindingView:
        at, by = casework.now(), staff(actor)
        with refused():
            FINDINGS[finding](casework.ledger)(household, str(signal), by, body.reason, at)
        view = FindingView(
            household=household, signal_id=str(signal), finding=finding, by=by.record(), at=at
        )
        if finding == "unfounded":
            latest = casework.ledger.household(household).latest_score
            view.score = str(latest.score if latest else 0)
        return view

    found: FindingView = casework.perform(
        casework.household_step(actor, household, body),
        endpoint(request),
        [FIELDS[finding]],
        step,
    )
    return found


@contextmanager
def refused() -> Iterator[None]:
    """The findings' domain refusals as the gate's: 404 unknown signal, 409 recorded before,
    422 with the field at fault."""
    try:
        yield
    except UnknownSignalError as error:
        raise Refusal(RefusalKind.NOT_FOUND, str(error)) from error
    except FindingConflictError as error:
        raise Refusal(RefusalKind.CONFLICT, str(error)) from error
    except FindingError as error:
        raise invalid_field(error.field, str(error)) from error
