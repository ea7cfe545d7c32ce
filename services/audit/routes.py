"""The audit API, for the auditor role under the audit purpose: replay, verify, access
compliance. Every route answers through the query gate, so each request is decided first and
leaves exactly one access-log entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from contracts.pseudonyms_v2 import HouseholdPseudonymV2
from contracts.regions import VtRegion
from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from services.audit import report as html_report
from services.audit import service
from services.audit.snapshot import Selection
from services.gate import Answer, QueryGate
from services.http import QUERY_ERRORS, endpoint
from services.projections.read_model import ReadModelsOf
from services.settings import Settings

Purpose = Annotated[str | None, Query(max_length=64, description="Registered purpose")]
Format = Annotated[Literal["json", "html"], Query(description="json or a readable html report")]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _json(value: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(value, default=str), status_code=status, media_type="application/json"
    )


def audit_router(
    gate: QueryGate,
    settings: Settings,
    person: Callable[..., Analyst],
    read_models: ReadModelsOf,
) -> APIRouter:
    """The routes; `person` is the query API's analyst dependency, `read_models` makes every
    read model on a (scratch) database for a replay."""
    router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=QUERY_ERRORS)

    @router.get("/replay")
    def replay(
        request: Request,
        as_of: Annotated[datetime, Query(description="ISO 8601; UTC when no zone is given")],
        purpose: Purpose = None,
        household: HouseholdPseudonymV2 | None = None,
        region: VtRegion | None = None,
        view_purpose: Annotated[
            str | None, Query(max_length=64, description="Show timelines as this purpose did")
        ] = None,
        format: Format = "json",
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> Response:
        """Every read model as it was at `as_of`, rebuilt in a throw-away database."""
        access = AccessRequest(actor, Resource.AUDIT_REPLAY, purpose, subject=household)
        selection = Selection(household, str(region) if region else None)

        def read(_decision: Decision) -> Answer:
            try:
                result = service.replay_report(
                    settings, read_models, _utc(as_of), selection, view_purpose
                )
            except service.AuditError as error:
                return Answer(_json({"detail": str(error)}, 422), [], 0)
            signals = sum(len(h["signals"]) for h in result["households"])
            body = (
                HTMLResponse(html_report.replay_html(result)) if format == "html" else _json(result)
            )
            return Answer(body, ["audit_replay"], signals)

        answered: Response = gate.answer(access, endpoint(request), read)
        return answered

    @router.get("/verify")
    def verify(
        request: Request,
        purpose: Purpose = None,
        kafka: bool = True,
        format: Format = "json",
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> Response:
        """Integrity of the event store and the access log, with where any fault is."""
        access = AccessRequest(actor, Resource.AUDIT_REPLAY, purpose)

        def read(_decision: Decision) -> Answer:
            try:
                result = service.verify_report(settings, use_kafka=kafka).as_dict()
            except service.AuditError as error:
                return Answer(_json({"detail": str(error)}, 503), [], 0)
            body = (
                HTMLResponse(html_report.verify_html(result)) if format == "html" else _json(result)
            )
            return Answer(body, ["audit_verify"], len(result["faults"]))

        answered: Response = gate.answer(access, endpoint(request), read)
        return answered

    @router.get("/access")
    def access_compliance(
        request: Request,
        purpose: Purpose = None,
        since: datetime | None = None,
        until: datetime | None = None,
        format: Format = "json",
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> Response:
        """Every access in the period re-decided under the register then in force."""
        access = AccessRequest(actor, Resource.AUDIT_REPLAY, purpose)

        def read(_decision: Decision) -> Answer:
            result = orjson.loads(
                orjson.dumps(
                    service.access_report(settings, _utc(since), _utc(until)).as_dict(), default=str
                )
            )
            body = (
                HTMLResponse(html_report.access_html(result)) if format == "html" else _json(result)
            )
            return Answer(body, ["audit_access"], int(result["accesses_checked"]))

        answered: Response = gate.answer(access, endpoint(request), read)
        return answered

    return router
