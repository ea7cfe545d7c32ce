"""The ingest API: publishers send signals, one or up to a batch limit, and hear per signal
whether it was accepted (durably in Kafka), a duplicate, or rejected and why. They correct or
retract the signals they published (AVG art. 16) with the same answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from contracts.correction_v1 import CorrectionKind, SignalCorrectionV1
from contracts.signal_v1 import SignalEventV1
from contracts.vocabulary import sector_may_publish
from privacy.actors import Publisher
from privacy.credentials import Audience, TokenAuthority
from privacy.pseudonyms import Pseudonymiser, PseudonymKeyFile
from privacy.sealed_identifiers import PublishedKey
from privacy.storage.vault import Identity, IdentityVault
from services.http import (
    ApiError,
    ErrorBody,
    FieldError,
    actor_dependency,
    error_responses,
    field_errors,
    new_api,
)
from services.signals.identifiers import IdentifierOpener
from services.signals.leak_check import identifier_leaks
from services.signals.publisher import SignalPublisher
from services.signals.schemas import (
    CORRECTION_NOT_FREE_TEXT,
    CORRECTION_SUBMISSIONS,
    SignalSubmission,
    to_event,
)
from services.signals.store import ReceiptBook, correction_fingerprint, fingerprint

RETRY_AFTER_SECONDS = "5"
log = structlog.get_logger("radar.ingest")


class Outcome(StrEnum):
    """What became of one submitted signal."""

    ACCEPTED = "accepted"  # durably in Kafka
    DUPLICATE = "duplicate"  # this event id was accepted before; nothing changed
    REJECTED = "rejected"  # invalid or not allowed; nothing changed
    UNAVAILABLE = "unavailable"  # Kafka did not acknowledge; send it again later


class SignalResult(BaseModel):
    """The answer for one signal."""

    event_id: UUID | None
    status: Outcome
    errors: list[FieldError] = []
    refusal_status: int = Field(default=422, exclude=True)  # HTTP status for a lone rejection


class BatchSubmission(BaseModel):
    """A batch of signals; each is validated and answered on its own."""

    signals: list[dict[str, Any]] = Field(description="Signals in the SignalSubmission shape.")


class BatchResult(BaseModel):
    """Per-signal answers, in the order the signals were sent, and their counts."""

    results: list[SignalResult]
    accepted: int
    duplicates: int
    rejected: int
    unavailable: int


class CorrectionResult(BaseModel):
    """The answer for one correction or retraction."""

    correction_id: UUID
    corrects: UUID = Field(description="The event id of the signal corrected or retracted.")
    kind: CorrectionKind
    status: Outcome


class Readiness(BaseModel):
    """Whether each backing service answers."""

    kafka: str = Field(description="up or down")
    database: str = Field(description="up or down")


_submission = TypeAdapter(SignalSubmission)


class ReceiptsUnavailableError(Exception):
    """The database with the receipts, or the identity vault, cannot be reached: nothing was
    taken."""


class _Pending:
    """A signal that passed validation, with its place in the request and its identifiers
    (which go to the identity vault and nowhere else)."""

    def __init__(
        self, index: int, event: SignalEventV1, reported_by_publisher: bool, identity: Identity
    ) -> None:
        self.index = index
        self.event = event
        self.reported_by_publisher = reported_by_publisher
        self.identity = identity

    def fingerprint(self) -> str:
        """What the publisher said, under the pseudonyms the radar first knew (so a signal
        re-sent after a key rotation is still recognised as the same signal)."""
        return fingerprint(self.event.canonical(), self.reported_by_publisher)


class Ingest:
    """Guards, validates, opens sealed identifiers, pseudonymises, deduplicates, deposits the
    identifiers in the vault and publishes; shared by both endpoints."""

    def __init__(
        self,
        opener: IdentifierOpener,
        pseudonyms: PseudonymKeyFile,
        vault: IdentityVault,
        publisher: SignalPublisher,
        receipts: ReceiptBook,
    ) -> None:
        self.opener = opener
        self.pseudonyms = pseudonyms
        self.vault = vault
        self.publisher = publisher
        self.receipts = receipts

    def submit(self, publisher: Publisher, raw_signals: Sequence[Any]) -> list[SignalResult]:
        """Answers each raw signal; only acknowledged signals get a receipt."""
        received_at = datetime.now(UTC)
        pseudonymiser = self.pseudonyms.pseudonymiser()  # one key version for the request
        results: list[SignalResult | None] = [None] * len(raw_signals)
        pending: list[_Pending] = []
        for index, raw in enumerate(raw_signals):
            verdict = self._prepare(publisher, raw, received_at, pseudonymiser)
            if isinstance(verdict, SignalResult):
                results[index] = verdict
            else:
                pending.append(_Pending(index, *verdict))
        try:
            pending = self._without_duplicates(pending, results, pseudonymiser)
            # The vault first: a signal is never published without its identity held.
            links = self.vault.deposit([p.identity for p in pending], pseudonymiser)
        except SQLAlchemyError as error:  # cannot tell duplicates: take nothing, say retry
            raise ReceiptsUnavailableError from error
        for item, known_as in zip(pending, links, strict=True):
            item.event = item.event.model_copy(update={"known_as": known_as})
        if pending:
            deliveries = self.publisher.publish([p.event for p in pending])
            try:
                self.receipts.record(
                    (p.event, p.fingerprint())
                    for p, d in zip(pending, deliveries, strict=True)
                    if d.acknowledged
                )
            except SQLAlchemyError as error:
                # The signals are durably in Kafka, so they are accepted; without a receipt a
                # re-submission is published again and the aggregator records it only once.
                log.warning("receipts not written", error=type(error).__name__)
            for item, delivery in zip(pending, deliveries, strict=True):
                status = Outcome.ACCEPTED if delivery.acknowledged else Outcome.UNAVAILABLE
                results[item.index] = SignalResult(event_id=item.event.event_id, status=status)
        return [r for r in results if r is not None]

    def _prepare(
        self, publisher: Publisher, raw: Any, received_at: datetime, pseudonymiser: Pseudonymiser
    ) -> tuple[SignalEventV1, bool, Identity] | SignalResult:
        """The pseudonymised event, whether the publisher gave reported-at, and the identity
        for the vault; or the rejection."""
        event_id = _event_id_of(raw)
        leaks = identifier_leaks(raw)
        if leaks:
            return SignalResult(event_id=event_id, status=Outcome.REJECTED, errors=leaks)
        try:
            submission = _submission.validate_python(raw)
        except ValidationError as error:
            return SignalResult(
                event_id=event_id, status=Outcome.REJECTED, errors=field_errors(error)
            )
        if not sector_may_publish(publisher.sector, submission.signal_type):
            reason = f"sector '{publisher.sector}' may not publish this signal type"
            return SignalResult(
                event_id=event_id,
                status=Outcome.REJECTED,
                errors=[FieldError(field="signal_type", reason=reason)],
                refusal_status=403,
            )
        identifiers = self.opener.identifiers(submission)
        if isinstance(identifiers, list):
            return SignalResult(event_id=event_id, status=Outcome.REJECTED, errors=identifiers)
        try:
            event = to_event(submission, identifiers, publisher, pseudonymiser, received_at)
        except ValidationError as error:
            return SignalResult(
                event_id=event_id, status=Outcome.REJECTED, errors=field_errors(error)
            )
        identity = Identity(
            event.household,
            identifiers.home,
            tuple(
                (p.pseudonym, bsn) for p, bsn in zip(event.persons, identifiers.bsns, strict=True)
            ),
        )
        return event, submission.reported_at is not None, identity

    def _without_duplicates(
        self,
        pending: list[_Pending],
        results: list[SignalResult | None],
        pseudonymiser: Pseudonymiser,
    ) -> list[_Pending]:
        known = self.receipts.known(p.event.event_id for p in pending)
        resent = [p for p in pending if p.event.event_id in known]
        # A re-sent signal is compared under the pseudonyms the radar first knew (the vault
        # says which, without storing anything), since a key rotation may lie in between.
        for item, known_as in zip(
            resent, self.vault.links([p.identity for p in resent], pseudonymiser), strict=True
        ):
            item.event = item.event.model_copy(update={"known_as": known_as})
        fresh: list[_Pending] = []
        seen_in_request: dict[UUID, str] = {}
        for item in pending:
            event_id = item.event.event_id
            earlier = known.get(event_id) or seen_in_request.get(event_id)
            if earlier is None:
                seen_in_request[event_id] = item.fingerprint()
                fresh.append(item)
            elif earlier == item.fingerprint():
                results[item.index] = SignalResult(event_id=event_id, status=Outcome.DUPLICATE)
            else:
                reason = "event_id was already used for a different signal"
                results[item.index] = SignalResult(
                    event_id=event_id,
                    status=Outcome.REJECTED,
                    errors=[FieldError(field="event_id", reason=reason)],
                    refusal_status=409,
                )
        return fresh


class Rectification:
    """Corrections and retractions of accepted signals: checked against the signal's receipt
    (who published it, its household as first known), deduplicated by correction id and
    published on the signals topic after the signal."""

    def __init__(self, publisher: SignalPublisher, receipts: ReceiptBook) -> None:
        self.publisher = publisher
        self.receipts = receipts

    def submit(
        self, publisher: Publisher, event_id: UUID, kind: CorrectionKind, raw: dict[str, Any]
    ) -> CorrectionResult:
        """Accepted (in Kafka) or duplicate; refusals raise ApiError, a database outage
        ReceiptsUnavailableError."""
        received_at = datetime.now(UTC)
        leaks = identifier_leaks(raw, CORRECTION_NOT_FREE_TEXT)
        if leaks:
            raise ApiError(422, f"{kind} rejected", leaks)
        try:
            submission = CORRECTION_SUBMISSIONS[kind].model_validate(raw)
        except ValidationError as error:
            raise ApiError(422, f"{kind} rejected", field_errors(error)) from error
        values = submission.values()
        corrected_type = values.signal_type if values is not None else None
        if corrected_type is not None and not sector_may_publish(publisher.sector, corrected_type):
            reason = f"sector '{publisher.sector}' may not publish this signal type"
            raise ApiError(
                403, f"{kind} rejected", [FieldError(field="signal_type", reason=reason)]
            )
        try:
            receipt = self.receipts.receipt(event_id)
            earlier = self.receipts.corrections_of(event_id)
            reused = self.receipts.correction(submission.correction_id)
        except SQLAlchemyError as error:
            raise ReceiptsUnavailableError from error
        if receipt is None:
            raise ApiError(404, "no signal with this event id was accepted")
        if receipt.organisation != publisher.organisation:
            raise ApiError(403, "only the organisation that published a signal may correct it")
        if receipt.household is None:
            raise ApiError(
                409,
                "this signal was accepted before corrections were possible, so the radar "
                "cannot tell which household it concerns; ask Veilig Thuis to correct it",
            )
        try:
            correction = SignalCorrectionV1(
                correction_id=submission.correction_id,
                corrects=event_id,
                kind=kind,
                values=values,
                reason=submission.reason,
                organisation=publisher.organisation,
                sector=publisher.sector,
                received_at=received_at,
                household=receipt.household,
            )
        except ValidationError as error:
            raise ApiError(422, f"{kind} rejected", field_errors(error)) from error
        result = CorrectionResult(
            correction_id=correction.correction_id,
            corrects=event_id,
            kind=kind,
            status=Outcome.ACCEPTED,
        )
        if reused is not None:
            if reused.fingerprint == correction_fingerprint(correction):
                return result.model_copy(update={"status": Outcome.DUPLICATE})
            reason = "correction_id was already used for a different correction or retraction"
            raise ApiError(
                409, f"{kind} rejected", [FieldError(field="correction_id", reason=reason)]
            )
        if any(c.kind == CorrectionKind.RETRACTION for c in earlier):
            raise ApiError(409, "the signal was retracted; it can be corrected no more")
        if not self.publisher.publish_correction(correction):
            raise ApiError(
                503,
                "Kafka unavailable: nothing was stored",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        try:
            self.receipts.record_correction(correction)
        except SQLAlchemyError as error:  # in Kafka, so accepted; the aggregator applies it once
            log.warning("correction receipt not written", error=type(error).__name__)
        return result


def _event_id_of(raw: Any) -> UUID | None:
    try:
        return UUID(str(raw.get("event_id"))) if isinstance(raw, dict) else None
    except ValueError:
        return None


def create_ingest_app(
    ingest: Ingest, authority: TokenAuthority, max_batch: int, max_body_bytes: int
) -> FastAPI:
    """The ingest API around one Ingest."""
    app = new_api("Signal radar ingest API", max_body_bytes)
    publisher_of = actor_dependency(
        authority, Audience.INGEST, Publisher, "only publishing organisations may submit signals"
    )

    @app.post(
        "/v1/signals",
        response_model=SignalResult,
        status_code=202,
        responses={
            200: {"model": SignalResult, "description": "A duplicate: accepted before"},
            **error_responses(401, 403, 409, 413, 415, 422, 503),
        },
    )
    def submit_signal(
        signal: dict[str, Any],
        publisher: Publisher = Depends(publisher_of),  # noqa: B008
    ) -> JSONResponse:
        """Submit one signal. 202: in Kafka; 200: duplicate; 4xx: rejected; 503: retry later."""
        (result,) = ingest.submit(publisher, [signal])
        _log_results(publisher, [result])
        if result.status == Outcome.REJECTED:
            raise ApiError(result.refusal_status, "signal rejected", result.errors)
        if result.status == Outcome.UNAVAILABLE:
            raise ApiError(
                503,
                "Kafka unavailable: nothing was stored",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        status = 202 if result.status == Outcome.ACCEPTED else 200
        return JSONResponse(result.model_dump(mode="json"), status_code=status)

    @app.post(
        "/v1/signals/batch",
        response_model=BatchResult,
        responses={
            **error_responses(401, 403, 413, 415, 422),
            503: {
                "model": BatchResult | ErrorBody,
                "description": "Kafka did not take some signals (BatchResult says which; send "
                "those again) or the database is unavailable (ErrorBody; nothing was stored)",
            },
        },
    )
    def submit_batch(
        batch: BatchSubmission,
        publisher: Publisher = Depends(publisher_of),  # noqa: B008
    ) -> JSONResponse:
        """Submit up to the batch limit of signals; each gets its own answer."""
        if len(batch.signals) > max_batch:
            raise ApiError(413, f"a batch holds at most {max_batch} signals")
        results = ingest.submit(publisher, batch.signals)
        _log_results(publisher, results)
        body = BatchResult(
            results=results,
            accepted=sum(r.status == Outcome.ACCEPTED for r in results),
            duplicates=sum(r.status == Outcome.DUPLICATE for r in results),
            rejected=sum(r.status == Outcome.REJECTED for r in results),
            unavailable=sum(r.status == Outcome.UNAVAILABLE for r in results),
        )
        if body.unavailable:
            return JSONResponse(
                body.model_dump(mode="json"),
                status_code=503,
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        return JSONResponse(body.model_dump(mode="json"), status_code=200)

    rectification = Rectification(ingest.publisher, ingest.receipts)

    def rectify(
        event_id: UUID, kind: CorrectionKind, body: dict[str, Any], publisher: Publisher
    ) -> JSONResponse:
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
        **error_responses(401, 403, 404, 409, 413, 415, 422, 503),
    }

    @app.post(
        "/v1/signals/{event_id}/correction",
        response_model=CorrectionResult,
        status_code=202,
        responses=rectify_responses,
    )
    def correct_signal(
        event_id: UUID,
        correction: dict[str, Any],
        publisher: Publisher = Depends(publisher_of),  # noqa: B008
    ) -> JSONResponse:
        """Correct the signal type, severity or occurred-at of a signal your organisation
        published. 202: in Kafka; 200: duplicate (same correction_id); 403: not your signal;
        404: unknown event id; 409: correction_id reused, or the signal was retracted."""
        return rectify(event_id, CorrectionKind.CORRECTION, correction, publisher)

    @app.post(
        "/v1/signals/{event_id}/retraction",
        response_model=CorrectionResult,
        status_code=202,
        responses=rectify_responses,
    )
    def retract_signal(
        event_id: UUID,
        retraction: dict[str, Any],
        publisher: Publisher = Depends(publisher_of),  # noqa: B008
    ) -> JSONResponse:
        """Retract a signal your organisation published: it leaves every view and score; the
        record of it stays in the log. Answers as for a correction."""
        return rectify(event_id, CorrectionKind.RETRACTION, retraction, publisher)

    @app.get(
        "/v1/keys/identifiers",
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

    @app.exception_handler(ReceiptsUnavailableError)
    async def _receipts_down(_request: Request, _error: ReceiptsUnavailableError) -> JSONResponse:
        body = ErrorBody(detail="database unavailable: nothing was stored")
        return JSONResponse(
            body.model_dump(), status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS}
        )

    @app.get(
        "/health/ready",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Kafka or the database is down"}},
    )
    def ready() -> JSONResponse:
        """200 when Kafka and the database answer; 503 naming what is down."""
        kafka_ok = ingest.publisher.is_ready()
        database_ok = ingest.receipts.is_ready()
        return JSONResponse(
            {"kafka": "up" if kafka_ok else "down", "database": "up" if database_ok else "down"},
            status_code=200 if kafka_ok and database_ok else 503,
        )

    return app


def _log_results(publisher: Publisher, results: Sequence[SignalResult]) -> None:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    log.info("signals submitted", organisation=publisher.organisation, **counts)
