"""The `radar` command line: every slice's commands under one root, and the two that belong to
no slice: `run` (the whole system) and `query` (the query API, served from several slices)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from typer.core import TyperGroup

from contracts.export import write_all
from privacy.registers import MalformedFileError
from services import bootstrap
from services.admin.cli import admin
from services.audit.cli import audit_cli
from services.casework.cli import model_cli, safety_cli
from services.ledger.cli import aggregator
from services.logs import command_settings
from services.projections.cli import projections, projector
from services.retention.cli import retention_cli
from services.rights.cli import export_cli, inzage
from services.settings import Settings
from services.signals.cli import ingest, publish
from services.supervisor import supervise


class _RadarCommands(TyperGroup):
    """Every command, with one answer to a malformed register or policy file: the line naming
    the file and the field, exit status 2, no traceback (at a command or at a service's start)."""

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except MalformedFileError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(2) from None


# No local variables in tracebacks: `radar inzage` holds a BSN, other commands hold tokens.
app = typer.Typer(
    help="Signal radar: pseudonymised signals, one radar for Veilig Thuis.",
    pretty_exceptions_show_locals=False,
    cls=_RadarCommands,
)
contracts = typer.Typer(help="Event contracts.")
app.command()(ingest)
app.command()(publish)
app.command()(aggregator)
app.command()(projector)
app.add_typer(admin, name="admin")
app.add_typer(projections, name="projections")
app.add_typer(audit_cli, name="audit")
app.add_typer(model_cli, name="model")
app.add_typer(safety_cli, name="safety")
app.add_typer(contracts, name="contracts")
app.add_typer(retention_cli, name="retention")
app.command()(inzage)
app.add_typer(export_cli, name="export")


@app.command()
def run(
    broker_script: Annotated[
        Path | None, typer.Option(help="Script that starts/stops a local Kafka broker.")
    ] = None,
) -> None:
    """Start the whole system: aggregator, projector, ingest API and query API."""
    raise typer.Exit(supervise(Settings(), broker_script))


@app.command()
def query() -> None:
    """Serve the query API."""
    settings = command_settings("query")
    uvicorn.run(
        bootstrap.query_app(settings),
        host=settings.host,
        port=settings.query_port,
        log_config=None,
        access_log=False,  # services.logs.RequestLines writes the request lines, masked
    )


@contracts.command("export")
def export_contracts() -> None:
    """Regenerate the JSON Schema and AsyncAPI files from the contract models."""
    for path in write_all():
        typer.echo(str(path))


if __name__ == "__main__":
    app()
