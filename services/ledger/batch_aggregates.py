"""The aggregates one batch of signals works on, read set-wise and kept in memory between batches.

An aggregator owns its partitions, but analysts' steps in the query process write the same
households and cases (safety conditions, moves, departures), and a batch may read an aggregate
it does not write (a case's safety conditions decide whether a signal is a breach). So cached
aggregates are brought up to date set-wise: one statement per batch reads the events stored
after each cached version (usually none), instead of a fast-forward SELECT per aggregate. When
another process writes one between that read and the batch's insert, the store refuses the
insert on the aggregate's version (IntegrityError): the ledger drops what the batch used from
the cache and applies the batch again on the stored state. Cache misses are read in two
statements per batch (the latest snapshot of each, then the events after it).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import Cache, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    AggregateRecorder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresDatastore, PostgresRecorder
from eventsourcing.sqlite import SQLiteRecorder
from psycopg.sql import SQL, Identifier

CHUNK = 400  # ids per statement: well under SQLite's limit on bound parameters

LoadOne = Callable[[], Any]
"""Loads one aggregate the one-by-one way (None when it does not exist)."""


@dataclass
class BatchAggregates:
    """What one batch found: cached or loaded aggregates, ids the store has nothing of, and
    every id the batch asked for (what to drop from the cache when the batch fails)."""

    found: dict[UUID, Any]
    absent: set[UUID]
    used: set[UUID] = field(default_factory=set)
    snapshotted: set[UUID] = field(default_factory=set)  # snapshots taken from memory

    def get(self, aggregate_id: UUID, load_one: LoadOne) -> Any:
        """The aggregate (changed in place by the batch), None if the store has none; what the
        set-wise read could not rebuild (an erased history, a snapshot older than its facts)
        comes from `load_one`."""
        self.used.add(aggregate_id)
        if aggregate_id in self.found:
            return self.found[aggregate_id]
        if aggregate_id in self.absent:
            return None
        loaded = load_one()
        if loaded is not None:
            self.found[aggregate_id] = loaded
        return loaded

    def snapshots(self, aggregate_id: UUID, version: int | None) -> list[Any] | None:
        """The snapshot to store of an aggregate due one at `version`: as it is in memory, at its
        version now (at or past `version`); [] when taken already this batch (one version is in
        memory); None when it is not held here (the library rebuilds it from the store)."""
        held = self.found.get(aggregate_id)
        snapshot_class = getattr(type(held), "Snapshot", None)
        if held is None or version is None or held.version < version or snapshot_class is None:
            return None
        if aggregate_id in self.snapshotted:
            return []
        self.snapshotted.add(aggregate_id)
        return [snapshot_class.take(held)]

    def forget(self, cache: Cache[UUID, Any] | None) -> None:
        """Drops from the cache everything the batch used: changed in place, never stored."""
        if cache is None:
            return
        for aggregate_id in self.used:
            with contextlib.suppress(KeyError):
                cache.get(aggregate_id, evict=True)


def collect(processing_event: ProcessingEvent[UUID], aggregates: Iterable[Aggregate]) -> None:
    """The library's `collect_events` for aggregates only: without its runtime Protocol
    `isinstance` checks (two per aggregate, 3-4 % of a batch in the profile)."""
    for aggregate in aggregates:
        processing_event.events.extend(aggregate.collect_events())
        processing_event.aggregates[aggregate.id] = aggregate


class SetwiseLoader:
    """Reads the current state of many aggregates at once from the event and snapshot tables."""

    def __init__(
        self,
        events: AggregateRecorder,
        snapshots: AggregateRecorder | None,
        mapper: Mapper[UUID],
        prefetch: Callable[[Iterable[str]], None],
    ) -> None:
        self._events = events
        self._snapshots = snapshots
        self._mapper = mapper
        self._prefetch = prefetch

    def open(self, ids: Sequence[UUID], cache: Cache[UUID, Any] | None) -> BatchAggregates:
        """The batch's aggregates: those in the cache brought up to date, the others read
        set-wise."""
        found: dict[UUID, Any] = {}
        missing: list[UUID] = []
        for aggregate_id in dict.fromkeys(ids):
            try:
                if cache is None:
                    raise KeyError(aggregate_id)
                cached = cache.get(aggregate_id)
                if getattr(cached, "replay_required", False):
                    raise KeyError(aggregate_id)  # from an old snapshot: read it afresh
                found[aggregate_id] = cached
            except KeyError:
                missing.append(aggregate_id)
        missing += self._brought_up_to_date(found)
        loaded, absent = self.load(missing)
        found.update(loaded)
        return BatchAggregates(found, absent)

    def _brought_up_to_date(self, found: dict[UUID, Any]) -> list[UUID]:
        """Applies to each cached aggregate the events stored after its version (written by
        another process); returns those it could not (erased content: read them afresh)."""
        ids = list(found)
        stale: list[UUID] = []
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            newer = self._events_after({i: found[i].version for i in chunk})
            self._prefetch(str(i) for i in newer)
            for aggregate_id, stored in newer.items():
                try:
                    for item in stored:
                        event: Any = self._mapper.to_domain_event(item)
                        found[aggregate_id] = event.mutate(found[aggregate_id])
                except MapperDeserialisationError:
                    del found[aggregate_id]
                    stale.append(aggregate_id)
        return stale

    def load(self, ids: Sequence[UUID]) -> tuple[dict[UUID, Any], set[UUID]]:
        """(the aggregates rebuilt, the ids with nothing stored); an id in neither is left to
        the one-by-one path (its content erased, or a snapshot that asks for a full replay)."""
        loaded: dict[UUID, Any] = {}
        absent: set[UUID] = set()
        for start in range(0, len(ids), CHUNK):
            chunk = list(ids[start : start + CHUNK])
            snapshots = self._latest_snapshots(chunk)
            after = {i: snapshots[i].originator_version if i in snapshots else 0 for i in chunk}
            events = self._events_after(after)
            self._prefetch(str(i) for i in chunk if i in snapshots or i in events)
            for aggregate_id in chunk:
                if aggregate_id not in snapshots and aggregate_id not in events:
                    absent.add(aggregate_id)
                    continue
                stored = [
                    *([snapshots[aggregate_id]] if aggregate_id in snapshots else []),
                    *events.get(aggregate_id, []),
                ]
                aggregate = self._rebuilt(stored)
                if aggregate is not None:
                    loaded[aggregate_id] = aggregate
        return loaded, absent

    def _rebuilt(self, stored: Sequence[StoredEvent]) -> Any:
        aggregate: Any = None
        try:
            for item in stored:
                event: Any = self._mapper.to_domain_event(item)
                aggregate = event.mutate(aggregate)
        except MapperDeserialisationError:  # erased content (retention): the careful path
            return None
        if aggregate is None or getattr(aggregate, "replay_required", False):
            return None
        return aggregate

    def _latest_snapshots(self, ids: list[UUID]) -> dict[UUID, StoredEvent]:
        if self._snapshots is None or not ids:
            return {}
        rows = _select(self._snapshots, _LATEST_SNAPSHOT, [(i, 0) for i in ids])
        return {UUID(str(row.originator_id)): row for row in rows}

    def _events_after(self, after: dict[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        events: dict[UUID, list[StoredEvent]] = defaultdict(list)
        if after:
            for row in _select(self._events, _EVENTS_AFTER, list(after.items())):
                events[UUID(str(row.originator_id))].append(row)
        return events


# {table} is the recorder's table; `wanted(oid, gt)` is the list of (originator id, version)
_LATEST_SNAPSHOT = (
    "SELECT s.originator_id, s.originator_version, s.topic, s.state FROM {table} s "
    "JOIN (SELECT t.originator_id AS oid, MAX(t.originator_version) AS v FROM {table} t "
    "JOIN wanted w ON t.originator_id = w.oid GROUP BY t.originator_id) m "
    "ON s.originator_id = m.oid AND s.originator_version = m.v"
)
_EVENTS_AFTER = (
    "SELECT e.originator_id, e.originator_version, e.topic, e.state FROM {table} e "
    "JOIN wanted w ON e.originator_id = w.oid AND e.originator_version > w.gt "
    "ORDER BY e.originator_id, e.originator_version"
)


def _select(
    recorder: AggregateRecorder, query: str, wanted: list[tuple[UUID, int]]
) -> list[StoredEvent]:
    """Runs `query` on the recorder's table with `wanted` as a table of (oid, gt)."""
    if isinstance(recorder, SQLiteRecorder):
        return _select_sqlite(recorder, query, wanted)
    if isinstance(recorder, PostgresRecorder):
        return _select_postgres(recorder, query, wanted)
    raise TypeError(f"no set-wise read for {type(recorder).__name__}")


