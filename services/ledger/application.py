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

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from copy import deepcopy
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Cache,
    LRUCache,
    ProcessingEvent,
    ProjectorFunction,
    project_aggregate,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    Recording,
    Tracking,
)
from eventsourcing.projection import EventSourcedProjection
from eventsourcing.utils import get_topic

from contracts.correction_v1 import CorrectionKind, SignalCorrectionV1
from contracts.signal_v1 import SignalEventV1
from contracts.signal_v2 import SignalEventV2
from radar.case import HouseholdCase, case_id
from radar.evaluation import after_new_signals
from radar.household import Household, household_id
from radar.household_state import SignalNotCorrectableError
from services.ledger.batch_aggregates import BatchAggregates, SetwiseLoader, collect
from services.ledger.erasure import ErasedHistories
from services.ledger.findings import FindingSteps
from services.ledger.hwc_steps import HandleWithCareSteps
from services.ledger.models_in_force import ModelsInForce
from services.ledger.notifications import ErasedEventError, NotificationLog
from services.ledger.referral_steps import ReferralSteps
from services.ledger.steps import AnalystSteps
from services.ledger.steps import UnknownHouseholdError as UnknownHouseholdError  # re-exported
from services.ledger.typed_mapper import TypedStorage

SNAPSHOT_INTERVAL = 100
COMMAND_ATTEMPTS = 5
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
    """Signals (v1 and v2 alike, each recorded as it came) and corrections read from one source
    partition, in order; recorded as one unit. The ledger's policy fills in the outcome."""

    signals: Sequence[SignalEventV1 | SignalEventV2 | SignalCorrectionV1]
    outcome: BatchOutcome | None = None


class SignalLedger(
    FindingSteps,
    ReferralSteps,
    HandleWithCareSteps,
    AnalystSteps,
    ModelsInForce,
    ErasedHistories,
    TypedStorage,
    EventSourcedProjection[UUID],
):
    """The event-sourced record of every household and every signal seen about it."""

    name = "SignalLedger"
    _batch: BatchAggregates | None = None  # the aggregates of the batch being applied
    snapshotting_intervals = {Household: SNAPSHOT_INTERVAL}

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

    @cached_property
    def _loader(self) -> SetwiseLoader:
        snapshots = self.snapshots.recorder if self.snapshots is not None else None
        return SetwiseLoader(self.recorder, snapshots, self.mapper, self.prepare_reading)

    def record_batch(self, batch: SignalBatch, tracking: Tracking) -> BatchOutcome:
        """Applies the batch and stores its events together with the tracking position; its
        aggregates stay cached, trusted as they are (services/ledger/batch_aggregates.py).
        When another process wrote one of them since (an analyst's step in the query
        process), the store refuses the batch and it is applied once more on the stored
        state; a second refusal (another member recorded this batch) is the caller's."""
        try:
            return self._record_batch(batch, tracking)
        except IntegrityError:
            return self._record_batch(batch, tracking)

    def _record_batch(self, batch: SignalBatch, tracking: Tracking) -> BatchOutcome:
        try:
            self.process_event(batch, tracking)  # type: ignore[arg-type]
        except BaseException:  # cached aggregates were changed in place; none was stored
            if self._batch is None:
                self.forget_cached_aggregates()
            else:
                self._batch.forget(self.repository.cache)
            raise
        finally:
            self._batch = None
        assert batch.outcome is not None
        return batch.outcome

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Records, then caches what was saved (new aggregates too: the library caches nothing
        when it fast-forwards), so the next batch or step here starts from it, not a stale copy."""
        recordings = super()._record(processing_event)
        if (cache := self.repository.cache) is not None:
            for aggregate_id, aggregate in processing_event.aggregates.items():
                cache.put(aggregate_id, aggregate)
        return recordings

    def position(self, source: str) -> int | None:
        """The last source position recorded (for Kafka: the last applied offset)."""
        return self.recorder.max_tracking_id(source)

    def policy(self, domain_event: Any, processing_event: ProcessingEvent[UUID]) -> None:
        """Records each signal of the batch in its household, skipping signals seen before,
        and applies each correction or retraction once (skipping those of unknown signals);
        then rescores each household that changed and raises the alerts it calls for."""
        batch: SignalBatch = domain_event
        pseudonyms = {s.first_known_household() for s in batch.signals}
        self._forget_erased(pseudonyms)
        ids = [i for p in sorted(pseudonyms) for i in (household_id(p), case_id(p))]
        self._batch = self._loader.open(ids, self.repository.cache)
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
                household = self._batch_household(pseudonym) or Household(pseudonym)
                self._batch_add(household)
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
                case = self._batch_case(pseudonym) if household.has_case else None
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
                    self._batch_add(case)
                    touched.append(case)
        self.prepare_storage([aggregate.id for aggregate in touched])
        collect(processing_event, touched)
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
            household = self._batch_household(correction.household)
            if household is None:
                return None  # no household is opened for a correction
            households[correction.household] = household
        try:
            if correction.kind == CorrectionKind.RETRACTION:
                return household.retract(correction)
            return household.correct(correction)
        except SignalNotCorrectableError:
            return None

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        """A snapshot of the batch's aggregate as it is in memory, at its version now (at or
        past the interval; the library rebuilds it from the store, 50-100 events replayed)."""
        taken = self._batch.snapshots(aggregate_id, version) if self._batch else None
        if taken is None:
            super().take_snapshot(aggregate_id, version, projector_func)
        elif taken and self.snapshots is not None:
            self.snapshots.put(taken)

    def _batch_household(self, pseudonym: str) -> Household | None:
        """The batch's household (changed in place), None if the store has none."""
        assert self._batch is not None
        hid = household_id(pseudonym)

        def load_one() -> Household | None:
            try:
                return self._load_household(hid, True, pseudonym)
            except AggregateNotFoundError:
                return None

        found: Household | None = self._batch.get(hid, load_one)
        return found

    def _batch_case(self, pseudonym: str) -> HouseholdCase | None:
        assert self._batch is not None
        found: HouseholdCase | None = self._batch.get(
            case_id(pseudonym), lambda: self._case(pseudonym, in_place=True)
        )
        return found

    def _batch_add(self, aggregate: Aggregate) -> None:
        """Notes an aggregate the batch made (or found): cached once the batch is stored."""
        assert self._batch is not None
        self._batch.used.add(aggregate.id)
        self._batch.found[aggregate.id] = aggregate

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
            if (cache := self.repository.cache) is not None:  # not the snapshot's: it lacks facts
                cache.put(hid, deepcopy(household))
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

    def forget_cached_aggregates(self) -> None:
        """A fresh cache (LRUCache.clear() leaves its entries reachable, so it is replaced):
        after a failure, or partitions revoked (another aggregator may write their households
        from now on, so nothing cached here is to be trusted)."""
        cache = self.repository.cache
        if isinstance(cache, LRUCache):
            self.repository.cache = LRUCache(maxsize=cache.maxsize)
        elif cache is not None:
            self.repository.cache = Cache()
