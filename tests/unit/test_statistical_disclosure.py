"""Properties of disclosure control (hypothesis): no published cell is under the threshold; no
suppressed cell can be worked out from the published cells and totals, nor with the previous
delivery of the table; rounding is unbiased and the same for the same seed.

"Cannot be worked out" is checked independently of the module's own linear algebra: for every
suppressed cell we build another table that agrees with every relation and every cell the
attacker knows, and differs in that cell."""

from __future__ import annotations

from collections import deque
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.statistical_disclosure import (
    ROUNDING_BASE,
    THRESHOLD,
    TOTAL,
    Cell,
    CellStatus,
    ProtectedTable,
    Table,
    draw,
    protect,
    public_already,
    round_randomly,
    table_of,
)

ROWS = ("VT01", "VT02", "VT03")
COUNTS = st.sampled_from([0, 0, 1, 2, 4, 7, 9, 10, 11, 15, 23, 60])


@st.composite
def tables(draw_: st.DrawFn) -> Table:
    rows = [f"VT{i:02}" for i in range(1, draw_(st.integers(1, 6)) + 1)]
    columns = [f"c{j}" for j in range(draw_(st.integers(1, 5)))]
    inner = {(r, c): draw_(COUNTS) for r in rows for c in columns}
    if draw_(st.booleans()):
        return table_of("t", rows, columns, inner)
    # one event in several columns: a row total at least its largest cell
    totals = {r: max((inner[r, c] for c in columns), default=0) + draw_(COUNTS) for r in rows}
    return table_of("t", rows, columns, inner, row_totals=totals)


def suppressed(protected: ProtectedTable) -> set[Cell]:
    return {c for c, s in protected.status.items() if s is not CellStatus.PUBLISHED}


def holds(table: Table, counts: dict[Cell, int]) -> bool:
    return all(sum(counts[c] for c in rel[:-1]) == counts[rel[-1]] for rel in table.relations())


def alternative(table: Table, unknown: set[Cell], cell: Cell) -> dict[Cell, int] | None:
    """Another table of non-negative counts agreeing on every relation and known cell,
    different in `cell`: one record moved around a cycle of unknown positive cells through it
    (the margins enter a relation with the opposite sign). None when there is no such cycle."""
    free_rows = not table.columns_add_up  # no row relations: one unconstrained row node

    def node_of_row(row: str) -> str:
        return "R:free" if free_rows else f"R:{row}"

    # a zero cannot give up a record: non-negativity pins it down, so it is no detour
    edges = {c: (node_of_row(c[0]), f"C:{c[1]}") for c in unknown if table.counts[c] > 0}
    start, goal = edges[cell]
    paths: dict[str, list[Cell]] = {start: []}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for c, (a, b) in edges.items():
            if c == cell or node not in (a, b):
                continue
            other = b if node == a else a
            if other not in paths:
                paths[other] = [*paths[node], c]
                queue.append(other)
    if goal not in paths:
        return None
    counts = dict(table.counts)
    for step, c in enumerate([cell, *reversed(paths[goal])]):
        sign = 1 if step % 2 == 0 else -1
        margin = (c[0] == TOTAL) != (c[1] == TOTAL)
        counts[c] += -sign if margin else sign
    return counts


@settings(max_examples=300, deadline=None)
@given(tables(), st.binary(min_size=1, max_size=8))
def test_no_published_cell_is_under_the_threshold(table: Table, seed: bytes) -> None:
    protected = protect(table, seed)
    for cell, status in protected.status.items():
        if status is CellStatus.PUBLISHED:
            assert table.counts[cell] == 0 or table.counts[cell] >= THRESHOLD


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_suppressed_cell_is_recoverable_from_the_totals(table: Table) -> None:
    protected = protect(table, b"seed")
    unknown = suppressed(protected)
    for cell in unknown - {c for c in unknown if table.counts[c] == 0}:
        other = alternative(table, unknown, cell)
        assert other is not None, f"{cell} is determined by the published cells"
        assert holds(table, other) and other[cell] != table.counts[cell]
        assert min(other.values()) >= 0
        assert all(other[c] == table.counts[c] for c in table.cells() if c not in unknown)


