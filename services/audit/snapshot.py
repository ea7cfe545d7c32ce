"""What a replayed database shows: the timelines and every other read model's rows, for one
household, one region or everything, optionally as an analyst with a purpose would have seen it.

Other rooms' read models are read generically (every table of the scratch database, filtered on
a `household` or `region` column), so new read models appear in audit reports without changes
here. A read model whose rows hold lookup digests and sealed parts (issue 24 item 5) shows its
own rows, opened (`OpenedRows`): read raw, they would name nobody.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Engine, MetaData, Table, select

from privacy.disclosure import disclose
from privacy.policy import Obligations
from privacy.restriction import withholds
from privacy.storage.sealed_rows import row_subject_keys
from privacy.withholding import withhold
from services.projections.positions import formats, positions
from services.projections.read_model import ReadModel
from services.timelines.store import TimelineStore, person_memberships, timeline_signals

# Shown otherwise (the timelines and their memberships, opened) or not at all (positions,
# formats, the replay's own row keys).
BOOKKEEPING_TABLES = frozenset(
    {
        timeline_signals.name,
        person_memberships.name,
        positions.name,
        formats.name,
        row_subject_keys.name,
    }
)


@runtime_checkable
class OpenedRows(Protocol):
    """A read model that shows its own rows as they read, by table name."""

    def rows_about(self, households: Sequence[str] | None) -> dict[str, list[dict[str, Any]]]:
        """The rows about these households (every row for None); a table about no household
        appears only in every row."""
        ...


@dataclass(frozen=True)
class Selection:
    """Which households an audit report covers: one, those of one region, or all."""

    household: str | None = None
    region: str | None = None

    def describe(self) -> str:
        if self.household:
            return f"household {self.household}"
        if self.region:
            return f"region {self.region}"
        return "all households"


def timelines(
    store: TimelineStore,
    selection: Selection,
    view: Obligations | None,
    restricted: frozenset[str] | None = None,
) -> list[dict[str, Any]]:
    """The selected households' timelines; with `view`, reduced as that purpose disclosed them
    (the signals beyond it counted only under its withheld rule), the signals of the
    `restricted` households and persons (then) withheld and counted, as the query API withheld
    them (a restricted household's own timeline was refused: all withheld)."""
    households = _households(store, selection)
    found = []
    for household in households:
        records = store.household_records(household)
        timeline: dict[str, Any] = {"household": household}
        if restricted:
            kept = [] if household in restricted else records
            kept = [r for r in kept if not withholds(restricted, r)]
            if len(kept) < len(records):
                timeline["withheld"] = len(records) - len(kept)
            records = kept
        if view is not None:  # as the purpose's withheld rule told of the rest
            split = withhold(view, records)
            records = disclose(view, split.shown)
            if split.count is not None:
                timeline["withheld_by_purpose"] = split.count
        timeline["region"] = store.household_region(household)
        timeline["signals"] = records
        found.append(timeline)
    return found


def _households(store: TimelineStore, selection: Selection) -> list[str]:
    if selection.household:
        return [selection.household]
    regions = store.latest_regions()
    return sorted(h for h, region in regions.items() if region == (selection.region or region))


def memberships(
    store: TimelineStore, selection: Selection, households: Iterable[str]
) -> list[dict[str, Any]]:
    """The memberships at the selected households (all of them unfiltered) as the rows they
    were (person, household, since, until): the table holds only digests and sealed values."""
    wanted = None if not (selection.household or selection.region) else set(households)
    return [
        {key: _plain(value) for key, value in asdict(m).items()}
        for m in store.all_memberships()
        if wanted is None or m.household in wanted
    ]


def other_read_models(
    engine: Engine,
    selection: Selection,
    households: Iterable[str],
    models: Sequence[ReadModel] = (),
) -> dict[str, Any]:
    """Rows of every other table in the replayed database, filtered to the selection.

    A table with a `household` column keeps the selected households' rows; otherwise one with a
    `region` column keeps the region's rows; a table with neither is only shown unfiltered.
    The tables of `models` that open their own rows are shown as those models read them.
    """
    wanted = set(households)
    filtered = bool(selection.household or selection.region)
    found: dict[str, Any] = {}
    for model in models:
        if isinstance(model, OpenedRows):
            for name, rows in model.rows_about(sorted(wanted) if filtered else None).items():
                found[str(name)] = [{str(k): _plain(v) for k, v in row.items()} for row in rows]
    reflected = MetaData()
    reflected.reflect(engine)
    for name, table in reflected.tables.items():
        if name in BOOKKEEPING_TABLES or name in found or _opened_by(models, name):
            continue
        reflected_rows = _rows(engine, table, selection, wanted)
        if reflected_rows is not None:
            found[name] = reflected_rows
    return dict(sorted(found.items()))


def _opened_by(models: Sequence[ReadModel], name: str) -> bool:
    """Whether a model that opens its own rows owns the table (left out of a filtered
    report when it is about no household)."""
    return any(
        isinstance(m, OpenedRows) and name in getattr(m, "tables", MetaData()).tables
        for m in models
    )


def _rows(
    engine: Engine, table: Table, selection: Selection, households: set[str]
) -> list[dict[str, Any]] | None:
    query = select(table)
    filtered = selection.household or selection.region
    if filtered and "household" in table.c:
        query = query.where(table.c.household.in_(sorted(households)))
    elif selection.region and "region" in table.c:
        query = query.where(table.c.region == selection.region)
    elif filtered:
        return None
    with engine.connect() as connection:
        return [
            {str(k): _plain(v) for k, v in row._mapping.items()}
            for row in connection.execute(query)
        ]


def _plain(value: Any) -> Any:
    """JSON-ready values; SQLite hands back naive datetimes, stored as UTC."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return value


def read_model_snapshot(
    models: Sequence[ReadModel],
    engine: Engine,
    selection: Selection,
    view: Obligations | None,
    restricted: frozenset[str] | None = None,
) -> dict[str, Any]:
    """Everything the replayed read models hold for the selection; the timelines as `view`
    showed them, `restricted` withheld (see `timelines`)."""
    store = next((m for m in models if isinstance(m, TimelineStore)), None)
    if store is None:
        return {"households": [], "read_models": other_read_models(engine, selection, [], models)}
    households = timelines(store, selection, view, restricted)
    selected = [h["household"] for h in households]
    # a read model's `household` column holds the household's digest; the pseudonym matches
    # the rows of one that keeps it as it is
    wanted = selected + store.digests.households(selected)
    others = other_read_models(engine, selection, wanted, models)
    others[str(person_memberships.name)] = memberships(store, selection, selected)  # str: JSON
    return {"households": households, "read_models": dict(sorted(others.items()))}
