"""The signal ledger: applies batches of signals to household aggregates in the event store.

It is an eventsourcing EventSourcedProjection, so the new domain events and the position of the
batch in its source (a Kafka partition offset) are written in one database transaction. A batch
whose position is not beyond the stored one is refused by the store, atomically, which is what
makes redelivery harmless. The scores, region changes and alerts that new signals call for are
part of the same transaction.

Analysts' steps (alerts, safety conditions, moves, departures) and model changes are commands
on the same aggregates, saved through the application; a step that meets a concurrent write is
retried on the fresh state.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Cache, LRUCache, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper, Tracking, Transcoder
from eventsourcing.projection import EventSourcedProjection
from eventsourcing.utils import get_topic

from contracts.correction_v1 import CorrectionKind, SignalCorrectionV1
from contracts.signal_v1 import SignalEventV1
from radar.alerts import StaffRef
from radar.case import HouseholdCase, case_id
from radar.evaluation import after_new_signals, rescore
from radar.household import Household, household_id
from radar.household_state import SignalNotCorrectableError
from radar.model_history import MODEL_HISTORY_ID, RiskModelHistory
from radar.risk_model import RiskModel, default_model
from services.ledger.codec import TypedMapper, TypedTranscoder
from services.ledger.notifications import ErasedEventError, NotificationLog
from services.ledger.steps import AnalystSteps
from services.ledger.steps import UnknownHouseholdError as UnknownHouseholdError  # re-exported
from services.ledger.transcodings import register_state_transcodings

SNAPSHOT_INTERVAL = 100
COMMAND_ATTEMPTS = 5
DEFAULT_MODEL_REASON = "the model shipped with the radar, adopted at first use"
T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class BatchOutcome:
    """How many signals of a batch were new and how many were already recorded (corrections
    applied before count as duplicates too); how many corrections were applied, and which
    named a signal the radar does not hold (or no longer: retracted)."""

    recorded: int
    duplicates: int
    corrected: int = 0
    uncorrectable: tuple[UUID, ...] = ()  # correction ids


@dataclass
class SignalBatch:
    """Signals read from one source partition, in order; recorded as one unit.

    The ledger's policy fills in the outcome while it applies the batch.
    """

    signals: Sequence[SignalEventV1 | SignalCorrectionV1]
    outcome: BatchOutcome | None = None


class SignalLedger(AnalystSteps, EventSourcedProjection[UUID]):
    """The event-sourced record of every household and every signal seen about it."""

    name = "SignalLedger"
    snapshotting_intervals = {Household: SNAPSHOT_INTERVAL}

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """The library's transcodings, and those of the household's typed state (snapshots)."""
        super().register_transcodings(transcoder)
        register_state_transcodings(transcoder)

    def construct_transcoder(self) -> Transcoder:
        """orjson with types restored by declaration (services.ledger.codec); the library's
        JSON transcoder, with our transcodings, reads what was written before."""
        legacy = JSONTranscoder()
        self.register_transcodings(legacy)
        return TypedTranscoder(legacy)

    def construct_mapper(self) -> Mapper[UUID]:
        return TypedMapper(self.construct_transcoder())

    @cached_property
    def notifications(self) -> NotificationLog:
        """The read side of the notification log, for everything that follows the store.
        (Not `notification_log`: the library's Application has that name for its own.)"""
        return NotificationLog(self.recorder, self.mapper, self.prepare_reading)

    def unreadable_among(self, aggregate_ids: Sequence[UUID]) -> set[UUID]:
        """Which of these aggregates cannot (or can no longer) be read: none in a store
        without per-household keys. A store with them answers those whose key is gone, so
        a cached copy of an erased household is never carried on."""
        return set()

    def prepare_storage(self, aggregate_ids: Sequence[UUID]) -> None:
        """Called with the aggregates a batch is about to store: a store that needs something
        per aggregate (a data key) gets it for the whole batch at once."""

    def prepare_reading(self, originator_ids: Iterable[str]) -> None:
        """Called with the originators of stored events about to be read: a store that needs
        something per aggregate to read them (a data key) fetches it for all at once."""

    def record_batch(self, batch: SignalBatch, tracking: Tracking) -> BatchOutcome:
        """Applies the batch and stores its events together with the tracking position."""
        try:
            self.process_event(batch, tracking)  # type: ignore[arg-type]
        except BaseException:
            # The policy changed cached aggregates in place; none of it was stored.
            self._forget_cached_aggregates()
            raise
        assert batch.outcome is not None
        return batch.outcome

    def position(self, source: str) -> int | None:
        """The last source position recorded (for Kafka: the last applied offset)."""
        return self.recorder.max_tracking_id(source)

    def policy(self, domain_event: Any, processing_event: ProcessingEvent[UUID]) -> None:
        """Records each signal of the batch in its household, skipping signals seen before,
        and applies each correction or retraction once (skipping those of unknown signals);
        then rescores each household that changed and raises the alerts it calls for."""
        batch: SignalBatch = domain_event
        self._forget_erased({s.first_known_household() for s in batch.signals})
        households: dict[str, Household] = {}
        new_signals: dict[str, list[str]] = defaultdict(list)
        corrections: dict[str, list[SignalCorrectionV1]] = defaultdict(list)
        uncorrectable: list[UUID] = []
        duplicates = 0
        for item in batch.signals:
            if isinstance(item, SignalCorrectionV1):
                applied = self._apply_correction(item, households)
                if applied is None:
                    uncorrectable.append(item.correction_id)
                elif applied:
                    corrections[item.household].append(item)
                else:
                    duplicates += 1
                continue
            pseudonym = item.first_known_household()
            household = households.get(pseudonym)
            if household is None:
                household = self._household(pseudonym, in_place=True)
                households[pseudonym] = household
            if household.record(item):
                new_signals[pseudonym].append(str(item.event_id))
            else:
                duplicates += 1
        touched: list[Aggregate] = list(households.values())
        changed = [*new_signals, *(p for p in corrections if p not in new_signals)]
        if changed:
            history = self._model_history()
            model = history.in_force()
            assert model is not None
            touched.append(history)
            for pseudonym in changed:
                household = households[pseudonym]
                case = self._case(pseudonym, in_place=True) if household.has_case else None
                done = corrections.get(pseudonym, [])
                case = after_new_signals(
                    household,
                    case,
                    model,
                    new_signals.get(pseudonym, []),
                    [str(c.corrects) for c in done if c.kind == CorrectionKind.CORRECTION],
                    max((c.received_at for c in done), default=None),
                )
                if case is not None:
                    touched.append(case)
        self.prepare_storage([aggregate.id for aggregate in touched])
        processing_event.collect_events(*touched)
        recorded = sum(len(ids) for ids in new_signals.values())
        corrected = sum(len(applied) for applied in corrections.values())
        batch.outcome = BatchOutcome(recorded, duplicates, corrected, tuple(uncorrectable))

    def _apply_correction(
        self, correction: SignalCorrectionV1, households: dict[str, Household]
    ) -> bool | None:
        """Applies a correction or retraction to its household: True if applied now, False if
        applied before, None if the household or signal is unknown (or retracted)."""
        household = households.get(correction.household)
        if household is None:
            try:
                household = self._load_household(
                    household_id(correction.household), True, correction.household
                )
            except AggregateNotFoundError:
                return None  # no household is opened for a correction
            households[correction.household] = household
        try:
            if correction.kind == CorrectionKind.RETRACTION:
                return household.retract(correction)
            return household.correct(correction)
        except SignalNotCorrectableError:
            return None

    # --- the risk model ---------------------------------------------------------------------

    def model_in_force(self) -> RiskModel:
        """The model new scores are made with (the shipped one until a version is adopted)."""
        return self._model_history().in_force() or default_model()

    def model_history(self) -> RiskModelHistory | None:
        try:
            history: RiskModelHistory = self.repository.get(MODEL_HISTORY_ID)
        except AggregateNotFoundError:
            return None
        return history

    def adopt_model(
        self, model: RiskModel, by: StaffRef | None, reason: str, now: datetime | None = None
    ) -> int:
        """Puts a new model version in force and rescores every household under it; returns
        how many households got a new score. Scores made before keep their old version."""
        moment = now or datetime.now(UTC)
        history = self._model_history()
        history.adopt(model, moment, by, reason)
        self.save(history)
        return sum(self._rescore(hid, model, moment) for hid in self.household_ids())

    def household_ids(self) -> Iterator[UUID]:
        """The id of every household in the store, in the order they were first seen."""
        topic = get_topic(Household.Opened)
        start = 0
        while notifications := self.notifications.after(start, limit=500, topics=[topic]):
            for notification in notifications:
                yield UUID(str(notification.originator_id))
            start = notifications[-1].id

    def households(self) -> Iterator[Household]:
        """Every household in the store (those wholly erased at the end of retention are
        no longer there)."""
        for hid in self.household_ids():
            try:
                yield self._load_household(hid)
            except AggregateNotFoundError:
                continue

    def household(self, pseudonym: str) -> Household:
        """A household as recorded; UnknownHouseholdError if the radar has no signals about it
        (never had, or all erased at the end of retention)."""
        self._forget_erased({pseudonym})
        try:
            found = self._load_household(household_id(pseudonym), pseudonym=pseudonym)
        except AggregateNotFoundError as error:
            raise UnknownHouseholdError("the radar has no signals about this household") from error
        if not found.signal_types:
            raise UnknownHouseholdError("the radar has no signals about this household")
        return found

    def case(self, pseudonym: str) -> HouseholdCase | None:
        return self._case(pseudonym)

    def _rescore(self, hid: UUID, model: RiskModel, moment: datetime) -> int:
        def run() -> tuple[int, list[Aggregate | None]]:
            household = self._load_household(hid)
            changed = rescore(household, model, moment)
            return (1, [household]) if changed else (0, [])

        return self._retrying(run)

    def _retrying(self, command: Callable[[], tuple[T, list[Aggregate | None]]]) -> T:
        """Runs a command on freshly loaded aggregates and saves what it changed; when another
        process wrote one of them meanwhile (IntegrityError), runs it again on the new state."""
        for attempt in range(COMMAND_ATTEMPTS):
            result, changed = command()
            if not changed:
                return result
            try:
                self.save(*changed)
            except IntegrityError:
                if attempt + 1 == COMMAND_ATTEMPTS:
                    raise
                continue
            return result
        raise AssertionError("unreachable")

    def _household(self, pseudonym: str, in_place: bool = False) -> Household:
        try:
            return self._load_household(household_id(pseudonym), in_place, pseudonym)
        except AggregateNotFoundError:
            return Household(pseudonym)

    def _load_household(
        self, hid: UUID, in_place: bool = False, pseudonym: str | None = None
    ) -> Household:
        """The household; `in_place` skips the defensive copy of the cached aggregate (a
        household with years of signals is costly to copy), for the single-threaded batch
        policy, which forgets the cache when its transaction fails. A household whose history
        was erased is what was recorded about it since (AggregateNotFoundError if nothing)."""
        try:
            household: Household = self.repository.get(hid, deepcopy_from_cache=not in_place)
        except ErasedEventError:
            return self._household_after_erasure(hid, pseudonym)
        if household.replay_required:
            # from a snapshot older than the facts or first sightings: replay it all
            replayed: Any = None
            stored: Any
            for stored in self.repository.event_store.get(originator_id=hid):
                replayed = stored.mutate(replayed)
            household = replayed
        return household

    def _case(self, pseudonym: str, in_place: bool = False) -> HouseholdCase | None:
        try:
            case: HouseholdCase = self.repository.get(
                case_id(pseudonym), deepcopy_from_cache=not in_place
            )
        except AggregateNotFoundError:
            return None
        except ErasedEventError:
            return None  # the case was erased with its household; a new one continues it
        return case

    # --- after retention: erased histories ---------------------------------------------------

    def _forget_erased(self, pseudonyms: set[str]) -> None:
        """Drops cached aggregates of households (and cases) whose keys were destroyed since
        they were cached, so nothing of an erased history is carried into new events."""
        ids = [i for p in pseudonyms for i in (household_id(p), case_id(p))]
        cache = self.repository.cache
        if cache is None or not ids:
            return
        for aggregate_id in self.unreadable_among(ids):
            with contextlib.suppress(KeyError):
                cache.get(aggregate_id, evict=True)

    def _household_after_erasure(self, hid: UUID, pseudonym: str | None) -> Household:
        """What the radar recorded about a household since its history was erased."""
        if pseudonym is None:
            pseudonym = next(
                (
                    getattr(event, "household", None)
                    for event in self.notifications.readable_events_of(hid)
                    if getattr(event, "household", None)
                ),
                None,
            )
            if pseudonym is None:
                raise AggregateNotFoundError(hid)
        return self._continued_after_erasure(Household(pseudonym))

    def _continued_after_erasure(self, fresh: A) -> A:
        """`fresh`, a new aggregate whose creation is not recorded, continued where the
        erased stream with its id left off, with every event recorded since applied. For an
        aggregate that was never stored, `fresh` itself (to be created)."""
        stored_events = self.notifications.stored_events_of(fresh.id)
        if not stored_events:
            return fresh
        fresh.collect_events()
        aggregate: Any = fresh
        for stored in stored_events:
            try:
                event: Any = self.mapper.to_domain_event(stored)
            except ErasedEventError:
                aggregate.version = stored.originator_version
                continue
            aggregate = event.mutate(aggregate)
        continued: A = aggregate
        return continued

    def _forget_cached_aggregates(self) -> None:
        """A fresh cache (LRUCache.clear() leaves its entries reachable, so it is replaced)."""
        cache = self.repository.cache
        if isinstance(cache, LRUCache):
            self.repository.cache = LRUCache(maxsize=cache.maxsize)
        elif cache is not None:
            self.repository.cache = Cache()

    def _model_history(self) -> RiskModelHistory:
        """The model history; created, with the shipped model in force, on first use."""
        history = self.model_history()
        if history is None:
            history = RiskModelHistory()
            history.adopt(default_model(), datetime.now(UTC), None, DEFAULT_MODEL_REASON)
        return history
