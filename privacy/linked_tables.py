"""Disclosure control for the tables of one delivery together: a count that appears in two
tables (the reports of a region: in the table of contacts and as the row total of the reports by
sector) is one quantity. Protecting each table alone would let one table publish what another
suppressed and relied on; so a shared quantity any table suppresses is suppressed in all of
them, and each table is protected again with it, until no table suppresses more.

Then every shared quantity is published in all its tables or in none, so what the attacker
learns from the other tables is exactly what each table publishes itself, and each table's own
protection holds against all of them. The loop ends: the suppressed shared quantities only
grow, and they are finitely many.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from privacy.statistical_disclosure import (
    THRESHOLD,
    CellStatus,
    ProtectedTable,
    Table,
    protect,
)


def protect_all(
    tables: Sequence[Table],
    seed: bytes,
    threshold: int = THRESHOLD,
    previous: Mapping[str, Mapping[tuple[str, str], int]] | None = None,
) -> list[ProtectedTable]:
    """Each table protected (statistical_disclosure.protect), with its shared quantities
    published or suppressed alike in all tables. `previous`: per table name, the true counts
    of the cells its previous delivery published."""
    previous = previous or {}
    hidden: set[str] = set()
    while True:
        protected = [
            protect(
                table,
                seed,
                threshold,
                previous.get(table.name),
                {c for c, name in table.shared.items() if name in hidden},
            )
            for table in tables
        ]
        suppressed = {
            name
            for result in protected
            for c, name in result.table.shared.items()
            if result.status[c] is not CellStatus.PUBLISHED
        }
        if suppressed <= hidden:
            return protected
        hidden |= suppressed
