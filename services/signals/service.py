"""The signals use cases: publishers send signals, one or up to a batch limit, and hear per
signal whether it was accepted (durably in Kafka), a duplicate, or rejected and why; they
correct or retract the signals they published (AVG art. 16) with the same answers. Refusals are
`Refusal`s (services/errors.py); the HTTP edge (routes.py) turns them into status codes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from contracts.correction_v1 import CorrectionKind, SignalCorrectionV1
from privacy.actors import Publisher
from privacy.pseudonyms import Pseudonymiser, PseudonymKeyFile
from privacy.storage.vault import Identity, IdentityVault
from services import metrics
from services.errors import FieldError, Refusal, RefusalKind, field_errors, invalid
from services.signals.answers import (
    CorrectionResult,
    Outcome,
    SignalResult,
    kafka_unavailable,
    log,
    may_publish_v1,
    receipts_unavailable,
    rejected,
    screened,
)
from services.signals.identifiers import IdentifierOpener
from services.signals.ingest_v2 import prepare_v2
from services.signals.leak_check import identifier_leaks
from services.signals.pending import Pending
from services.signals.publisher import SignalEvent, SignalPublisher
from services.signals.schemas import (
    CORRECTION_NOT_FREE_TEXT,
    CORRECTION_SUBMISSIONS,
    NOT_FREE_TEXT,
    SignalSubmission,
    to_event,
)
from services.signals.store import ReceiptBook

_submission = TypeAdapter(SignalSubmission)


class Ingest:
    """Guards, validates, opens sealed identifiers, pseudonymises, deduplicates, deposits the
    identifiers in the vault and publishes; shared by every endpoint, v1's and v2's."""

    def __init__(
        self,
        opener: IdentifierOpener,
        pseudonyms: PseudonymKeyFile,
        vault: IdentityVault,
        publisher: SignalPublisher,
        receipts: ReceiptBook,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.opener = opener
        self.pseudonyms = pseudonyms
        self.vault = vault
        self.publisher = publisher
        self.receipts = receipts
        # When a signal is received (its received_at, the moment the radar scores at): the
        # system clock, or a simulation's day when the yardstick drives the real pipeline.
        self.clock = clock

    def submit(
        self, publisher: Publisher, raw_signals: Sequence[Any], version: int = 1
    ) -> list[SignalResult]:
        """Answers each raw signal (a v1 submission, or a v2 one with `version` 2); only
        acknowledged signals get a receipt. Every answer is counted by outcome; a refusal of
        the whole request counts each signal unavailable."""
        try:
            results = self._submit(publisher, raw_signals, version)
        except Refusal:
            metrics.signals_answered([Outcome.UNAVAILABLE] * len(raw_signals), publisher.sector)
            raise
        metrics.signals_answered((r.status for r in results), publisher.sector)
        return results

    def _submit(
        self, publisher: Publisher, raw_signals: Sequence[Any], version: int
    ) -> list[SignalResult]:
        received_at = self.clock()
        pseudonymiser = self.pseudonyms.pseudonymiser()  # one key version for the request
        results: list[SignalResult | None] = [None] * len(raw_signals)
        pending: list[Pending] = []
        for index, raw in enumerate(raw_signals):
            verdict = (
                prepare_v2(self.opener, publisher, raw, received_at, pseudonymiser)
                if version == 2
                else self._prepare(publisher, raw, received_at, pseudonymiser)
            )
            if isinstance(verdict, SignalResult):
                results[index] = verdict
            else:
                pending.append(Pending(self.receipts, index, *verdict))
        try:
            pending = self._without_duplicates(pending, results, pseudonymiser)
            # The vault first: a signal is never published without its identity held.
            links = self.vault.deposit([p.identity for p in pending], pseudonymiser)
        except SQLAlchemyError as error:  # cannot tell duplicates: take nothing, say retry
            raise receipts_unavailable(error) from error
        for item, known_as in zip(pending, links, strict=True):
            item.known_as(known_as)
        if pending:
            deliveries = self.publisher.publish(
                [p.event for p in pending], [p.value() for p in pending]
            )
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
    ) -> tuple[SignalEvent, bool, Identity] | SignalResult:
        """The pseudonymised event, whether the publisher gave reported-at, and the identity
        for the vault; or the rejection."""
        submission = screened(
            raw,
            _submission,
            NOT_FREE_TEXT,
            lambda s: may_publish_v1(publisher.sector, s.signal_type),
            publisher,
        )
        if isinstance(submission, SignalResult):
            return submission
        event_id = submission.event_id
        identifiers = self.opener.identifiers(submission)
        if isinstance(identifiers, list):
            return SignalResult(event_id=event_id, status=Outcome.REJECTED, errors=identifiers)
        try:
            event = to_event(submission, identifiers, publisher, pseudonymiser, received_at)
        except ValidationError as error:
            return rejected(event_id, error)
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
        pending: list[Pending],
        results: list[SignalResult | None],
        pseudonymiser: Pseudonymiser,
    ) -> list[Pending]:
        known = self.receipts.known(p.event.event_id for p in pending)
        resent = [p for p in pending if p.event.event_id in known]
        # A re-sent signal is compared under the pseudonyms the radar first knew (the vault
        # says which, without storing anything), since a key rotation may lie in between.
        for item, known_as in zip(
            resent, self.vault.links([p.identity for p in resent], pseudonymiser), strict=True
        ):
            item.known_as(known_as)
        fresh: list[Pending] = []
        seen_in_request: dict[UUID, Pending] = {}
        for item in pending:
            event_id = item.event.event_id
            first = seen_in_request.get(event_id)
            # a fresh signal's fingerprint waits for the vault's answer (its receipt's); only
            # a repeat within the request is compared now, with the first copy's
            earlier = known.get(event_id) or (first.fingerprint() if first else None)
            if earlier is None:
                seen_in_request[event_id] = item
                fresh.append(item)
            elif earlier == item.fingerprint():
                results[item.index] = SignalResult(event_id=event_id, status=Outcome.DUPLICATE)
            else:
                reason = "event_id was already used for a different signal"
                results[item.index] = SignalResult(
                    event_id=event_id,
                    status=Outcome.REJECTED,
                    errors=[FieldError(field="event_id", reason=reason)],
                    refusal=RefusalKind.CONFLICT,
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
        """Accepted (in Kafka) or duplicate; anything else raises a Refusal."""
        received_at = datetime.now(UTC)
        leaks = identifier_leaks(raw, CORRECTION_NOT_FREE_TEXT)
        if leaks:
            raise invalid(leaks, f"{kind} rejected")
        try:
            submission = CORRECTION_SUBMISSIONS[kind].model_validate(raw)
        except ValidationError as error:
            raise invalid(field_errors(error), f"{kind} rejected") from error
        values = submission.values()
        corrected_type = values.signal_type if values is not None else None
        if corrected_type is not None and not may_publish_v1(publisher.sector, corrected_type):
            reason = f"sector '{publisher.sector}' may not publish this signal type"
            raise Refusal(
                RefusalKind.FORBIDDEN,
                f"{kind} rejected",
                [FieldError(field="signal_type", reason=reason)],
            )
        try:
            receipt = self.receipts.receipt(event_id)
            earlier = self.receipts.corrections_of(event_id)
            reused = self.receipts.correction(submission.correction_id)
        except SQLAlchemyError as error:
            raise receipts_unavailable(error) from error
        if receipt is None:
            raise Refusal(RefusalKind.NOT_FOUND, "no signal with this event id was accepted")
        if receipt.organisation != publisher.organisation:
            raise Refusal(
                RefusalKind.FORBIDDEN,
                "only the organisation that published a signal may correct it",
            )
        if receipt.household is None:
            raise Refusal(
                RefusalKind.CONFLICT,
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
            raise invalid(field_errors(error), f"{kind} rejected") from error
        result = CorrectionResult(
            correction_id=correction.correction_id,
            corrects=event_id,
            kind=kind,
            status=Outcome.ACCEPTED,
        )
        if reused is not None:
            if reused.fingerprint == self.receipts.correction_fingerprint(correction):
                return result.model_copy(update={"status": Outcome.DUPLICATE})
            reason = "correction_id was already used for a different correction or retraction"
            raise Refusal(
                RefusalKind.CONFLICT,
                f"{kind} rejected",
                [FieldError(field="correction_id", reason=reason)],
            )
        if any(c.kind == CorrectionKind.RETRACTION for c in earlier):
            raise Refusal(
                RefusalKind.CONFLICT, "the signal was retracted; it can be corrected no more"
            )
        if not self.publisher.publish_correction(correction):
            raise kafka_unavailable()
        try:
            self.receipts.record_correction(correction)
        except SQLAlchemyError as error:  # in Kafka, so accepted; the aggregator applies it once
            log.warning("correction receipt not written", error=type(error).__name__)
        return result
