"""Statistical disclosure control for the frequency tables the radar delivers (CBS
beleidsinformatie): no published cell describes fewer than THRESHOLD people or events, and no
suppressed cell can be worked out from what is published.

A table is regions (rows) x categories (columns) with its margins: a row total per region, a
column total per category and the grand total, each a cell like any other (TOTAL names them).
Three rules, in this order:

1. Primary suppression: a cell with 0 < count < threshold is not published. Zero is published:
   it says that nobody was counted, which singles nobody out.
2. Secondary suppression: more cells are suppressed until no suppressed cell is *recoverable*.
3. Random rounding: each published count becomes a multiple of ROUNDING_BASE, up with
   probability (count mod base) / base and down otherwise, so the expected published value is
   the count itself. The draw is made from the seed, the name of what the cell counts and the
   count, so a rerun gives the same file, the same count in two tables is rounded alike, and a
   count that did not change between two deliveries of a table is rounded as before: rounding
   the same count anew in every delivery would let its roundings be averaged back to it.

*Recoverable*, precisely: take the strongest attacker we can state. They know the exact
(unrounded) value of every cell this delivery publishes, the table's relations (each row's
categories add up to its row total when `columns_add_up`; every column's regions add up to its
column total; the row totals add up to the grand total), that counts are whole numbers of zero
or more, and the previous delivery of the same table, whose published cells they take to still
hold (which they do wherever the count did not change). A suppressed cell is recoverable when
just one value of it fits all of that. A cell the previous delivery published with the same
count is public already: no disclosure, but no protection either. Rounding is not counted on
(the attacker is given the exact values), so the guarantee holds whatever the rounding did.

What is checked, and suffices: every suppressed cell with a positive count lies on a cycle of
suppressed cells with positive counts (seen as a graph: a node per row and per column, a cell
the edge between them). Moving one record around that cycle gives another table of whole,
non-negative counts that agrees with everything the attacker knows. A suppressed zero is taken
as known, since non-negativity can pin it down (a published row total of 0), so it never serves
as protection; in the linear algebra, a cell off every such cycle is exactly one the relations
determine once the zeros are known.

Intervals are not part of the promise: two suppressed cells in a row of 12 are each between 0
and 12. That is the protection interval the threshold sets.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from cryptography.hazmat.primitives import hashes

THRESHOLD = 10
"""Cells under 10 are suppressed: CBS's and the Wmo 2015 protocol's usual minimum cell size for
tables about people; the delivery can set another (never below MIN_THRESHOLD)."""

MIN_THRESHOLD = 3
"""A threshold below 3 would publish pairs, in which each member knows the other's record."""

ROUNDING_BASE = 5
"""Published counts are multiples of 5: a change of one record between two deliveries then
shows as a change of 0 or 5, never as the 1 that would single out the late record."""

TOTAL = "total"
"""The name of the margin: the row total of a region, the column total of a category."""

Cell = tuple[str, str]  # (row, column); either may be TOTAL


class CellStatus(StrEnum):
    PUBLISHED = "published"
    PRIMARY = "suppressed_primary"  # under the threshold
    SECONDARY = "suppressed_secondary"  # suppressed so that no primary one can be worked out


@dataclass(frozen=True)
class Table:
    """A two-way frequency table with its margins: `counts` has every (row, column) cell for
    rows + (TOTAL,) and columns + (TOTAL,). `columns_add_up` is False when one event can count
    in several columns (a report naming two forms of violence), so a row's cells need not add
    up to its row total."""

    name: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    counts: Mapping[Cell, int]
    columns_add_up: bool = True
    shared: Mapping[Cell, str] = field(default_factory=dict)
    """Cells that count the same thing as a cell of another table of the delivery, by the name
    of that quantity: published or suppressed alike, rounded alike (privacy/linked_tables.py)."""

    def cells(self) -> list[Cell]:
        return [(r, c) for r in (*self.rows, TOTAL) for c in (*self.columns, TOTAL)]

    def relations(self) -> list[list[Cell]]:
        """Each relation as its cells: the last is the total of the others."""
        relations = []
        if self.columns_add_up:
            relations += [[(r, c) for c in (*self.columns, TOTAL)] for r in (*self.rows, TOTAL)]
        relations += [[(r, c) for r in (*self.rows, TOTAL)] for c in self.columns]
        relations.append([(r, TOTAL) for r in (*self.rows, TOTAL)])
        return relations


