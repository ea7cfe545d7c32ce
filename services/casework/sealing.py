"""How the casework read models keep a household's pseudonym, its persons and its signal ids
out of their stored columns (issue 24 item 5).

Every row about a household is found by the household's lookup digest (its `household`
column) and carries what it must show again (the pseudonym, signal ids, child pseudonyms,
free text about the family) sealed under the household's row key in its `sealed` column, bound
to the table and the row. Erasing the household destroys that key: every copy of the row, in
the table, the write-ahead log, a replica or a backup, then names nobody. What lists filter or
sort on and what names nobody (region, kind, status, dates, scores, booleans) stays plain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Engine, LargeBinary, Table, select
from sqlalchemy.engine import Connection

from privacy.storage.sealed_rows import RowSealer
from services.projections.positions import PositionedTables, moving_position

SEALED = "sealed"


def sealed_column(name: str = SEALED) -> Column[bytes]:
    """A column holding a row's readable parts, sealed under its household's row key. Always
    written, but nullable: it is added to a table of the earlier format before that table is
    found outdated and rebuilt (services/projections/positions.py)."""
    return Column(name, LargeBinary)


@dataclass(frozen=True)
class SealedTable:
    """A table of rows about one household each, as it reads once opened."""

    table: Table
    key: tuple[str, ...]  # the columns that name a row besides its household
    columns: str  # the row as it reads, space-separated (its columns before sealing)
    order: tuple[str, ...]  # the columns a dump is sorted by

    def names(self) -> list[str]:
        return self.columns.split()


Opener = Callable[[Mapping[Any, Any]], "dict[str, Any] | None"]


class SealedRows:
    """Seals and opens the readable parts of the rows of one read model's tables."""

    def __init__(self, sealer: RowSealer) -> None:
        self._sealer = sealer
        self.digests = sealer.digests

    def household(self, pseudonym: str) -> str:
        """The digest a `household` column holds for this pseudonym."""
        return self.digests.household(pseudonym)

    def seal(
        self,
        connection: Connection,
        table: Table,
        household: str,
        row: Sequence[str],
        value: Mapping[str, Any],
        part: str = SEALED,
    ) -> bytes:
        """`value` sealed for `row` (the row's key values) of `table`, in the write
        transaction of `connection` (the household's key is made there on first use)."""
        where = _where(table, self.household(household), row, part)
        return self._sealer.seal(household, where, dict(value), connection)

    def open(
        self,
        table: Table,
        household_digest: str,
        row: Sequence[str],
        sealed: bytes | None,
        part: str = SEALED,
    ) -> dict[str, Any] | None:
        """What `seal` sealed, or None when there is nothing or the household was erased."""
        if sealed is None:
            return None
        opened = self._sealer.open(
            household_digest, _where(table, household_digest, row, part), sealed
        )
        return None if opened is None else dict(opened)

    def prefetch(self, household_digests: Iterable[str]) -> None:
        """Fetches the row keys of a list's households in one query."""
        self._sealer.prefetch(set(household_digests))

    def open_row(self, spec: SealedTable, raw: Mapping[Any, Any]) -> dict[str, Any] | None:
        """The row as it reads, or None when its household was erased."""
        key = [str(raw[name]) for name in spec.key]
        opened = self.open(spec.table, raw["household"], key, raw[SEALED])
        return None if opened is None else logical(raw, opened, spec.names())

    def read(
        self,
        connection: Connection,
        spec: SealedTable,
        households: Sequence[str] | None = None,
        opener: Opener | None = None,
    ) -> list[dict[str, Any]]:
        """The table's rows about these households (every row for None), opened and sorted by
        `spec.order`; rows of erased households are left out."""
        query = select(spec.table)
        if households is not None:
            query = query.where(spec.table.c.household.in_(self.digests.households(households)))
        raws = [row._mapping for row in connection.execute(query)]
        self.prefetch(raw["household"] for raw in raws)
        found = [(opener or (lambda raw: self.open_row(spec, raw)))(raw) for raw in raws]
        return sorted(
            (row for row in found if row is not None),
            key=lambda row: tuple(str(row[name]) for name in spec.order),
        )


def logical(
    raw: Mapping[Any, Any], opened: Mapping[str, Any], order: Sequence[str]
) -> dict[str, Any]:
    """The row as it reads: its plain columns and its opened parts, in `order` (the columns it
    had before sealing, so answers keep their shape)."""
    merged = {**raw, **opened}
    return {name: merged.get(name) for name in order}


def _where(table: Table, household_digest: str, row: Sequence[str], part: str) -> str:
    return "|".join((table.name, household_digest, *row, part))


class SealedReadModel(PositionedTables):
    """A casework read model whose rows are sealed per household and whose events each apply
    on their own (`_apply`), all of a batch and the position move in one transaction."""

    def __init__(self, engine: Engine, sealer: RowSealer | None = None) -> None:
        super().__init__(engine, sealer)
        self.rows = SealedRows(self.sealer)

    def apply_events(
        self, events: Sequence[tuple[int, Any]], expected: int, new_position: int
    ) -> None:
        with moving_position(self.engine, self.name, expected, new_position, events) as connection:
            for _, event in events:
                self._apply(connection, event)

    def _apply(self, connection: Connection, event: Any) -> None:
        raise NotImplementedError