def _select_sqlite(
    recorder: SQLiteRecorder, query: str, wanted: list[tuple[UUID, int]]
) -> list[StoredEvent]:
    table = getattr(recorder, "events_table_name")  # noqa: B009 (set by the aggregate recorder)
    values = ",".join("(?, ?)" for _ in wanted)
    statement = f"WITH wanted(oid, gt) AS (VALUES {values}) " + query.format(table=table)
    params = [p for oid, gt in wanted for p in (oid.hex, gt)]
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, params)
        return [
            StoredEvent(
                originator_id=recorder.convert_originator_id(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=row["state"],
            )
            for row in cursor.fetchall()
        ]


def _select_postgres(
    recorder: PostgresRecorder, query: str, wanted: list[tuple[UUID, int]]
) -> list[StoredEvent]:
    datastore: PostgresDatastore = recorder.datastore
    table = Identifier(datastore.schema, getattr(recorder, "events_table_name"))  # noqa: B009
    id_type = Identifier(datastore.originator_id_type)
    wanted_table = SQL("WITH wanted(oid, gt) AS (SELECT * FROM unnest(%s::{}[], %s::bigint[])) ")
    statement = wanted_table.format(id_type) + SQL(query).format(table=table)
    oids = [oid if datastore.originator_id_type == "uuid" else str(oid) for oid, _ in wanted]
    with datastore.get_connection() as connection, connection.cursor() as cursor:
        cursor.execute(statement, [oids, [gt for _, gt in wanted]])
        return [
            StoredEvent(
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in cursor.fetchall()
        ]