@settings(max_examples=200, deadline=None)
@given(tables(), st.data())
def test_no_suppressed_cell_is_recoverable_with_the_previous_delivery(
    table: Table, data: st.DataObject
) -> None:
    # the previous delivery: the same table before some records arrived
    earlier = {
        c: max(0, v - data.draw(st.sampled_from([0, 0, 0, 1, 3]))) for c, v in table.counts.items()
    }
    before = table_of(
        table.name,
        table.rows,
        table.columns,
        {(r, c): earlier[r, c] for r in table.rows for c in table.columns},
        None if table.columns_add_up else {r: earlier[r, TOTAL] for r in table.rows},
    )
    first = protect(before, b"one")
    was_published = {
        c: before.counts[c] for c, s in first.status.items() if s is CellStatus.PUBLISHED
    }
    second = protect(table, b"two", previous=was_published)
    known = public_already(table, was_published)
    unknown = suppressed(second) - known
    for cell in {c for c in unknown if table.counts[c] > 0}:
        other = alternative(table, unknown, cell)
        assert other is not None, f"{cell} is determined with the previous delivery"
        assert holds(table, other)


@given(st.integers(0, 10_000))
def test_rounding_is_unbiased_in_expectation(count: int) -> None:
    # u is uniform on [0, 1): the expectation is exact over the base's equal sub-intervals
    steps = [Fraction(2 * k + 1, 2 * 1000) for k in range(1000)]
    mean = sum(Fraction(round_randomly(count, u)) for u in steps) / len(steps)
    assert mean == count
    assert all(round_randomly(count, u) % ROUNDING_BASE == 0 for u in steps[::97])
    assert all(abs(round_randomly(count, u) - count) < ROUNDING_BASE for u in steps[::97])


def test_the_draws_of_a_delivery_are_uniform() -> None:
    draws = [draw(b"2026H2:1", f"t|r{i}|c") for i in range(4000)]
    for lower in (Fraction(0), Fraction(1, 4), Fraction(1, 2), Fraction(3, 4)):
        share = sum(1 for u in draws if lower <= u < lower + Fraction(1, 4)) / len(draws)
        assert abs(share - 0.25) < 0.03
    mean_of_rounded = sum(round_randomly(13, u) for u in draws) / len(draws)
    assert abs(mean_of_rounded - 13) < 0.2


@settings(max_examples=100, deadline=None)
@given(tables(), st.binary(min_size=1, max_size=8))
def test_the_same_seed_gives_the_same_table(table: Table, seed: bytes) -> None:
    assert protect(table, seed) == protect(table, seed)


def test_one_small_cell_costs_a_rectangle_of_small_cells() -> None:
    inner = {(r, c): 20 + i for i, (r, c) in enumerate((r, c) for r in ROWS for c in "abc")}
    table = table_of("t", ROWS, "abc", {**inner, ("VT01", "a"): 5})
    protected = protect(table, b"s")
    assert suppressed(protected) == {("VT01", "a"), ("VT01", "b"), ("VT02", "a"), ("VT02", "b")}
    assert protected.published["total", "total"] % ROUNDING_BASE == 0


def test_cells_the_previous_delivery_published_unchanged_protect_nothing() -> None:
    # Before, VT01/a was 0 and everything was published; now it is 5. The inner cells are
    # unchanged, so the attacker knows them: only the totals that changed with it can hide it.
    inner = {(r, c): 20 + i for i, (r, c) in enumerate((r, c) for r in ROWS for c in "abc")}
    before = table_of("t", ROWS, "abc", {**inner, ("VT01", "a"): 0})
    first = protect(before, b"one")
    assert set(first.status.values()) == {CellStatus.PUBLISHED}
    now = table_of("t", ROWS, "abc", {**inner, ("VT01", "a"): 5})
    second = protect(now, b"two", previous=dict(before.counts))
    assert suppressed(second) == {("VT01", "a"), ("VT01", TOTAL), ("total", "a"), (TOTAL, TOTAL)}


def test_zeros_never_hide_a_small_cell() -> None:
    # VT02 has no contacts: its published total of 0 says each of its cells is 0, so
    # suppressing them would hide nothing; the partners come from VT03
    inner = {("VT01", "a"): 4, ("VT01", "b"): 12, ("VT03", "a"): 20, ("VT03", "b"): 30}
    protected = protect(table_of("t", ROWS, "ab", inner), b"s")
    assert suppressed(protected) == {("VT01", "a"), ("VT01", "b"), ("VT03", "a"), ("VT03", "b")}
    assert protected.published["VT02", TOTAL] == 0
