"""The access log (NEN 7513 grade): every decision, permit or deny, appended and hash-chained.

Each entry's hash covers its sequence number, time, kind, content and the previous entry's
hash, so a changed, removed, inserted or reordered entry breaks the chain where it happened. The
previous hash is unique, so two writers racing for the same place cannot fork the chain: the
loser retries on the new head. Purpose register adoptions, break-glass reviews, extracts for
external recipients and every reading of the logs on the command line are entries in the same
chain, so an auditor reads one history.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterator
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
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from privacy.purposes import PurposeRegister

WithEntry = Callable[[Connection, "LogEntry"], None]

GENESIS_HASH = "0" * 64
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
)

access_notices = Table(
    "access_notices",
    metadata,
    Column("access_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("region", String(8), nullable=False, index=True),
    Column("household", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("accessor_organisation", String(64), nullable=False),
    Column("accessor_region", String(8), nullable=False),
    Column("purpose", String(64), nullable=False),
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


@dataclass(frozen=True)
class LogEntry:
    """One entry as stored."""

    seq: int
    recorded_at: datetime
    kind: EntryKind
    payload: dict[str, Any]
    prev_hash: str
    entry_hash: str


@dataclass(frozen=True)
class Notice:
    """Tells a region that someone from elsewhere opened one of its households."""

    region: str
    household: str
    kind: str  # cross_region or break_glass
    accessor_organisation: str
    accessor_region: str
    purpose: str


@dataclass(frozen=True)
class ChainFault:
    """Where the chain breaks and how."""

    seq: int
    problem: str


def entry_hash(seq: int, recorded_at: datetime, kind: str, payload: str, prev_hash: str) -> str:
    """The hash that chains an entry to its predecessor."""
    material = "\x1f".join(
        [str(seq), _utc(recorded_at).isoformat(), kind, payload, prev_hash]
    ).encode()
    return hashlib.sha256(material).hexdigest()


class AccessLog:
    """Appends to and reads the access log."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._append_lock = threading.Lock()
        metadata.create_all(engine)

    def append(
        self,
        kind: EntryKind,
        payload: dict[str, Any],
        notice: Notice | None = None,
        also: WithEntry | None = None,
    ) -> LogEntry:
        """Appends one entry (and its notice, in the same transaction) at the head of the chain.
        `also` writes a record that must exist exactly when the entry does (a restriction),
        in the same transaction; an exception from it appends nothing."""
        text = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
        with self._append_lock:  # threads of one process queue here, not in the database
            return self._append_with_retries(kind, text, notice, also)

    def _append_with_retries(
        self, kind: EntryKind, text: str, notice: Notice | None, also: WithEntry | None
    ) -> LogEntry:
        for attempt in range(APPEND_ATTEMPTS):
            try:
                with self.engine.begin() as connection:
                    entry = self._append_at_head(connection, kind, text)
                    if also is not None:
                        also(connection, entry)
                    if notice is not None:
                        connection.execute(
                            insert(access_notices).values(
                                access_seq=entry.seq,
                                recorded_at=entry.recorded_at,
                                **asdict(notice),
                            )
                        )
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
        return None if row is None else _entry(row._mapping)

    def entries(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[LogEntry]:
        """Entries in chain order, optionally within a time window."""
        query = select(access_log).order_by(access_log.c.seq)
        if since is not None:
            query = query.where(access_log.c.recorded_at >= _utc(since))
        if until is not None:
            query = query.where(access_log.c.recorded_at <= _utc(until))
        with self.engine.connect() as connection:
            return [_entry(row._mapping) for row in connection.execute(query)]

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(access_log)).scalar_one()
            )

    def notices(self, region: str) -> list[dict[str, Any]]:
        """Accesses to the region's households by others, newest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(access_notices)
                .where(access_notices.c.region == region)
                .order_by(access_notices.c.access_seq.desc())
            ).all()
        return [dict(row._mapping) for row in rows]

    def verify(self) -> list[ChainFault]:
        """Every place where the chain is broken; empty when the log is intact."""
        faults: list[ChainFault] = []
        expected_seq, previous = 1, GENESIS_HASH
        for entry in self._raw_rows():
            seq, recorded_at, kind, payload, prev_hash, stored_hash = entry
            if seq != expected_seq:
                problem = (
                    f"entries {expected_seq}..{seq - 1} missing"
                    if seq > expected_seq
                    else "sequence out of order"
                )
                faults.append(ChainFault(seq, problem))
            if prev_hash != previous:
                faults.append(
                    ChainFault(
                        seq,
                        "does not follow its predecessor (removed, inserted or reordered entry)",
                    )
                )
            if entry_hash(seq, recorded_at, kind, payload, prev_hash) != stored_hash:
                faults.append(ChainFault(seq, "content changed"))
            expected_seq, previous = seq + 1, stored_hash
        return faults

    def _raw_rows(self) -> Iterator[tuple[int, datetime, str, str, str, str]]:
        with self.engine.connect() as connection:
            for row in connection.execute(select(access_log).order_by(access_log.c.seq)):
                yield (
                    row.seq,
                    row.recorded_at,
                    row.kind,
                    row.payload,
                    row.prev_hash,
                    row.entry_hash,
                )

    @staticmethod
    def _append_at_head(connection: Connection, kind: EntryKind, payload: str) -> LogEntry:
        head = connection.execute(
            select(access_log.c.seq, access_log.c.entry_hash)
            .order_by(access_log.c.seq.desc())
            .limit(1)
        ).first()
        seq = 1 if head is None else head.seq + 1
        prev_hash = GENESIS_HASH if head is None else head.entry_hash
        recorded_at = datetime.now(UTC)
        digest = entry_hash(seq, recorded_at, str(kind), payload, prev_hash)
        connection.execute(
            insert(access_log).values(
                seq=seq,
                recorded_at=recorded_at,
                kind=str(kind),
                payload=payload,
                prev_hash=prev_hash,
                entry_hash=digest,
            )
        )
        return LogEntry(seq, recorded_at, kind, orjson.loads(payload), prev_hash, digest)


def _entry(row: Any) -> LogEntry:
    return LogEntry(
        seq=row["seq"],
        recorded_at=_utc(row["recorded_at"]),
        kind=EntryKind(row["kind"]),
        payload=orjson.loads(row["payload"]),
        prev_hash=row["prev_hash"],
        entry_hash=row["entry_hash"],
    )


def _utc(moment: datetime) -> datetime:
    """UTC datetimes; SQLite returns naive values, which were stored as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
