"""The signal ledger: applies batches of signals to household aggregates in the event store.

It is an eventsourcing EventSourcedProjection, so the new domain events and the position of the
batch in its source (a Kafka partition offset) are written in one database transaction. A batch
whose position is not beyond the stored one is refused by the store, atomically, which is what
makes redelivery harmless. The scores, region changes and alerts that new signals call for are
part of the same transaction.

Analysts' steps (alerts, safety conditions, moves) and model changes are commands on the same
aggregates, saved through the application; a step that meets a concurrent write is retried on
the fresh state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Cache, LRUCache, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.projection import EventSourcedProjection
from eventsourcing.utils import get_topic

from contracts.correction_v1 import CorrectionKind, SignalCorrectionV1
from contracts.signal_v1 import SignalEventV1
from radar.alerts import StaffRef, TriageOutcome
from radar.case import HouseholdCase, case_id
from radar.evaluation import after_new_signals, follow_region, remind_missed_checks, rescore
from radar.household import Household, SignalNotCorrectableError, household_id
from radar.model_history import MODEL_HISTORY_ID, RiskModelHistory
from radar.regions import registry
from radar.risk_model import RiskModel, default_model
from radar.safety import NETHERLANDS

SNAPSHOT_INTERVAL = 100
COMMAND_ATTEMPTS = 5
DEFAULT_MODEL_REASON = "the model shipped with the radar, adopted at first use"
T = TypeVar("T")


class UnknownHouseholdError(LookupError):
    """The radar has no signals about this household (or no case for it)."""


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


class SignalLedger(EventSourcedProjection[UUID]):
    """The event-sourced record of every household and every signal seen about it."""

    name = "SignalLedger"
    snapshotting_intervals = {Household: SNAPSHOT_INTERVAL}

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
                household = self._load_household(household_id(correction.household), True)
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
        topic = get_topic(Household.Opened)  # type: ignore[attr-defined]
        start = 0
        while notifications := self.recorder.select_notifications(
            start=start, limit=500, topics=[topic], inclusive_of_start=False
        ):
            for notification in notifications:
                yield UUID(str(notification.originator_id))
            start = notifications[-1].id

    def households(self) -> Iterator[Household]:
        """Every household in the store."""
        for hid in self.household_ids():
            yield self._load_household(hid)

    def household(self, pseudonym: str) -> Household:
        """A household as recorded; UnknownHouseholdError if the radar has no signals about it."""
        try:
            return self._load_household(household_id(pseudonym))
        except AggregateNotFoundError as error:
            raise UnknownHouseholdError("the radar has no signals about this household") from error

    def case(self, pseudonym: str) -> HouseholdCase | None:
        return self._case(pseudonym)

    # --- analysts' steps --------------------------------------------------------------------

    def acknowledge_alert(self, household: str, alert: str, by: StaffRef) -> None:
        self._on_case(household, lambda case: case.acknowledge(alert, by))

    def triage_alert(
        self, household: str, alert: str, by: StaffRef, outcome: TriageOutcome, reason: str
    ) -> None:
        self._on_case(household, lambda case: case.triage(alert, by, outcome, reason))

    def close_alert(self, household: str, alert: str, by: StaffRef, reason: str) -> None:
        self._on_case(household, lambda case: case.close(alert, by, reason))

    def record_conditions(
        self,
        household: str,
        by: StaffRef,
        conditions: list[str],
        excluded_signal_types: list[str],
        starts_on: date,
        ends_on: date,
        check_dates: list[date],
    ) -> str:
        """Records safety conditions with their monitoring period; returns the plan id."""

        def record(case: HouseholdCase) -> str:
            return case.record_conditions(
                by, conditions, excluded_signal_types, starts_on, ends_on, check_dates
            )

        return self._on_case(household, record, open_if_missing=True)

    def assess_check(
        self,
        household: str,
        plan_id: str,
        check_date: date,
        by: StaffRef,
        conditions_kept: bool,
        note: str,
    ) -> None:
        self._on_case(
            household,
            lambda case: case.assess_check(plan_id, check_date, by, conditions_kept, note),
        )

    def close_monitoring(
        self, household: str, plan_id: str, by: StaffRef, safety_achieved: bool, note: str
    ) -> None:
        self._on_case(
            household, lambda case: case.close_monitoring(plan_id, by, safety_achieved, note)
        )

    def record_move(self, household: str, municipality: str, moved_on: date, by: StaffRef) -> str:
        """Records a move to another municipality; the responsible region (and any open alert)
        follows when the move is the latest news of the household. Returns the region now."""
        place = registry().municipality(municipality)
        moved_at = datetime.combine(moved_on, time(), NETHERLANDS)

        def move() -> tuple[str, list[Aggregate | None]]:
            found = self.household(household)
            case = self._case(household) if found.has_case else None
            found.record_move(place.code, str(place.region), moved_at, by)
            region = follow_region(found, case, reason="move")
            assert region is not None
            return region, [found, case]

        return self._retrying(move)

    def remind_missed_checks(self, household: str, now: datetime) -> list[str]:
        """Raises reminders for check dates of the household's conditions that passed without
        an assessment; returns the new alert ids (none when already reminded)."""
        model = self.model_in_force()
        found = self.household(household)
        return self._on_case(household, lambda case: remind_missed_checks(found, case, model, now))

    # --- loading and saving -----------------------------------------------------------------

    def _on_case(
        self,
        household: str,
        command: Callable[[HouseholdCase], T],
        open_if_missing: bool = False,
    ) -> T:
        """Runs a command on the household's case and saves it, retrying on a concurrent
        write; domain errors (ValueError) pass through unchanged."""

        def run() -> tuple[T, list[Aggregate | None]]:
            found = self.household(household)
            case = self._case(household) if found.has_case else None
            if case is None:
                if not open_if_missing:
                    raise UnknownHouseholdError("there is no case for this household")
                case = HouseholdCase(household)
                found.open_case()
            return command(case), [found, case]

        return self._retrying(run)

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
            return self._load_household(household_id(pseudonym), in_place)
        except AggregateNotFoundError:
            return Household(pseudonym)

    def _load_household(self, hid: UUID, in_place: bool = False) -> Household:
        """The household; `in_place` skips the defensive copy of the cached aggregate (a
        household with years of signals is costly to copy), for the single-threaded batch
        policy, which forgets the cache when its transaction fails."""
        household: Household = self.repository.get(hid, deepcopy_from_cache=not in_place)
        if household.facts is None:  # from a snapshot older than the facts: replay it all
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
        return case

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
