"""`radar projector` keeps the read models (and the sealer, the check reminders) up to date;
`radar projections rebuild` makes every read model anew from the event store."""

from __future__ import annotations

import typer

from services import bootstrap, collector, metrics
from services.ledger.store import open_ledger
from services.logs import command_settings
from services.projections.checkpoints import CheckpointError, NoCheckpointError
from services.projections.projector import follow, rebuild
from services.projections.read_model import Checkpointed

projections = typer.Typer(help="Read models (projections).")


def projector() -> None:
    """Keep the read models up to date from the event store."""
    settings = command_settings("projector")
    metrics.serve(settings.host, settings.projector_metrics_port, "projector")
    followers = bootstrap.followers(settings)
    collector.tune_for_throughput()
    follow(followers, bootstrap.stop_on_signals(), settings.projector_idle_seconds)


@projections.command("rebuild")
def rebuild_projections() -> None:
    """Make every read model anew from the whole event store (the timeline into fresh tables,
    swapped in when complete: it keeps answering meanwhile)."""
    settings = command_settings("projections")
    db = bootstrap.database(settings)
    ledger = open_ledger(db)
    models = bootstrap.read_models(db)
    collector.tune_for_throughput()
    for model in models:
        covered = rebuild(ledger, model, settings.projector_batch_events)
        typer.echo(f"rebuilt {model.name} from {covered} events")


@projections.command("checkpoint")
def checkpoint_projections() -> None:
    """Keep a copy of each read model that has checkpoints (the timeline) at its position,
    so that `radar projections recover` replays only the events after it."""
    settings = command_settings("projections")
    for model in bootstrap.read_models(bootstrap.database(settings)):
        if isinstance(model, Checkpointed):
            taken = model.take_checkpoint()
            typer.echo(f"checkpoint of {model.name}: {taken.rows} rows at {taken.position}")


@projections.command("recover")
def recover_projections() -> None:
    """Make every read model anew from its checkpoint and the events after it (from the whole
    event store when it has none); refuses a checkpoint whose rows do not match its digest."""
    settings = command_settings("projections")
    db = bootstrap.database(settings)
    ledger = open_ledger(db)
    batch = settings.projector_batch_events
    for model in bootstrap.read_models(db):
        try:
            if not isinstance(model, Checkpointed):
                raise NoCheckpointError(model.name)
            covered = model.recover(ledger, batch)
            typer.echo(f"recovered {model.name} from its checkpoint and {covered} events after it")
        except NoCheckpointError:
            covered = rebuild(ledger, model, batch)
            typer.echo(f"rebuilt {model.name} from {covered} events (no checkpoint)")
        except CheckpointError as error:
            typer.echo(
                f"{error}; `radar projections rebuild` makes it from the whole log", err=True
            )
            raise typer.Exit(1) from error
