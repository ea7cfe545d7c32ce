# ruff: noqa: S608  (raw SQL on fixed table names is the point: tampering as an attacker would)
"""Helpers for the audit tests: signals written straight into a real event store, and raw SQL
that tampers with the stored records the way an attacker with database access could."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from eventsourcing.persistence import Tracking

from contracts.signal_v1 import SignalEventV1
from services.audit.sealing import Sealer
from services.audit.settings import AuditSettings
from services.audit.verify import stored_checkpoints
from services.bootstrap import sealer
from services.database import Database
from services.ledger.application import SignalBatch, SignalLedger
from services.ledger.store import open_ledger
from services.settings import Settings

POSTGRES_EVENTS = "signalledger_events"  # eventsourcing names it after the application
SQLITE_EVENTS = "stored_events"


HOUSEHOLDS = 12
BATCHES = 5


@dataclass
class Sealed:
    """A sealed store: how many records it holds and where its checkpoints are."""

    sealer: Sealer
    records: int
    checkpoints: list[int]  # notification ids, in order

    def covering(self, nid: int) -> int:
        """The first checkpoint whose chain includes record `nid`."""
        return next(c for c in self.checkpoints if c >= nid)


def sealing_settings(settings: Settings) -> AuditSettings:
    """A checkpoint every 25 records, sealed in batches of 10, on the test's own topic."""
    return AuditSettings(
        checkpoints_topic=f"{settings.signals_topic}.checkpoints",
        checkpoint_every_records=25,
        seal_batch_records=10,
    )


@contextmanager
def sealed_store(settings: Settings, database: Database, audit: AuditSettings) -> Iterator[Sealed]:
    """A store of a few hundred records (what the domain records for 60 signals), sealed, its
    checkpoints published to the real broker."""
    ledger = open_ledger(database)
    for offset in range(BATCHES):
        record(ledger, [signal(household(n)) for n in range(HOUSEHOLDS)], offset)
    records = ledger.notifications.last_id()
    ledger.close()
    assert records >= 72  # 12 households opened, 60 signals, and whatever the domain adds
    worker = sealer(settings, audit)
    assert worker.catch_up() == records
    engine = database.engine()
    checkpoints = [c.notification_id for c in stored_checkpoints(engine)]
    engine.dispose()
    try:
        yield Sealed(worker, records, checkpoints)
    finally:
        worker.close()


def household(n: int) -> str:
    return f"hh.k1.{n:032x}"


def signal(household_pseudonym: str, days_ago: float = 1.0, region: str = "VT09") -> SignalEventV1:
    moment = datetime.now(UTC) - timedelta(days=days_ago)
    return SignalEventV1(
        event_id=uuid.uuid4(),
        organisation="politie-midden-nederland",
        sector="police",
        signal_type="zorgmelding",
        severity="high",
        occurred_at=moment,
        reported_at=moment,
        received_at=moment,
        region=region,
        household=household_pseudonym,
        # a child of this household only: households here share no members
        persons=({"pseudonym": "p.k1." + household_pseudonym[-32:], "role": "child"},),
        pseudonym_key_id="k1",
    )


def record(ledger: SignalLedger, signals: Sequence[SignalEventV1], offset: int) -> None:
    """Records signals as the aggregator would, tracked at a made-up source offset."""
    ledger.record_batch(SignalBatch(list(signals)), Tracking("kafka:test:0", offset))


class Tamperer:
    """Raw SQL on the event store table, by notification id."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.sqlite = database.is_sqlite
        self.id_column = "rowid" if self.sqlite else "notification_id"
        self.table = SQLITE_EVENTS if self.sqlite else POSTGRES_EVENTS

    def _run(self, *statements: tuple[str, tuple[object, ...]]) -> None:
        if self.sqlite:
            connection = sqlite3.connect(self.database.sqlite_path())
            try:
                for sql, params in statements:
                    connection.execute(sql, params)
                connection.commit()
            finally:
                connection.close()
            return
        with psycopg.connect(self.database.url) as pg:
            for sql, params in statements:
                pg.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]

    def _state(self, nid: int) -> bytes:
        if self.sqlite:
            connection = sqlite3.connect(self.database.sqlite_path())
            try:
                row = connection.execute(
                    f"SELECT state FROM {self.table} WHERE rowid = ?", (nid,)
                ).fetchone()
            finally:
                connection.close()
            return bytes(row[0])
        with psycopg.connect(self.database.url) as pg:
            found = pg.execute(
                f"SELECT state FROM {self.table} WHERE notification_id = %s", (nid,)
            ).fetchone()
        assert found is not None
        return bytes(found[0])

    def flip_byte(self, nid: int, index: int = 10) -> None:
        state = bytearray(self._state(nid))
        state[index] ^= 0x01
        self._run(
            (f"UPDATE {self.table} SET state = ? WHERE {self.id_column} = ?", (bytes(state), nid))
        )

    def delete(self, nid: int) -> None:
        self._run((f"DELETE FROM {self.table} WHERE {self.id_column} = ?", (nid,)))

    def truncate_after(self, nid: int) -> None:
        """Deletes the newest records, their seal rows and the checkpoints that signed them:
        what is left is consistent in itself."""
        self._run(
            (f"DELETE FROM {self.table} WHERE {self.id_column} > ?", (nid,)),
            ("DELETE FROM audit_event_chain WHERE notification_id > ?", (nid,)),
            ("DELETE FROM audit_checkpoints WHERE notification_id > ?", (nid,)),
        )

    def swap(self, first: int, second: int) -> None:
        """Exchanges the places of two records in the global sequence."""
        c = self.id_column
        self._run(
            (f"UPDATE {self.table} SET {c} = -1 WHERE {c} = ?", (first,)),
            (f"UPDATE {self.table} SET {c} = ? WHERE {c} = ?", (first, second)),
            (f"UPDATE {self.table} SET {c} = ? WHERE {c} = -1", (second,)),
        )

    def insert_after(self, nid: int) -> None:
        """Slips a forged record into the sequence right after `nid`: later records move up by
        one, so the forged one takes notification id nid + 1."""
        c = self.id_column
        forged = self._state(nid)
        columns = "originator_id, originator_version, topic, state"
        self._run(
            (f"UPDATE {self.table} SET {c} = -{c} - 1 WHERE {c} > ?", (nid,)),
            (f"UPDATE {self.table} SET {c} = -{c} WHERE {c} < 0", ()),
            (
                f"INSERT INTO {self.table} ({c}, {columns}) "
                f"SELECT ?, originator_id, 9999, topic, ? FROM {self.table} WHERE {c} = ?",
                (nid + 1, forged, nid),
            ),
        )
