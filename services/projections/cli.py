"""`radar projector` keeps the read models (and the sealer, the check reminders) up to date;
`radar projections rebuild` makes every read model anew from the event store."""

from __future__ import annotations

import typer

from services import bootstrap, metrics
from services.ledger.store import open_ledger
from services.logs import command_settings
from services.projections.projector import follow, rebuild

projections = typer.Typer(help="Read models (projections).")


def projector() -> None:
    """Keep the read models up to date from the event store."""
    settings = command_settings("projector")
    metrics.serve(settings.host, settings.projector_metrics_port, "projector")
    follow(
        bootstrap.followers(settings), bootstrap.stop_on_signals(), settings.projector_idle_seconds
    )


@projections.command("rebuild")
def rebuild_projections() -> None:
    """Empty every read model and replay the whole event store into it."""
    settings = command_settings("projections")
    db = bootstrap.database(settings)
    ledger = open_ledger(db)
    for model in bootstrap.read_models(db):
        covered = rebuild(ledger, model, settings.projector_batch_events)
        typer.echo(f"rebuilt {model.name} from {covered} events")
