"""The ingest API, the signals slice's HTTP edge: parses, calls the use cases in service.py and
maps their answers to status codes (202 accepted, 200 duplicate, refusals by kind)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Body, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from contracts.correction_v1 import CorrectionKind
from privacy.actors import Publisher
from privacy.credentials import Audience, TokenAuthority
from privacy.sealed_identifiers import PublishedKey
from services.errors import Refusal, RefusalKind
from services.http import (
    RETRY_AFTER_SECONDS,
    actor_dependency,
    error_responses,
    new_api,
)
from services.problems import Problem, problem_response, with_problem
from services.replicas import ReplicaState, ReplicaWatch
from services.signals.answers import (
    BatchResult,
    BatchSubmission,
    BatchSubmissionV2,
    CorrectionResult,
    Outcome,
    Readiness,
    SignalResult,
    kafka_unavailable,
    log,
    log_results,
)
from services.signals.rate_limits import IngestRateLimit
from services.signals.schemas import RawCorrection, RawRetraction, RawSignal
from services.signals.service import Ingest, Rectification
from services.signals.submission_v2 import RawSignalV2


def create_ingest_app(
    ingest: Ingest,
    authority: TokenAuthority,
    max_batch: int,
    max_body_bytes: int,
    rate_limit: IngestRateLimit | None = None,
    replicas: ReplicaWatch | None = None,
) -> FastAPI:
    """The ingest API around one Ingest. Every route that publishes charges the publisher's
    organisation first (`rate_limit`, none by default): a 429 refuses the request whole.
    `replicas` makes readiness report the signals topic's copies in sync."""
    limit = rate_limit or IngestRateLimit.off()
    app = new_api("Signal radar ingest API", max_body_bytes)
    publisher_of = actor_dependency(
        authority, Audience.INGEST, Publisher, "only publishing organisations may submit signals"
    )

    one_responses: dict[int | str, dict[str, Any]] = {
        200: {"model": SignalResult, "description": "A duplicate: accepted before"},
        **error_responses(401, 403, 409, 413, 415, 422, 429, 503),
    }
    batch_responses: dict[int | str, dict[str, Any]] = {
        **error_responses(401, 403, 413, 415, 422, 429),
        503: {
            "model": with_problem(BatchResult) | Problem,
            "description": "Kafka did not take some signals (the problem carries the "
            "BatchResult, which says which: send those again) or the database is "
            "unavailable (nothing was stored)",
        },
    }

    @app.post(
        "/v1/signals",
        operation_id="submit_signal",
        response_model=SignalResult,
        status_code=202,
        responses=one_responses,
    )
    def submit_signal(
        signal: Annotated[RawSignal, Body()],
        publisher: Publisher = Depends(publisher_of),  # noqa: B008
    ) -> JSONResponse:
        """Submit one signal. 202: in Kafka; 200: duplicate; 4xx: rejected; 429 (your
        organisation's rate limit) or 503: retry after Retry-After seconds."""
        return one(signal, publisher, 1)

    @app.post(
        "/v1/signals/batch",
        operation_id="submit_batch",
        response_model=BatchResult,
        responses=batch_responses,
    )
    def submit_batch(
        batch: BatchSubmission,
        request: Request,
        publisher: Publisher = Depends(publisher_of),  # noqa: B008
    ) -> JSONResponse:
        """Submit up to the batch limit of signals; each gets its own answer. Every signal
        counts against your organisation's rate limit (invalid ones and duplicates too); a
        batch over what remains is refused whole (429), never in part."""
        return several(batch.signals, request, publisher, 1)

    @app.post(
        "/v2/signals",
        operation_id="submit_signal_v2",
        response_model=SignalResult,
        status_code=202,
        responses=one_responses,
    )
    def submit_signal_v2(
        signal: Annotated[RawSignalV2, Body()],
        publisher: Publisher = Depends(publisher_of),  # noqa: B008
    ) -> JSONResponse:
        """Submit one signal.v2 (published with the schema header radar.signal.v2); answers
        as for v1. Any sector of the v2 vocabulary may publish its v2 signal types."""
        return one(signal, publisher, 2)

    @app.post(
        "/v2/signals/batch",
        operation_id="submit_batch_v2",
        response_model=BatchResult,
        responses=batch_responses,
    )
    def submit_batch_v2(
        batch: BatchSubmissionV2,
        request: Request,
        publisher: Publisher = Depends(publisher_of),  # noqa: B008
    ) -> JSONResponse:
        """Submit up to the batch limit of signal.v2s; answers as for a v1 batch."""
        return several(batch.signals, request, publisher, 2)

    def one(signal: dict[str, Any], publisher: Publisher, version: int) -> JSONResponse:
        limit.admit(publisher.organisation, 1)
        (result,) = ingest.submit(publisher, [signal], version)
        log_results(publisher, [result])
        if result.status == Outcome.REJECTED:
            raise Refusal(RefusalKind(result.refusal), "signal rejected", result.errors)
        if result.status == Outcome.UNAVAILABLE:
            raise kafka_unavailable()
        status = 202 if result.status == Outcome.ACCEPTED else 200
        return JSONResponse(result.model_dump(mode="json"), status_code=status)

    def several(
        signals: list[dict[str, Any]], request: Request, publisher: Publisher, version: int
    ) -> JSONResponse:
        if len(signals) > max_batch:
            raise Refusal(RefusalKind.TOO_LARGE, f"a batch holds at most {max_batch} signals")
        limit.admit(publisher.organisation, len(signals))
        results = ingest.submit(publisher, signals, version)
        log_results(publisher, results)
        body = BatchResult(
            results=results,
            accepted=sum(r.status == Outcome.ACCEPTED for r in results),
            duplicates=sum(r.status == Outcome.DUPLICATE for r in results),
            rejected=sum(r.status == Outcome.REJECTED for r in results),
            unavailable=sum(r.status == Outcome.UNAVAILABLE for r in results),
        )
        if body.unavailable:
            return problem_response(
                request.scope,
                503,
                f"Kafka did not take {body.unavailable} of the signals: send those again",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                extensions=body.model_dump(mode="json"),
            )
        return JSONResponse(body.model_dump(mode="json"), status_code=200)

    rectification = Rectification(ingest.publisher, ingest.receipts)

    def rectify(
        event_id: UUID, kind: CorrectionKind, body: dict[str, Any], publisher: Publisher
    ) -> JSONResponse:
        limit.admit(publisher.organisation, 1)  # a correction is a record on Kafka too
        result = rectification.submit(publisher, event_id, kind, body)
        log.info(
            "correction submitted",
            organisation=publisher.organisation,
            kind=str(kind),
            status=str(result.status),
        )
        status = 202 if result.status == Outcome.ACCEPTED else 200
        return JSONResponse(result.model_dump(mode="json"), status_code=status)

    rectify_responses: dict[int | str, dict[str, Any]] = {
        200: {"model": CorrectionResult, "description": "A duplicate: accepted before"},
        **error_responses(401, 403, 404, 409, 413, 415, 422, 429, 503),
    }

    @app.post(
        "/v1/signals/{event_id}/correction",
        operation_id="correct_signal",
        response_model=CorrectionResult,
        status_code=202,
        responses=rectify_responses,
    )
    def correct_signal(
        event_id: UUID,
        correction: Annotated[RawCorrection, Body()],
        publisher: Publisher = Depends(publisher_of),  # noqa: B008
    ) -> JSONResponse:
        """Correct the signal type, severity or occurred-at of a signal your organisation
        published. 202: in Kafka; 200: duplicate (same correction_id); 403: not your signal;
        404: unknown event id; 409: correction_id reused, or the signal was retracted."""
        return rectify(event_id, CorrectionKind.CORRECTION, correction, publisher)

    @app.post(
        "/v1/signals/{event_id}/retraction",
        operation_id="retract_signal",
        response_model=CorrectionResult,
        status_code=202,
        responses=rectify_responses,
    )
    def retract_signal(
        event_id: UUID,
        retraction: Annotated[RawRetraction, Body()],
        publisher: Publisher = Depends(publisher_of),  # noqa: B008
    ) -> JSONResponse:
        """Retract a signal your organisation published: it leaves every view and score; the
        record of it stays in the log. Answers as for a correction."""
        return rectify(event_id, CorrectionKind.RETRACTION, retraction, publisher)

    @app.get(
        "/v1/keys/identifiers",
        operation_id="identifier_key",
        response_model=PublishedKey,
        responses=error_responses(401, 503),
    )
    def identifier_key(
        _publisher: Publisher = Depends(publisher_of),  # noqa: B008
    ) -> PublishedKey:
        """The radar's current public key: seal each BSN and address to it (HPKE, see
        `context` for what each sealed value is bound to) and send them as sealed_bsn /
        sealed_address."""
        return ingest.opener.published_key()

    @app.get(
        "/health/ready",
        operation_id="ready",
        response_model=Readiness,
        responses={
            503: {"model": with_problem(Readiness), "description": "Kafka or the database is down"}
        },
    )
    def ready(request: Request) -> JSONResponse:
        """200 when Kafka and the database answer; 503 naming what is down."""
        # Also 503 while a partition of the signals topic has too few copies in sync to take a
        # write (`replicas`); the description above is a published contract (interface-v0).
        kafka_ok = ingest.publisher.is_ready()
        database_ok = ingest.receipts.is_ready()
        copies = replicas.state() if replicas is not None and kafka_ok else ReplicaState.UNKNOWN
        state = {
            "kafka": "up" if kafka_ok else "down",
            "database": "up" if database_ok else "down",
            "replicas": copies.value,
        }
        missing = [name for name in ("kafka", "database") if state[name] == "down"]
        if kafka_ok and database_ok and copies != ReplicaState.BELOW_MIN_INSYNC:
            return JSONResponse(state, status_code=200)
        detail = (
            f"not ready: {', '.join(missing)} down"
            if missing
            else (
                "not ready: a partition of the signals topic has fewer copies in sync than "
                "RADAR_SIGNALS_MIN_INSYNC_REPLICAS"
            )
        )
        return problem_response(request.scope, 503, detail, extensions=state)

    return app
