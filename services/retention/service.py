"""Retention enforcement: finds the households whose retention period has ended and erases
them everywhere the radar keeps them.

Order matters, for a crash half-way and for the read models running meanwhile: the erasure is
recorded first (privacy/storage/erasure_records.py: from then on no read model writes the
household's events, even ones it read before), then the household's keys in the event store
are destroyed (after which nothing can read its events, ever), then projections and the vault
are purged, then the record is marked finished (a run cut short before that is finished by the
next: the record keeps the household's pseudonym, wrapped, until then), then the enforcement
is recorded with counts only.

A household can get a new signal while this runs: found expired, then a signal recorded
before its key is destroyed. Erasing it then would erase that signal too, sealed under the
old key, and nobody would know. So the erasure records the versions the expiry was judged on,
the keys are destroyed only where nothing was recorded since (asked while the key rows are
held: SubjectKeyStore.destroy_unless), and a household with news is kept whole, its erasure
record dropped: its retention period starts again from the new signal. A key made after an
erasure (the signals since, in a run cut short and finished later) is never destroyed.

Kafka keeps signals no longer than the shortest period (the policy checks the topic's
retention), and the audit chain covers the stored bytes, so `radar audit verify` still passes
afterwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import StoredEvent

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
    through: Mapping[str, int]  # per aggregate (household, case), the version judged expired


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
            through = {str(household.id): household.version}
            if case is not None:
                through[str(case.id)] = case.version
            expired.append(Expired(household.pseudonym, kind, latest, through))
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
    report.events_erased = _events_of(expired)
    if dry_run:
        report.rows_purged = sum(store.count_households(pseudonyms) for store in stores)
        report.identities_purged = sum(vault.count_household(p) for p in pseudonyms)
        return report
    # from here on, no read model writes these events (privacy/storage/erasure_records.py)
    ledger.erasures.begin(Erasure(e.household, e.through) for e in expired)
    kept = _erase(ledger, stores, vault, pseudonyms, report)
    erased = [e for e in expired if e.household not in kept]
    report.expired = Counter(str(e.kind) for e in erased)
    report.events_erased = _events_of(erased)
    _record(ledger, policy, now, report)
    log.info(
        "retention enforced",
        households=sum(report.expired.values()),
        kept_for_new_signals=len(kept),
        events_erased=report.events_erased,
        rows_purged=report.rows_purged,
        identities_purged=report.identities_purged,
    )
    return report


def _events_of(expired: Sequence[Expired]) -> int:
    """How many events the erasure of these households takes (versions count from 1)."""
    return sum(sum(e.through.values()) for e in expired)


def _erase(
    ledger: EncryptedSignalLedger,
    stores: Sequence[HouseholdRows],
    vault: IdentityVault,
    households: Sequence[str],
    report: EnforcementReport,
) -> set[str]:
    """Erases households whose erasure is recorded (`ErasureRecords.begin`): their keys
    destroyed first (nothing reads their events after that), then their rows and identities
    purged (a read model that read the events before cannot write them back: the record
    stops it), then the record marked finished. Cut short anywhere, the next run repeats it.
    Returns the households kept: recorded something since the versions their erasure took."""
    if not households:
        return set()
    subjects_of = {h: [str(household_id(h)), str(case_id(h))] for h in households}
    household_of = {s: h for h, subjects in subjects_of.items() for s in subjects}
    through = ledger.erasures.through_of(household_of)
    old_keys = _under_old_keys(ledger, through)

    def with_news() -> set[str]:
        news = {household_of[s] for s in old_keys if _last_version(ledger, s) > through[s]}
        return {s for h in news for s in subjects_of[h]}

    kept_subjects = ledger.subject_keys.destroy_unless(old_keys, with_news)
    kept = {household_of[s] for s in kept_subjects}
    ledger.erasures.cancel(s for h in kept for s in subjects_of[h])
    erased = [h for h in households if h not in kept]
    subjects = [s for h in erased for s in subjects_of[h]]
    ledger.erasures.extend(_last_unreadable(ledger, subjects))
    for store in stores:
        report.rows_purged += store.forget_households(erased)
    report.identities_purged += sum(vault.forget_household(h) for h in erased)
    ledger.erasures.finish(subjects)
    return kept


def _under_old_keys(ledger: EncryptedSignalLedger, through: Mapping[str, int]) -> list[str]:
    """The aggregates whose stored key is the one their erased events were sealed under (not
    gone already, nor made since: a run cut short destroyed the old one, signals since have a
    new one, which stays)."""
    ledger.subject_keys.missing(through)  # the keys as stored now, not as remembered
    old = []
    for subject, version in through.items():
        erased = ledger.recorder.select_events(UUID(subject), lte=version, desc=True, limit=1)
        if not erased or _opens(ledger, erased[0]):
            old.append(subject)
    return old


def _opens(ledger: EncryptedSignalLedger, stored: StoredEvent) -> bool:
    try:
        ledger.mapper.to_domain_event(stored)
    except ErasedEventError:
        return False
    return True


def _last_version(ledger: EncryptedSignalLedger, subject: str) -> int:
    last = ledger.recorder.select_events(UUID(subject), desc=True, limit=1)
    return last[0].originator_version if last else 0


def _last_unreadable(ledger: EncryptedSignalLedger, subjects: Sequence[str]) -> dict[str, int]:
    """Per aggregate, the version of its last event that no longer opens: an event recorded
    under the destroyed key after the erasure was recorded is erased too (events recorded
    under a new key since open, and come after)."""
    last: dict[str, int] = {}
    for subject in subjects:
        for stored in reversed(ledger.notifications.stored_events_of(UUID(subject))):
            if not _opens(ledger, stored):
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