@dataclass(frozen=True)
class ProtectedTable:
    """A table after disclosure control: a status per cell, and the rounded value of each
    published one (a suppressed cell has no value)."""

    table: Table
    status: Mapping[Cell, CellStatus]
    published: Mapping[Cell, int] = field(default_factory=dict)


def table_of(
    name: str,
    rows: Iterable[str],
    columns: Iterable[str],
    inner: Mapping[Cell, int],
    row_totals: Mapping[str, int] | None = None,
) -> Table:
    """A table from its inner cells, with the margins added up. `row_totals` (distinct events
    per row) makes a table whose columns need not add up to them."""
    rows_, columns_ = tuple(rows), tuple(columns)
    counts = {(r, c): inner.get((r, c), 0) for r in rows_ for c in columns_}
    for c in columns_:
        counts[TOTAL, c] = sum(counts[r, c] for r in rows_)
    for r in rows_:
        counts[r, TOTAL] = (
            row_totals.get(r, 0) if row_totals is not None else sum(counts[r, c] for c in columns_)
        )
    counts[TOTAL, TOTAL] = sum(counts[r, TOTAL] for r in rows_)
    return Table(name, rows_, columns_, counts, columns_add_up=row_totals is None)


def protect(
    table: Table,
    seed: bytes,
    threshold: int = THRESHOLD,
    previous: Mapping[Cell, int] | None = None,
    forced: Set[Cell] = frozenset(),
) -> ProtectedTable:
    """Applies the three rules. `previous` holds the true counts of the cells the previous
    delivery of this table published (none for a first delivery); `forced` are cells to
    suppress whatever their count (what another table of the delivery suppresses)."""
    if threshold < MIN_THRESHOLD:
        raise ValueError(f"the threshold must be at least {MIN_THRESHOLD}")
    primary = {c for c in table.cells() if 0 < table.counts[c] < threshold}
    known = public_already(table, previous) - primary  # forced or not, they are public
    secondary = set(forced) - primary
    secondary |= secondary_suppression(table, primary | secondary, known) - known
    status = {
        c: CellStatus.PRIMARY
        if c in primary
        else CellStatus.SECONDARY
        if c in secondary
        else CellStatus.PUBLISHED
        for c in table.cells()
    }
    published = {
        c: round_randomly(table.counts[c], draw(seed, f"{quantity(table, c)}={table.counts[c]}"))
        for c, s in status.items()
        if s is CellStatus.PUBLISHED
    }
    return ProtectedTable(table, status, published)


def public_already(table: Table, previous: Mapping[Cell, int] | None) -> set[Cell]:
    """The cells whose count the previous delivery published as it is now."""
    if not previous:
        return set()
    return {c for c, count in previous.items() if table.counts.get(c) == count}


def secondary_suppression(table: Table, primary: set[Cell], known: set[Cell]) -> set[Cell]:
    """The cells to suppress besides `primary` so that none is recoverable.

    Seen as a graph (a node per row and per column, a cell the edge between its row and its
    column), a suppressed cell is safe exactly when it lies on a cycle of cells the attacker
    does not know. So for each exposed cell, the cheapest such cycle through it is completed
    (small counts first, margins last, so totals stay published); `recoverable` then checks
    the result by linear algebra, and the loop repeats until it finds nothing."""
    suppressed = set(primary)
    while exposed := recoverable(table, suppressed, known):
        path = _cheapest_cycle(table, min(exposed), suppressed, known)
        added = [c for c in path if c not in suppressed]
        if not added:  # no cycle avoids the public cells: fall back to the smallest cell left
            left = [c for c in _open(table, suppressed | known) if table.counts[c] > 0]
            if not left:
                raise ValueError(f"{table.name}: {min(exposed)} cannot be protected")
            added = [min(left, key=lambda c: _cost(table, c))]
        suppressed.update(added)
    return suppressed - primary


MARGIN_COST = 10_000
"""Suppressing a total costs more than any inner cell: users read the totals first."""


def _cost(table: Table, cell: Cell) -> tuple[int, Cell]:
    return (1 + table.counts[cell] + (MARGIN_COST if TOTAL in cell else 0), cell)


def _open(table: Table, closed: set[Cell]) -> list[Cell]:
    return [c for c in table.cells() if c not in closed]


def _ends(table: Table, cell: Cell) -> tuple[str, str]:
    """A cell's two nodes; rows without a relation of their own meet in one free node."""
    return ("R:*" if not table.columns_add_up else f"R:{cell[0]}", f"C:{cell[1]}")


