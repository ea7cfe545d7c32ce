"""Properties of the tables of one delivery together (hypothesis): a count two tables share is
published or suppressed alike and rounded alike, and no suppressed cell of any table can be
worked out when the attacker also knows everything the other tables publish."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.linked_tables import protect_all
from privacy.statistical_disclosure import TOTAL, CellStatus, ProtectedTable, Table, table_of
from tests.unit.test_statistical_disclosure import COUNTS, alternative, holds, suppressed


@st.composite
def deliveries(draw: st.DrawFn) -> list[Table]:
    rows = [f"VT{i:02}" for i in range(1, draw(st.integers(1, 5)) + 1)]
    sectors = [f"s{j}" for j in range(draw(st.integers(1, 4)))]
    by_sector = {(r, s): draw(COUNTS) for r in rows for s in sectors}
    reports = table_of("report_by_sector", rows, sectors, by_sector)
    contacts = table_of(
        "contacts",
        rows,
        ["advice_request", "report"],
        {
            **{(r, "advice_request"): draw(COUNTS) for r in rows},
            **{(r, "report"): reports.counts[r, TOTAL] for r in rows},
        },
    )
    names = {r: f"report@{r}" for r in (*rows, TOTAL)}
    return [
        replace(contacts, shared={(r, "report"): n for r, n in names.items()}),
        replace(reports, shared={(r, TOTAL): n for r, n in names.items()}),
    ]


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
