"""The column layout of the CBS file, its JSON Schema, and the self-check report beside it.

One row per cell, long format (CSV, UTF-8, comma-separated, a header line):

| column   | what it holds |
| -------- | ------------- |
| period   | the half-year, e.g. 2026H2 |
| delivery | 1 for the first delivery of the period, 2 for a redelivery, ... |
| table    | contacts; {advice_request,report}_by_{form_of_violence,sector};          |
|          | report_by_follow_up; investigations (closed in the period, by outcome)   |
| region   | VT01..VT26, or `total` for all regions |
| category | the table's column (a kind, form of violence, reporter, decision, outcome) or `total` |

In the `*_by_sector` tables the category is the reporter's role (sector): who reported to Veilig
Thuis (signal.v2's `reported_by`: a sector, or `self`, `relative`, `neighbour_or_acquaintance`,
`anonymous`, `other_citizen`, `other_professional`), `not_known` when the signal did not say. The
JSON Schema lists each table's categories (`x-tables`) and what each reporter is (`x-reporters`).
| status   | published, suppressed_primary (under the threshold), suppressed_secondary |
| count    | the count rounded to a multiple of 5; empty when suppressed |

Rows come in the order of the tables, then regions, then categories, as the layout lists them,
whatever the data: two deliveries line up row by row.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.signal_types_v2 import vocabulary_extensions
from privacy.statistical_disclosure import ROUNDING_BASE, TOTAL, CellStatus, ProtectedTable
from radar.cbs_tables import NOT_KNOWN, NOT_NAMED, cbs_tables
from radar.periods import Period
from radar.statistics_history import StatisticsHistory

COLUMNS = ("period", "delivery", "table", "region", "category", "status", "count")


class CbsRow(BaseModel):
    """One cell of the beleidsinformatie file."""

    model_config = ConfigDict(extra="forbid", title="Beleidsinformatie Veilig Thuis: one cell")

    period: str = Field(pattern=r"^\d{4}H[12]$", description="The half-year.")
    delivery: int = Field(ge=1, description="1 for the first delivery of the period.")
    table: str = Field(pattern=r"^[a-z_]+$", description="The table the cell belongs to.")
    region: str = Field(pattern=r"^(VT(0[1-9]|1[0-9]|2[0-6])|total)$")
    category: str = Field(pattern=r"^[a-z_]+$", description="The table's column, or total.")
    status: Literal["published", "suppressed_primary", "suppressed_secondary"]
    count: int | None = Field(
        default=None,
        ge=0,
        multiple_of=ROUNDING_BASE,
        description="Rounded to a multiple of 5; null (an empty field) when suppressed.",
    )


def json_schema() -> dict[str, Any]:
    """A row's JSON Schema, with every table's categories (the layout, the same for any data
    and period: read off the tables of an empty history) and the meaning of each reporter."""
    tables = cbs_tables(StatisticsHistory(), Period.parse("2026H2"))
    reporters = vocabulary_extensions()["x-reporters"] | {
        NOT_KNOWN: {"dutch": "Onbekend", "meaning": "The signal did not say who reported."}
    }
    return CbsRow.model_json_schema() | {
        "x-tables": {t.name: list(t.columns) for t in tables},
        "x-reporters": reporters,
    }


def rows(period: str, delivery: int, protected: list[ProtectedTable]) -> list[CbsRow]:
    return [
        CbsRow(
            period=period,
            delivery=delivery,
            table=result.table.name,
            region=cell[0],
            category=cell[1],
            status=result.status[cell],
            count=result.published.get(cell),
        )
        for result in protected
        for cell in result.table.cells()
    ]


def csv_bytes(found: list[CbsRow]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in found:
        values = row.model_dump()
        writer.writerow(["" if values[c] is None else values[c] for c in COLUMNS])
    return out.getvalue().encode()


def read_statuses(content: str) -> dict[str, dict[tuple[str, str], str]]:
    """table -> cell -> status, from a delivered file (for the next delivery's differencing)."""
    found: dict[str, dict[tuple[str, str], str]] = {}
    for line in csv.DictReader(io.StringIO(content)):
        found.setdefault(line["table"], {})[line["region"], line["category"]] = line["status"]
    return found


def self_check(
    found: list[CbsRow], protected: list[ProtectedTable], threshold: int
) -> dict[str, Any]:
    """What CBS returns to each organisation about its delivery, made before it leaves: how
    full each field is, and whether the fields agree with each other."""
    dumped = [r.model_dump() for r in found]
    fill = {c: round(sum(1 for r in dumped if r[c] is not None) / len(dumped), 4) for c in COLUMNS}
    shared: dict[str, set[int | None]] = {}
    for result in protected:
        for cell, name in result.table.shared.items():
            shared.setdefault(name, set()).add(result.published.get(cell))
    checks = {
        "published counts are multiples of 5": all(
            r.count is None or r.count % ROUNDING_BASE == 0 for r in found
        ),
        "a count is given exactly when the cell is published": all(
            (r.count is not None) == (r.status == str(CellStatus.PUBLISHED)) for r in found
        ),
        f"no published cell counts 1 to {threshold - 1}": all(
            result.table.counts[c] == 0 or result.table.counts[c] >= threshold
            for result in protected
            for c, s in result.status.items()
            if s is CellStatus.PUBLISHED
        ),
        "a count shown in two tables is the same in both (or suppressed in both)": all(
            len(values) == 1 for values in shared.values()
        ),
        "within a table the published cells add up to the published total within rounding": all(
            _adds_up(result) for result in protected
        ),
    }
    return {
        "rows": len(found),
        "fill_rate": fill,
        "forms_of_violence_named": _forms_named(protected),
        "tables": {
            result.table.name: {
                str(s): sum(1 for v in result.status.values() if v is s) for s in CellStatus
            }
            for result in protected
        },
        "checks": [{"check": name, "passed": passed} for name, passed in checks.items()],
        "passed": all(checks.values()),
    }


def _forms_named(protected: list[ProtectedTable]) -> dict[str, float | None]:
    """Per kind, the share of contacts that named a form of violence, from the published
    national counts only (so the report says nothing the file does not): None when either
    is suppressed."""
    shares: dict[str, float | None] = {}
    for result in protected:
        if result.table.name.endswith("_by_form_of_violence"):
            total = result.published.get((TOTAL, TOTAL))
            unnamed = result.published.get((TOTAL, NOT_NAMED))
            share = None
            if total and unnamed is not None:
                share = round(1 - unnamed / total, 2)
            shares[result.table.name.partition("_by_")[0]] = share
    return shares


def _adds_up(result: ProtectedTable) -> bool:
    """Each relation whose cells are all published: the rounded parts and the rounded total
    differ by less than the base for every cell (each moved less than the base)."""
    for relation in result.table.relations():
        if all(c in result.published for c in relation):
            parts = sum(result.published[c] for c in relation[:-1])
            if abs(parts - result.published[relation[-1]]) >= ROUNDING_BASE * len(relation):
                return False
    return True
