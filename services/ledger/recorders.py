"""The ledger's recorders: the library's, with the key fence (services/ledger/sealing.py) run
inside every transaction that inserts events, and on PostgreSQL a batch's events inserted as
four plain arrays (ids, versions, topics, states) instead of one array of a composite type.

psycopg dumps an array of composites in Python, value by value: in the in-process profile of
the aggregator on PostgreSQL that was a sixth of a batch (`array._dump_list`). Arrays of uuid,
bigint, text and bytea are dumped by its C code. The rows, their order (and so the order of
the notification ids), the table lock and the NOTIFY are the library's; only the statement's
parameters differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from services.ledger.sealing import KeyFence

RECORDER_TOPIC_VARIABLE = "PROCESS_RECORDER_TOPIC"  # the library's factory reads it


class FencedSQLiteProcessRecorder(SQLiteProcessRecorder):
    """The library's SQLite process recorder; after the insert (the write lock held), the
    key fence, when the ledger gave it one."""

    fence: KeyFence | None = None

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        returning = super()._insert_events(c, stored_events, **kwargs)
        if self.fence is not None:
            self.fence.check(c, stored_events, postgres=False)
        return returning


class ArrayInsertProcessRecorder(PostgresProcessRecorder):
    """The library's process recorder (events and tracking in one transaction), its events
    inserted from plain arrays, the key fence first (its rows held until the commit)."""

    fence: KeyFence | None = None

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = "stored_events",
        tracking_table_name: str = "notification_tracking",
    ) -> None:
        super().__init__(
            datastore, events_table_name=events_table_name, tracking_table_name=tracking_table_name
        )
        self._array_insert = SQL(
            "INSERT INTO {schema}.{table} AS t (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%s::{id_type}[], %s::bigint[], %s::text[], %s::bytea[])"
            " RETURNING notification_id"
        ).format(
            schema=Identifier(datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=Identifier(datastore.originator_id_type),
        )

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        if self.fence is not None and stored_events:
            self.fence.check(curs, stored_events, postgres=True)
        super()._insert_events(curs, stored_events, **kwargs)

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        """As the library's application recorder: lock, notify, insert (RETURNING the ids)."""
        self._lock_table(curs)
        self._notify_channel(curs)
        as_uuid = self.datastore.originator_id_type == "uuid"
        curs.execute(
            self._array_insert,
            (
                [e.originator_id if as_uuid else str(e.originator_id) for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [bytes(e.state) for e in stored_events],
            ),
        )


def use_ledger_recorders(env: dict[str, str]) -> None:
    """Makes an eventsourcing environment build these recorders."""
    module = env.get("PERSISTENCE_MODULE")
    if module == "eventsourcing.postgres":
        env[RECORDER_TOPIC_VARIABLE] = get_topic(ArrayInsertProcessRecorder)
    elif module == "eventsourcing.sqlite":
        env[RECORDER_TOPIC_VARIABLE] = get_topic(FencedSQLiteProcessRecorder)


def fence_recorder(recorder: object, fence: KeyFence) -> None:
    """Gives the ledger's recorder its fence (the library builds it, without arguments of ours)."""
    if isinstance(recorder, FencedSQLiteProcessRecorder | ArrayInsertProcessRecorder):
        recorder.fence = fence
