"""The access log (NEN 7513 grade): every decision, permit or deny, appended and hash-chained.

Each entry's hash covers its sequence number, time, kind, content and the previous entry's
hash, so a changed, removed, inserted or reordered entry breaks the chain where it happened. The
previous hash is unique, so two writers racing for the same place cannot fork the chain: the
loser retries on the new head. Purpose register adoptions, break-glass reviews, extracts for
external recipients and every reading of the logs on the command line are entries in the same
chain, so an auditor reads one history.

Since format 2 no entry holds a pseudonym in clear (privacy.storage.access_log_sealing): the
subject is a lookup digest, the pseudonyms sealed under the entry's period key. The hash of such
an entry covers the stored bytes (plain payload, period, digest, sealed part), so the chain still
verifies after retention destroyed the period's key. Entries written before (no period) keep
their old payload and their old hash, and read and verify as they did.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from privacy.purposes import PurposeRegister
from privacy.storage.access_log_chain import (
    GENESIS_HASH,
    ChainFault,
    StoredRow,
    StoredSealing,
    chain_faults,
    entry_hash,
    stored_sealing,
)
from privacy.storage.access_log_chain import utc as _utc
from privacy.storage.access_log_sealing import LogSealing, hidden_fields, merged, period_of
from privacy.storage.access_notices import insert_notice, region_notices, seal_old_notices

__all__ = [
    "GENESIS_HASH",
    "AccessLog",
    "ChainFault",
    "EntryKind",
    "LogEntry",
    "LogKeysMissingError",
    "Notice",
    "access_log",
    "access_notices",
    "entry_hash",
    "metadata",
]

WithEntry = Callable[[Connection, "LogEntry"], None]
Clock = Callable[[], datetime]

APPEND_ATTEMPTS = 50

metadata = MetaData()

access_log = Table(
    "access_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("entry_hash", String(64), nullable=False),
    # Format 2 (all three NULL on entries written before): the entry's period, the digest of
    # whom it is about, and the payload's sealed fields under the period's key.
    Column("period", String(7), nullable=True),
    Column("subject_digest", String(32), nullable=True, index=True),
    Column("sealed", LargeBinary, nullable=True),
)

access_notices = Table(
    "access_notices",
    metadata,
    Column("access_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("region", String(8), nullable=False, index=True),
    Column("household", String(64), nullable=False),  # its lookup digest (in place since v2)
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("accessor_organisation", String(64), nullable=False),
    Column("accessor_region", String(8), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("sealed_household", LargeBinary, nullable=True),  # the pseudonym, period-keyed
)


class EntryKind(StrEnum):
    ACCESS = "access"
    REGISTER_ADOPTED = "register_adopted"
    BREAK_GLASS_REVIEW = "break_glass_review"
    RESTRICTION_PLACED = "restriction_placed"  # AVG art. 18, see privacy/restrictions.py
    RESTRICTION_LIFTED = "restriction_lifted"
    INZAGE_EXPORT = "inzage_export"  # an AVG art. 15 export was produced (no identifiers)
    EXPORT = "export"  # an extract disclosed to an external recipient (recipients.toml)
    LOG_ACCESS = "log_access"  # the logs themselves read on the command line (radar audit ...)
    LOG_RETENTION = "log_retention"  # the log's own retention enforced (counts, periods)
    AUTH_REFUSED = "auth_refused"  # a 401: no valid token (access_log_refusals)
    AUTH_REFUSED_SUPPRESSED = "auth_refused_suppressed"  # how many 401s a window did not log


@dataclass(frozen=True)
class LogEntry:
    """One entry as stored."""

    seq: int
    recorded_at: datetime
    kind: EntryKind
    payload: dict[str, Any]
    prev_hash: str
    entry_hash: str
    subject_digest: str | None = None
    readable: bool = True  # False once retention destroyed its period's key


@dataclass(frozen=True)
class Notice:
    """Tells a region that someone from elsewhere opened one of its households."""

    region: str
    household: str
    kind: str  # cross_region or break_glass
    accessor_organisation: str
    accessor_region: str
    purpose: str


class LogKeysMissingError(RuntimeError):
    """An entry about someone cannot be written without the log's keys (it would be in clear)."""


