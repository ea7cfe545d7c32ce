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


class UnfoundedView(Recorded):
    household: str
    signal_id: str
    by: dict[str, str]
    found_at: datetime
    score: str  # the household's score just after: the signal left out


class ProtectedView(Recorded):
    household: str
    signal_id: str
    by: dict[str, str]
    protected_at: datetime


FINDINGS: dict[str, Callable[[SignalLedger], Callable[..., Any]]] = {
    "unfounded": lambda ledger: ledger.find_unfounded,
    "reporter-protection": lambda ledger: ledger.protect_reporter,
}
"""Each finding's step on the ledger, by its path segment (the pages' one form route)."""


def findings_router(casework: Casework, person: Any) -> APIRouter:
    router = APIRouter(tags=["findings"], responses={**QUERY_ERRORS, **STEP_ERRORS})

    @router.post(
        "/v1/households/{household}/signals/{signal}/unfounded",
        response_model=UnfoundedView,
        status_code=201,
    )
    def find_unfounded(
        request: Request,
        household: Household,
        signal: Signal,
        body: FindingRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> UnfoundedView:
        """Veilig Thuis found the signal unfounded after investigation: it no longer counts in
        the score (rescored at once), the timeline marks it, its publisher hears of it."""

        def step() -> UnfoundedView:
            at = casework.now()
            by = staff(actor)
            with refused():
                casework.ledger.find_unfounded(household, str(signal), by, body.reason, at)
            latest = casework.ledger.household(household).latest_score
            return UnfoundedView(
                household=household,
                signal_id=str(signal),
                by=by.record(),
                found_at=at,
                score=str(latest.score if latest else 0),
            )

        view: UnfoundedView = casework.perform(
            casework.household_step(actor, household, body),
            endpoint(request),
            ["signal_finding"],
            step,
        )
        return view

    @router.post(
        "/v1/households/{household}/signals/{signal}/reporter-protection",
        response_model=ProtectedView,
        status_code=201,
    )
    def protect_reporter(
        request: Request,
        household: Household,
        signal: Signal,
        body: FindingRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> ProtectedView:
        """Veilig Thuis protects the reporter of the signal (its organisation, within this
        household): no inzage of the household's members names them from now on."""

        def step() -> ProtectedView:
            at = casework.now()
            by = staff(actor)
            with refused():
                casework.ledger.protect_reporter(household, str(signal), by, body.reason, at)
            return ProtectedView(
                household=household, signal_id=str(signal), by=by.record(), protected_at=at
            )

        view: ProtectedView = casework.perform(
            casework.household_step(actor, household, body),
            endpoint(request),
            ["reporter_protection"],
            step,
        )
        return view

    return router


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