def _cheapest_cycle(
    table: Table, target: Cell, suppressed: set[Cell], known: set[Cell]
) -> list[Cell]:
    """The cells of the cheapest path between the target's two nodes, avoiding the target, the
    known cells and the zeros; suppressed cells cost nothing. Empty when there is none."""
    start, goal = _ends(table, target)
    edges: dict[str, list[tuple[str, Cell]]] = {}
    for c in table.cells():
        if c == target or c in known or table.counts[c] == 0:
            continue
        a, b = _ends(table, c)
        edges.setdefault(a, []).append((b, c))
        edges.setdefault(b, []).append((a, c))
    best: dict[str, tuple[int, list[Cell]]] = {start: (0, [])}
    queue: list[tuple[int, str]] = [(0, start)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == goal:
            return best[node][1]
        if cost > best[node][0]:
            continue
        for other, c in edges.get(node, []):
            step = 0 if c in suppressed else _cost(table, c)[0]
            if other not in best or cost + step < best[other][0]:
                best[other] = (cost + step, [*best[node][1], c])
                heapq.heappush(queue, (cost + step, other))
    return []


def recoverable(table: Table, suppressed: Set[Cell], known: Set[Cell] = frozenset()) -> set[Cell]:
    """The suppressed cells with a positive count (not public already) that the table's
    relations determine, given that every other cell, and every zero, is known (see the module
    docstring)."""
    unknown = sorted(c for c in suppressed - known if table.counts[c] > 0)
    return {unknown[i] for i in determined(_coefficients(table, unknown), len(unknown))}


def _coefficients(table: Table, unknown: list[Cell]) -> list[list[Fraction]]:
    """Each relation as coefficients of the unknown cells (the known ones move to the other side
    of the equation and do not matter to what is determined)."""
    index = {c: i for i, c in enumerate(unknown)}
    matrix = []
    for relation in table.relations():
        row = [Fraction(0)] * len(unknown)
        for position, c in enumerate(relation):
            if c in index:
                row[index[c]] = Fraction(-1 if position == len(relation) - 1 else 1)
        if any(row):
            matrix.append(row)
    return matrix


def determined(matrix: list[list[Fraction]], width: int) -> set[int]:
    """The unknowns a linear system fixes: in its reduced row-echelon form, the pivots of rows
    with no other non-zero entry (a unit vector is in the row space only as such a row)."""
    rows = reduced_row_echelon(matrix, width)
    return {pivot for row in rows for pivot in [_pivot(row)] if sum(1 for v in row if v != 0) == 1}


def reduced_row_echelon(matrix: list[list[Fraction]], width: int) -> list[list[Fraction]]:
    """Gauss-Jordan elimination over the rationals (exact: no rounding can hide a relation)."""
    rows = [list(r) for r in matrix]
    pivot_row = 0
    for column in range(width):
        found = next((i for i in range(pivot_row, len(rows)) if rows[i][column] != 0), None)
        if found is None:
            continue
        rows[pivot_row], rows[found] = rows[found], rows[pivot_row]
        lead = rows[pivot_row][column]
        rows[pivot_row] = [v / lead for v in rows[pivot_row]]
        for i, other in enumerate(rows):
            if i != pivot_row and other[column] != 0:
                factor = other[column]
                rows[i] = [a - factor * b for a, b in zip(other, rows[pivot_row], strict=True)]
        pivot_row += 1
    return rows[:pivot_row]


def _pivot(row: list[Fraction]) -> int:
    return next(i for i, v in enumerate(row) if v != 0)


def quantity(table: Table, cell: Cell) -> str:
    """What a cell counts, by name: its shared name, else the table's and its own."""
    return table.shared.get(cell) or f"{table.name}|{cell[0]}|{cell[1]}"


def draw(seed: bytes, name: str) -> Fraction:
    """A number in [0, 1) from the delivery's seed and a quantity's name: the same quantity of
    the same delivery always draws the same (so it is rounded alike in every table: two
    roundings of one count would narrow it down), and no two quantities' draws are related."""
    digest = hashes.Hash(hashes.SHA256())
    for part in (seed, name.encode()):
        digest.update(len(part).to_bytes(4, "big") + part)
    return Fraction(int.from_bytes(digest.finalize()[:8], "big"), 2**64)


def round_randomly(count: int, u: Fraction, base: int = ROUNDING_BASE) -> int:
    """`count` to a multiple of `base`: up with probability (count mod base) / base, so that
    the expected result is `count` (unbiased); a multiple of base stays as it is."""
    remainder = count % base
    down = count - remainder
    return down + base if remainder and u < Fraction(remainder, base) else down
