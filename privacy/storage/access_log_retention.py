"""The access log's own retention, enforced: past the maximum, a period's key is destroyed and
its notices erased; nothing younger than the minimum is ever touched.

Entries stay where they are, so the hash chain still verifies; only whom they were about (and
the free text that named someone) can no longer be read, in the table, the WAL, a replica or a
base backup. A dry run counts exactly what the run then does: both count before acting. Entries
written before format 2 hold their subject in clear and cannot be changed without breaking the
chain: they are counted and reported, never silently kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from privacy.retention import AccessLogRetention
from privacy.storage.access_log import AccessLog, EntryKind, access_log, access_notices
from privacy.storage.access_log_chain import utc
from privacy.storage.access_log_sealing import period_end, period_of
from privacy.storage.erasure import erasing


@dataclass(frozen=True)
class LogRetentionReport:
    """What an enforcement of the log's retention did, or would do (counts, never content)."""

    now: datetime
    dry_run: bool
    periods: list[str] = field(default_factory=list)  # whose keys are (to be) destroyed
    keys_destroyed: int = 0
    entries_unreadable: int = 0  # entries whose subjects are sealed under those keys
    notices_erased: int = 0
    old_entries_in_clear: int = 0  # old-format entries past the maximum, left in place

    def counts(self) -> dict[str, Any]:
        """The counts alone: a dry run's equal the run's."""
        return {
            "periods": self.periods,
            "keys_destroyed": self.keys_destroyed,
            "entries_unreadable": self.entries_unreadable,
            "notices_erased": self.notices_erased,
            "old_entries_in_clear": self.old_entries_in_clear,
        }


def enforce_log_retention(
    log: AccessLog,
    rule: AccessLogRetention,
    now: datetime,
    dry_run: bool = False,
    operator: dict[str, Any] | None = None,
) -> LogRetentionReport:
    """Destroys the keys of the periods past the maximum and erases their notices; records
    the run (counts only) in the log itself first, so a crash never leaves an unlogged
    destruction. `now` is injectable (tests, drills)."""
    sealing = log.sealing
    if sealing is None:
        raise ValueError("the log's retention needs the log's keys")
    now = utc(now)
    expired = [
        p
        for p in sealing.periods()
        if rule.past_maximum(period_end(p), now) and not rule.within_minimum(period_end(p), now)
    ]
    notices = _expired_notices(log, rule, now)
    report = LogRetentionReport(
        now=now,
        dry_run=dry_run,
        periods=expired,
        keys_destroyed=len(expired),
        entries_unreadable=_count(log, access_log.c.period.in_(expired)),
        notices_erased=len(notices),
        old_entries_in_clear=_old_entries_past(log, rule, now),
    )
    # Reading the log's periods is an access to the log: recorded first, dry run or not.
    record = {"operator": operator, "now": now.isoformat(), "dry_run": dry_run}
    log.append(EntryKind.LOG_RETENTION, {**record, **report.counts()})
    if dry_run:
        return report
    sealing.destroy(expired)
    if notices:
        with erasing(log.engine, [access_notices]) as connection:
            connection.execute(
                delete(access_notices).where(access_notices.c.access_seq.in_(notices))
            )
    return report


def _expired_notices(log: AccessLog, rule: AccessLogRetention, now: datetime) -> list[int]:
    with log.engine.connect() as connection:
        rows = connection.execute(
            select(access_notices.c.access_seq, access_notices.c.recorded_at)
        ).all()
    return [
        row.access_seq
        for row in rows
        if rule.past_maximum(period_end(period_of(utc(row.recorded_at))), now)
    ]


def _old_entries_past(log: AccessLog, rule: AccessLogRetention, now: datetime) -> int:
    with log.engine.connect() as connection:
        moments = connection.execute(
            select(access_log.c.recorded_at).where(access_log.c.period.is_(None))
        ).scalars()
        return sum(1 for m in moments if rule.past_maximum(period_end(period_of(utc(m))), now))


def _count(log: AccessLog, condition: Any) -> int:
    with log.engine.connect() as connection:
        query = select(func.count()).select_from(access_log).where(condition)
        return int(connection.execute(query).scalar_one())
