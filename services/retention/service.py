"""Retention enforcement: finds the households whose retention period has ended and erases
them everywhere the radar keeps them.

Order matters, for a crash half-way and for the read models running meanwhile: the erasure is
recorded first (privacy/storage/erasure_records.py: from then on no read model writes the
household's events, even ones it read before), then the household's keys in the event store
are destroyed (after which nothing can read its events, ever), then projections and the vault
are purged, then the record is marked finished (a run cut short before that is finished by the
next: the record keeps the household's pseudonym, wrapped, until then), then the enforcement
is recorded with counts only. Kafka keeps signals no longer than the shortest period (the policy
checks the topic's retention), and the audit chain covers the stored bytes, so `radar audit
verify` still passes afterwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError

from privacy.retention import RetentionKind, RetentionPolicy
from privacy.storage.erasure_records import Erasure
from privacy.storage.vault import IdentityVault
from radar.case import case_id
from radar.household import household_id
from radar.retention import RetentionLog, is_case_data, last_activity
from services.gate import Clock
from services.ledger.application import SignalLedger
from services.ledger.notifications import ErasedEventError
from services.ledger.store import EncryptedSignalLedger

log = structlog.get_logger("radar.retention")


def system_clock() -> datetime:
    """The clock enforcement runs on; tests and drills pass one set to a later moment."""
    return datetime.now(UTC)


class HouseholdRows(Protocol):
    """A store with rows about households outside the event store: projections, receipts,
    and the row keys those are sealed under (privacy.storage.sealed_rows.RowSealer: its
    keys destroyed, what was sealed under them stays unreadable in every copy of the
    database, WAL, replicas and backups included)."""

    def count_households(self, households: Sequence[str]) -> int: ...

    def forget_households(self, households: Sequence[str]) -> int: ...


@dataclass(frozen=True)
class Expired:
    """A household whose retention period has ended (known only inside the enforcement)."""

    household: str
    kind: RetentionKind
    last_activity: datetime


@dataclass
class EnforcementReport:
    """What an enforcement found and did: counts, never which households."""

    checked: int = 0
    expired: Counter[str] = field(default_factory=Counter)
    events_erased: int = 0
    rows_purged: int = 0
    identities_purged: int = 0


def expired_households(
    ledger: SignalLedger, policy: RetentionPolicy, now: datetime
) -> tuple[int, list[Expired]]:
    """How many households were checked, and those whose period has ended by `now`."""
    checked = 0
    expired = []
    for household in ledger.households():
        checked += 1
        case = ledger.case(household.pseudonym) if household.has_case else None
        kind = policy.kind_of(is_case_data(case))
        latest = last_activity(household, case)
        if policy.expired(kind, latest, now):
            expired.append(Expired(household.pseudonym, kind, latest))
    return checked, expired


def enforce(
    ledger: EncryptedSignalLedger,
    stores: Sequence[HouseholdRows],
    vault: IdentityVault,
    policy: RetentionPolicy,
    clock: Clock = system_clock,
    dry_run: bool = False,
) -> EnforcementReport:
    """Erases every expired household; with `dry_run`, counts what the run would erase (the
    same counts, read where the run deletes) and changes nothing. An erasure an earlier run
    began and did not finish (it was cut short) is finished first."""
    now = clock()
    report = EnforcementReport()
    if not dry_run:
        _erase(ledger, stores, vault, ledger.erasures.unfinished(), report)
    report.checked, expired = expired_households(ledger, policy, now)
    report.expired = Counter(str(e.kind) for e in expired)
    if not expired:
        return report
    pseudonyms = [e.household for e in expired]
    aggregates = [i for p in pseudonyms for i in (household_id(p), case_id(p))]
    report.events_erased = sum(len(ledger.notifications.stored_events_of(i)) for i in aggregates)
    if dry_run:
        report.rows_purged = sum(store.count_households(pseudonyms) for store in stores)
        report.identities_purged = sum(vault.count_household(p) for p in pseudonyms)
        return report
    # from here on, no read model writes these events (privacy/storage/erasure_records.py)
    ledger.erasures.begin(_erasure_of(ledger, p) for p in pseudonyms)
    _erase(ledger, stores, vault, pseudonyms, report)
    _record(ledger, policy, now, report)
    log.info(
        "retention enforced",
        households=sum(report.expired.values()),
        events_erased=report.events_erased,
        rows_purged=report.rows_purged,
        identities_purged=report.identities_purged,
    )
    return report


def _erasure_of(ledger: EncryptedSignalLedger, household: str) -> Erasure:
    """The household's erasure: the last stored version of each of its aggregates."""
    through: dict[str, int] = {}
    for aggregate_id in (household_id(household), case_id(household)):
        stored = ledger.notifications.stored_events_of(aggregate_id)
        if stored:
            through[str(aggregate_id)] = stored[-1].originator_version
    return Erasure(household, through)


def _erase(
    ledger: EncryptedSignalLedger,
    stores: Sequence[HouseholdRows],
    vault: IdentityVault,
    households: Sequence[str],
    report: EnforcementReport,
) -> None:
    """Erases households whose erasure is recorded (`ErasureRecords.begin`): their keys
    destroyed first (nothing reads their events after that), then their rows and identities
    purged (a read model that read the events before cannot write them back: the record
    stops it), then the record marked finished. Cut short anywhere, the next run repeats it."""
    if not households:
        return
    subjects = [str(i) for h in households for i in (household_id(h), case_id(h))]
    ledger.subject_keys.destroy(subjects)
    ledger.erasures.extend(_last_unreadable(ledger, subjects))
    for store in stores:
        report.rows_purged += store.forget_households(households)
    report.identities_purged += sum(vault.forget_household(h) for h in households)
    ledger.erasures.finish(subjects)


def _last_unreadable(ledger: EncryptedSignalLedger, subjects: Sequence[str]) -> dict[str, int]:
    """Per aggregate, the version of its last event that no longer opens: an event recorded
    under the destroyed key after the erasure was recorded is erased too (events recorded
    under a new key since open, and come after)."""
    last: dict[str, int] = {}
    for subject in subjects:
        for stored in reversed(ledger.notifications.stored_events_of(UUID(subject))):
            try:
                ledger.mapper.to_domain_event(stored)
            except ErasedEventError:
                last[subject] = stored.originator_version
                break
    return last


def _record(
    ledger: SignalLedger, policy: RetentionPolicy, now: datetime, report: EnforcementReport
) -> None:
    try:
        retention: RetentionLog = ledger.repository.get(RetentionLog.create_id())
    except AggregateNotFoundError:
        retention = RetentionLog()
    retention.record(
        at=now,
        policy_version=policy.version,
        households=dict(report.expired),
        events_erased=report.events_erased,
        rows_purged=report.rows_purged,
        identities_purged=report.identities_purged,
    )
    ledger.save(retention)
