"""The worklist's score rows of one batch, written set-wise (issue 15: a worklist rebuild spent
its time in one UPDATE, one SELECT of the sealed row and one seal per score event).

A batch reads the rows of the households it touches in one query, applies its score and region
events to them in memory, in order, and writes them back at the end: one executemany per kind
of change, a COPY (PostgreSQL) or executemany of the new rows, and one seal per household
rather than one per event. What a row reads after the batch is what the event-by-event writes
left: the sealed parts go through the same JSON the sealer stores, so the next event's
explanation starts from exactly what a re-read would have opened.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from services.casework.sealing import SEALED, SealedRows
from services.casework.worklist_tables import household_scores
from services.projections.bulk import insert_rows

NO_SCORE = {"contributions": None, "child_scores": None}  # a row made by a region alone
PLAIN = ("region", "score", "as_of", "model_version", "children_present")


@dataclass
class _Row:
    household: str  # the pseudonym, for sealing
    stored: bool  # the row exists in the table already
    sealed: bytes | None = None  # as stored; None once the parts change
    parts: dict[str, Any] | None = None  # the sealed parts of a new score, to seal
    changes: dict[str, Any] = field(default_factory=dict)  # plain columns to write


@dataclass
class SealedChanges:
    """The rows a batch changed, sealed and ready to write."""

    new: list[dict[str, Any]] = field(default_factory=list)
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = field(default_factory=dict)


class ScoreRows:
    """The household_scores rows one write transaction changes, kept until `write`."""

    def __init__(self, rows: SealedRows, connection: Connection) -> None:
        self._rows = rows
        self._connection = connection
        self._pending: dict[str, _Row] = {}

    def load(self, households: Iterable[str]) -> None:
        """Reads the stored rows of these households (pseudonyms) in one query."""
        by_digest = {self._rows.household(h): h for h in households}
        by_digest = {d: h for d, h in by_digest.items() if d not in self._pending}
        if not by_digest:
            return
        table = household_scores
        found = self._connection.execute(
            select(table.c.household, table.c[SEALED]).where(
                table.c.household.in_(sorted(by_digest))
            )
        ).all()
        self._rows.prefetch(by_digest)
        stored = {row.household: row[1] for row in found}
        for digest, household in by_digest.items():
            self._pending[digest] = _Row(household, digest in stored, stored.get(digest))

    def contributions(self, household: str) -> list[dict[str, Any]]:
        """The household's explanation as of its latest score (empty when it has none)."""
        return list(self._parts(self._row(household)).get("contributions") or ())

    def score(self, household: str, columns: dict[str, Any], parts: dict[str, Any]) -> None:
        """A new score: its plain columns and its sealed parts replace the row's."""
        row = self._row(household)
        row.changes.update(columns)
        row.parts = json.loads(json.dumps(parts))  # as the sealer stores and opens it
        row.sealed = None

    def region(self, household: str, region: str) -> None:
        self._row(household).changes["region"] = region

    def sealed(self) -> SealedChanges:
        """Every changed row sealed, nothing written yet: a batch seals before its first
        write, so on SQLite the sealing is not done while holding the write lock."""
        changes = SealedChanges()
        for digest, row in self._pending.items():
            if not row.changes and row.sealed is not None:
                continue
            sealed = row.sealed if row.sealed is not None else self._seal(row)
            if not row.stored:
                values = {name: row.changes.get(name) for name in PLAIN}
                changes.new.append({"household": digest, **values, SEALED: sealed})
                continue
            names = tuple(sorted(row.changes)) + (() if row.sealed is not None else (SEALED,))
            values = {**row.changes, SEALED: sealed}
            changes.updates.setdefault(names, []).append(
                {"row_household": digest, **{f"new_{n}": values[n] for n in names}}
            )
        return changes

    def write(self, changes: SealedChanges) -> None:
        """Writes what `sealed` made: new rows inserted, stored ones updated by kind."""
        insert_rows(self._connection, household_scores, changes.new)
        for names, rows in changes.updates.items():
            statement = (
                update(household_scores)
                .where(household_scores.c.household == bindparam("row_household"))
                .values({n: bindparam(f"new_{n}") for n in names})
            )
            self._connection.execute(statement, rows)
        self._pending.clear()

    def _row(self, household: str) -> _Row:
        digest = self._rows.household(household)
        if digest not in self._pending:
            self.load([household])
        return self._pending[digest]

    def _parts(self, row: _Row) -> dict[str, Any]:
        if row.parts is not None:
            return row.parts
        digest = self._rows.household(row.household)
        return self._rows.open(household_scores, digest, (), row.sealed) or {}

    def _seal(self, row: _Row) -> bytes:
        parts = row.parts if row.parts is not None else NO_SCORE
        value = {"household": row.household, **parts}
        return self._rows.seal(self._connection, household_scores, row.household, (), value)
