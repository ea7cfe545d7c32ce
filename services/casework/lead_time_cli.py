"""`radar lead-times ...`: the per-region lead-time table over any period, and the reminders for
reports without a decision on their working day 3."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from services.casework.lead_time_routes import MAX_PERIOD_DAYS, lead_times_for
from services.casework.lead_time_store import LeadTimeStore
from services.casework.lead_time_views import LeadTimeTableView, NormView
from services.casework.reminders import remind_due_reports
from services.database import Database
from services.ledger.store import open_ledger
from services.settings import Settings

lead_times_cli = typer.Typer(help="Lead times: the norms per region, and reminders for reports.")

Day = Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="A date (YYYY-MM-DD).")]
Moment = Annotated[
    datetime | None, typer.Option(help="As of this moment (ISO 8601, UTC if no offset).")
]


def _moment(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _store() -> LeadTimeStore:
    db = Database.of(Settings())
    with db.schema_lock():
        engine = db.engine()
        return LeadTimeStore(engine, db.row_sealer(engine))


def _cell(norm: NormView) -> str:
    share = "-" if norm.share is None else f"{float(norm.share):.1%}"
    met = {None: "", True: " met", False: " NOT met"}[norm.met]
    return f"{share} ({norm.in_time} in time, {norm.late} late, {norm.pending} pending){met}"


def _print(table: LeadTimeTableView) -> None:
    typer.echo(f"reports dated {table.first} to {table.last}, as of {table.as_of}")
    typer.echo(
        "region  reports  decided <= 5 working days (norm 90%)  closed <= 10 weeks (norm 80%)"
    )
    for row in table.regions:
        cells = f"{_cell(row.decisions)}  {_cell(row.investigations)}"
        typer.echo(f"{row.region:<6}  {row.reports:>7}  {cells}")
    for name, definition in table.definitions.items():
        typer.echo(f"{name}: {definition}")


@lead_times_cli.command("table")
def table(
    first: Annotated[
        datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First report date.")
    ],
    last: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last report date.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="The API's JSON instead of text.")
    ] = False,
    at: Moment = None,
) -> None:
    """Per region, the reports dated in the period and both norms, read from the lead-time read
    model (rebuilt from the event store by `radar projections rebuild`)."""
    if last < first or (last - first).days > MAX_PERIOD_DAYS:
        raise typer.BadParameter(f"--to must be on or after --from, at most {MAX_PERIOD_DAYS} days")
    store = _store()
    try:
        found = lead_times_for(store, first.date(), last.date(), _moment(at))
    finally:
        store.engine.dispose()
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
    else:
        _print(found)


@lead_times_cli.command("remind")
def remind(at: Moment = None) -> None:
    """Raise the decision-due alerts of reports without a decision on their working day 3."""
    db = Database.of(Settings())
    with db.schema_lock():
        engine = db.engine()
        ledger, store = open_ledger(db), LeadTimeStore(engine, db.row_sealer(engine))
    raised = remind_due_reports(ledger, store, _moment(at))
    typer.echo(f"{raised} reminders raised")