class AccessLog:
    """Appends to and reads the access log."""

    def __init__(
        self, engine: Engine, sealing: LogSealing | None = None, clock: Clock | None = None
    ) -> None:
        """Without `sealing` the log reads and verifies, but cannot show or write subjects."""
        self.engine = engine
        self.sealing = sealing
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self._append_lock = threading.Lock()
        if sealing is not None:
            seal_old_notices(engine, access_notices, sealing)

    def append(
        self,
        kind: EntryKind,
        payload: dict[str, Any],
        notice: Notice | None = None,
        also: WithEntry | None = None,
    ) -> LogEntry:
        """Appends one entry (and its notice, in the same transaction) at the head of the chain.
        `also` writes a record that must exist exactly when the entry does (a restriction),
        in the same transaction; an exception from it appends nothing. Subjects are stored as
        digests and sealed (LogKeysMissingError without the log's keys)."""
        if self.sealing is None and (notice is not None or hidden_fields(payload)):
            raise LogKeysMissingError("the access log needs its keys to record a subject")
        with self._append_lock:  # threads of one process queue here, not in the database
            return self._append_with_retries(kind, payload, notice, also)

    def _append_with_retries(
        self,
        kind: EntryKind,
        payload: dict[str, Any],
        notice: Notice | None,
        also: WithEntry | None,
    ) -> LogEntry:
        for attempt in range(APPEND_ATTEMPTS):
            try:
                with self.engine.begin() as connection:
                    entry = self._append_at_head(connection, kind, payload)
                    if also is not None:
                        also(connection, entry)
                    if notice is not None:
                        assert self.sealing is not None
                        values = asdict(notice)
                        insert_notice(connection, access_notices, self.sealing, entry, values)
                    return entry
            except IntegrityError:  # another process took this place: retry at the new head
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise RuntimeError("access log is too contended to append")

    def adopt_register(self, register: PurposeRegister) -> None:
        """Records the register version in force, unless that exact version is already the
        latest adopted one."""
        latest = self.latest_register()
        if latest is not None and latest.payload["fingerprint"] == register.fingerprint():
            return
        self.append(
            EntryKind.REGISTER_ADOPTED,
            {
                "version": register.version,
                "fingerprint": register.fingerprint(),
                "register": orjson.loads(register.canonical_json()),
            },
        )

    def latest_register(self) -> LogEntry | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(access_log)
                .where(access_log.c.kind == str(EntryKind.REGISTER_ADOPTED))
                .order_by(access_log.c.seq.desc())
                .limit(1)
            ).first()
        return None if row is None else self._entry(row._mapping)

    def entries(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[LogEntry]:
        """Entries in chain order, optionally within a time window."""
        query = select(access_log).order_by(access_log.c.seq)
        if since is not None:
            query = query.where(access_log.c.recorded_at >= _utc(since))
        if until is not None:
            query = query.where(access_log.c.recorded_at <= _utc(until))
        return self._read(query)

    def batch(self, after_seq: int, limit: int) -> list[LogEntry]:
        """Up to `limit` entries after `after_seq`, in chain order (a long walk, in batches)."""
        return self._read(
            select(access_log)
            .where(access_log.c.seq > after_seq)
            .order_by(access_log.c.seq)
            .limit(limit)
        )

    def about(self, subjects: Iterable[str]) -> list[LogEntry]:
        """Entries about any of these households or persons (their digests; entries written
        before format 2 by their payload), in chain order."""
        wanted = set(subjects)
        if self.sealing is None or not wanted:
            return []
        digests = {d for d in map(self.sealing.subject_digest, wanted) if d is not None}
        query = (
            select(access_log)
            .where(or_(access_log.c.subject_digest.in_(digests), access_log.c.period.is_(None)))
            .order_by(access_log.c.seq)
        )
        return [
            e
            for e in self._read(query)
            if e.subject_digest in digests
            or any(e.payload.get(field) in wanted for field in ("subject", "person", "household"))
        ]

    def _read(self, query: Any) -> list[LogEntry]:
        with self.engine.connect() as connection:
            rows = [row._mapping for row in connection.execute(query)]
        if self.sealing is not None:
            self.sealing.prefetch({row["period"] for row in rows if row["sealed"] is not None})
        return [self._entry(row) for row in rows]

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(access_log)).scalar_one()
            )

    def notices(self, region: str) -> list[dict[str, Any]]:
        """Accesses to the region's households by others, newest first; those whose period's
        key is gone are left out (nobody can say whom they were about any more)."""
        if self.sealing is None:
            raise LogKeysMissingError("the access log needs its keys to show notices")
        return region_notices(self.engine, access_notices, self.sealing, region)

    def verify(self) -> list[ChainFault]:
        """Every place where the chain is broken; empty when the log is intact."""
        return chain_faults(self._raw_rows())

    def _raw_rows(
        self,
    ) -> Iterator[StoredRow]:
        with self.engine.connect() as connection:
            for row in connection.execute(select(access_log).order_by(access_log.c.seq)):
                yield StoredRow(
                    row.seq,
                    row.recorded_at,
                    row.kind,
                    row.payload,
                    row.prev_hash,
                    row.entry_hash,
                    stored_sealing(row._mapping),
                )

    def _append_at_head(
        self, connection: Connection, kind: EntryKind, payload: dict[str, Any]
    ) -> LogEntry:
        head = connection.execute(_HEAD).first()
        seq = 1 if head is None else head.seq + 1
        prev_hash = GENESIS_HASH if head is None else head.entry_hash
        recorded_at = _utc(self.clock())
        plain, stored = payload, None
        if self.sealing is not None:
            split = self.sealing.split(payload)
            period = period_of(recorded_at)
            sealed = (
                self.sealing.seal(period, _entry_where(seq), split.hidden, connection)
                if split.hidden
                else None
            )
            plain, stored = split.plain, StoredSealing(period, split.subject_digest, sealed)
        text = orjson.dumps(plain, option=orjson.OPT_SORT_KEYS).decode()
        digest = entry_hash(seq, recorded_at, str(kind), text, prev_hash, stored)
        connection.execute(
            _APPEND,
            {
                "seq": seq,
                "recorded_at": recorded_at,
                "kind": str(kind),
                "payload": text,
                "prev_hash": prev_hash,
                "entry_hash": digest,
                **(_UNSEALED if stored is None else asdict(stored)),
            },
        )
        return LogEntry(
            seq,
            recorded_at,
            kind,
            orjson.loads(orjson.dumps(payload)),
            prev_hash,
            digest,
            None if stored is None else stored.subject_digest,
        )

    def _entry(self, row: Any) -> LogEntry:
        """An entry as appended; its sealed fields None when they cannot be opened."""
        payload = orjson.loads(row["payload"])
        opened, stored = None, stored_sealing(row)
        if stored is not None and stored.sealed is not None and self.sealing is not None:
            opened = self.sealing.open(stored.period, _entry_where(row["seq"]), stored.sealed)
        return LogEntry(
            seq=row["seq"],
            recorded_at=_utc(row["recorded_at"]),
            kind=EntryKind(row["kind"]),
            payload=merged(payload, opened),
            prev_hash=row["prev_hash"],
            entry_hash=row["entry_hash"],
            subject_digest=None if stored is None else stored.subject_digest,
            readable=stored is None or stored.sealed is None or opened is not None,
        )


# Built once (every query appends): building a statement per call cost more than running it.
_HEAD = select(access_log.c.seq, access_log.c.entry_hash).order_by(access_log.c.seq.desc()).limit(1)
_APPEND = insert(access_log)
_UNSEALED = {"period": None, "subject_digest": None, "sealed": None}


def _entry_where(seq: int) -> str:
    return f"access_log|{seq}"
