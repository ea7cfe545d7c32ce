"""Properties of the tables of one delivery together (hypothesis): a count two tables share is
published or suppressed alike and rounded alike, and no suppressed cell of any table can be
worked out when the attacker also knows everything the other tables publish."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.linked_tables import protect_all
from privacy.statistical_disclosure import (
    TOTAL,
    Cell,
    CellStatus,
    ProtectedTable,
    Table,
    public_already,
    table_of,
)
from tests.unit.test_statistical_disclosure import COUNTS, alternative, holds, suppressed


def delivery(
    rows: list[str], sectors: list[str], by_sector: dict[Cell, int], advice: dict[str, int]
) -> list[Table]:
    """The table of contacts and the reports by sector, their report counts shared."""
    reports = table_of("report_by_sector", rows, sectors, by_sector)
    contacts = table_of(
        "contacts",
        rows,
        ["advice_request", "report"],
        {
            **{(r, "advice_request"): advice[r] for r in rows},
            **{(r, "report"): reports.counts[r, TOTAL] for r in rows},
        },
    )
    names = {r: f"report@{r}" for r in (*rows, TOTAL)}
    return [
        replace(contacts, shared={(r, "report"): n for r, n in names.items()}),
        replace(reports, shared={(r, TOTAL): n for r, n in names.items()}),
    ]


@st.composite
def deliveries(draw: st.DrawFn) -> list[Table]:
    rows = [f"VT{i:02}" for i in range(1, draw(st.integers(1, 5)) + 1)]
    sectors = [f"s{j}" for j in range(draw(st.integers(1, 4)))]
    by_sector = {(r, s): draw(COUNTS) for r in rows for s in sectors}
    return delivery(rows, sectors, by_sector, {r: draw(COUNTS) for r in rows})


def published_names(protected: ProtectedTable) -> dict[str, int]:
    return {
        name: protected.published[c]
        for c, name in protected.table.shared.items()
        if protected.status[c] is CellStatus.PUBLISHED
    }


@settings(max_examples=200, deadline=None)
@given(deliveries(), st.binary(min_size=1, max_size=4))
def test_shared_counts_are_published_alike_and_protect_each_other(
    tables: list[Table], seed: bytes
) -> None:
    protected = protect_all(tables, seed)
    first, second = (published_names(p) for p in protected)
    assert first == second, "a shared count published in one table only, or rounded twice"
    for result in protected:
        unknown = suppressed(result)
        for cell in {c for c in unknown if result.table.counts[c] > 0}:
            other = alternative(result.table, unknown, cell)
            assert other is not None, f"{result.table.name} {cell} is determined"
            assert holds(result.table, other)


@settings(max_examples=150, deadline=None)
@given(deliveries(), st.data())
def test_together_with_the_previous_delivery_nothing_is_recoverable(
    tables: list[Table], data: st.DataObject
) -> None:
    contacts, reports = tables
    rows, sectors = list(reports.rows), list(reports.columns)

    def fewer(count: int) -> int:
        return max(0, count - data.draw(st.sampled_from([0, 0, 1, 4])))

    earlier = delivery(
        rows,
        sectors,
        {(r, s): fewer(reports.counts[r, s]) for r in rows for s in sectors},
        {r: fewer(contacts.counts[r, "advice_request"]) for r in rows},
    )
    previous = {
        p.table.name: {c: p.table.counts[c] for c in p.published}
        for p in protect_all(earlier, b"one")
    }
    for result in protect_all(tables, b"two", previous=previous):
        known = public_already(result.table, previous[result.table.name])
        unknown = suppressed(result) - known
        for cell in {c for c in unknown if result.table.counts[c] > 0}:
            other = alternative(result.table, unknown, cell)
            assert other is not None, f"{result.table.name} {cell} is determined"
            assert holds(result.table, other)
