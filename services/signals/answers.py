"""What the signals use cases answer: per signal (accepted, duplicate, rejected, unavailable),
per batch, per correction; the refusals of a whole request; and the screening every signal of
either version passes first (leak check, validation, the sector's signal types)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

import structlog
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from contracts.correction_v1 import CorrectionKind
from contracts.vocabulary import Sector, SignalType, sector_may_publish
from contracts.vocabulary_v2 import SectorV2
from privacy.actors import Publisher
from services.errors import FieldError, Refusal, RefusalKind, field_errors
from services.http import RETRY_AFTER_SECONDS
from services.signals.leak_check import identifier_leaks
from services.signals.schemas import RawSignal
from services.signals.submission_v2 import RawSignalV2

log = structlog.get_logger("radar.ingest")
S = TypeVar("S")


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
    refusal: str = Field(default=RefusalKind.INVALID, exclude=True)
    """What kind of refusal (a RefusalKind) a rejection is, when the signal was sent alone;
    not part of the answer, so kept as its plain value (no schema of its own)."""


class BatchSubmission(BaseModel):
    """A batch of signals; each is validated and answered on its own."""

    signals: list[RawSignal] = Field(
        description="Signals, each validated and answered on its own (a rejected one does not "
        "hold up the others)."
    )


class BatchSubmissionV2(BaseModel):
    """A batch of signal.v2 submissions; each is validated and answered on its own."""

    signals: list[RawSignalV2] = Field(
        description="Signals (v2), each validated and answered on its own (a rejected one does "
        "not hold up the others)."
    )


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
    replicas: str = Field(
        default="unknown",
        description="The signals topic's worst partition: in_sync, under_replicated (fewer "
        "copies in sync than replicas, enough to write), below_min_insync (not ready: writes "
        "are refused) or unknown",
    )


def receipts_unavailable(error: SQLAlchemyError) -> Refusal:
    """The database with the receipts, or the identity vault, cannot be reached: nothing was
    taken. The cause is logged by kind only (a driver's message can hold parameters)."""
    cause = error.orig if isinstance(error, DBAPIError) else None
    log.warning(
        "signals refused: database unavailable",
        error=type(error).__name__,
        cause=type(cause).__name__ if cause is not None else None,
        code=getattr(cause, "sqlite_errorname", None) or getattr(cause, "sqlstate", None),
    )
    return Refusal(
        RefusalKind.UNAVAILABLE,
        "database unavailable: nothing was stored",
        retry_after_seconds=RETRY_AFTER_SECONDS,
    )


def kafka_unavailable() -> Refusal:
    """Kafka did not acknowledge: nothing was stored."""
    return Refusal(
        RefusalKind.UNAVAILABLE,
        "Kafka unavailable: nothing was stored",
        retry_after_seconds=RETRY_AFTER_SECONDS,
    )


def screened(
    raw: Any,
    adapter: TypeAdapter[S],
    structured: frozenset[str],
    may_publish: Callable[[S], bool],
    publisher: Publisher,
) -> S | SignalResult:
    """The validated submission, or its rejection: a leak in a free string (`structured`
    names the fields that are not free text), an invalid field, or a signal type outside the
    publisher's sector (`may_publish`, a FORBIDDEN refusal when sent alone)."""
    event_id = event_id_of(raw)
    leaks = identifier_leaks(raw, structured)
    if leaks:
        return SignalResult(event_id=event_id, status=Outcome.REJECTED, errors=leaks)
    try:
        submission = adapter.validate_python(raw)
    except ValidationError as error:
        return rejected(event_id, error)
    if not may_publish(submission):
        reason = f"sector '{publisher.sector}' may not publish this signal type"
        return SignalResult(
            event_id=event_id,
            status=Outcome.REJECTED,
            errors=[FieldError(field="signal_type", reason=reason)],
            refusal=RefusalKind.FORBIDDEN,
        )
    return submission


def may_publish_v1(sector: SectorV2, signal_type: SignalType) -> bool:
    """Whether a publisher may publish this v1 signal type: only a v1 sector may (a party
    that signal.v2 added publishes v2 only, since a v1 event cannot name its sector)."""
    return sector in Sector._value2member_map_ and sector_may_publish(Sector(sector), signal_type)


def rejected(event_id: UUID | None, error: ValidationError) -> SignalResult:
    """The rejection of a signal that did not validate, naming each field."""
    return SignalResult(event_id=event_id, status=Outcome.REJECTED, errors=field_errors(error))


def event_id_of(raw: Any) -> UUID | None:
    try:
        return UUID(str(raw.get("event_id"))) if isinstance(raw, dict) else None
    except ValueError:
        return None


def log_results(publisher: Publisher, results: Sequence[SignalResult]) -> None:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    log.info("signals submitted", organisation=publisher.organisation, **counts)
