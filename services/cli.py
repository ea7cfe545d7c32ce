"""The `radar` command line: run the processes, rebuild projections, administer credentials."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import orjson
import typer
import uvicorn

from contracts.export import write_all
from publisher_sdk.client import PublisherClient
from services import bootstrap
from services.admin.cli import admin
from services.audit.cli import audit_cli
from services.casework.cli import model_cli, safety_cli
from services.ledger.store import open_ledger
from services.logs import configure_logging
from services.projections.projector import follow, rebuild
from services.retention.cli import retention_cli
from services.rights.cli import inzage
from services.rights.export_cli import export_cli
from services.settings import Settings
from services.supervisor import supervise

# No local variables in tracebacks: `radar inzage` holds a BSN, other commands hold tokens.
app = typer.Typer(
    help="Signal radar: pseudonymised signals, one radar for Veilig Thuis.",
    pretty_exceptions_show_locals=False,
)
projections = typer.Typer(help="Read models (projections).")
contracts = typer.Typer(help="Event contracts.")
app.add_typer(admin, name="admin")
app.add_typer(projections, name="projections")
app.add_typer(audit_cli, name="audit")
app.add_typer(model_cli, name="model")
app.add_typer(safety_cli, name="safety")
app.add_typer(contracts, name="contracts")
app.add_typer(retention_cli, name="retention")
app.command()(inzage)
app.add_typer(export_cli, name="export")


def _settings(service: str) -> Settings:
    settings = Settings()
    configure_logging(service, settings.log_level, settings.logs_dir / f"{service}.log")
    return settings


@app.command()
def run(
    broker_script: Annotated[
        Path | None, typer.Option(help="Script that starts/stops a local Kafka broker.")
    ] = None,
) -> None:
    """Start the whole system: aggregator, projector, ingest API and query API."""
    raise typer.Exit(supervise(Settings(), broker_script))


@app.command()
def ingest() -> None:
    """Serve the ingest API."""
    settings = _settings("ingest")
    bootstrap.ensure_signals_topic(settings)
    uvicorn.run(
        bootstrap.ingest_app(settings),
        host=settings.host,
        port=settings.ingest_port,
        log_config=None,
    )


@app.command()
def query() -> None:
    """Serve the query API."""
    settings = _settings("query")
    uvicorn.run(
        bootstrap.query_app(settings), host=settings.host, port=settings.query_port, log_config=None
    )


@app.command()
def aggregator() -> None:
    """Consume the signals topic into the event store (one consumer-group member)."""
    settings = _settings("aggregator")
    bootstrap.ensure_signals_topic(settings)
    bootstrap.aggregator(settings).run(bootstrap.stop_on_signals())


@app.command()
def projector() -> None:
    """Keep the read models up to date from the event store."""
    settings = _settings("projector")
    follow(
        bootstrap.followers(settings), bootstrap.stop_on_signals(), settings.projector_idle_seconds
    )


@app.command()
def publish(
    signals_file: Annotated[Path, typer.Argument(help="JSON lines, one signal per line.")],
    url: Annotated[str, typer.Option(help="The ingest API.")] = "http://127.0.0.1:8081",
    token_file: Annotated[Path, typer.Option(help="File holding the publisher's token.")] = Path(
        "publisher.token"
    ),
    batch_size: Annotated[int, typer.Option(min=1, max=1000)] = 500,
    plain_identifiers: Annotated[
        bool,
        typer.Option(help="Send BSNs and addresses in clear (development radars only)."),
    ] = False,
) -> None:
    """Publish signals with retries, identifiers sealed to the radar's key; print one line per
    signal that was not delivered."""
    token = token_file.read_text(encoding="utf-8").strip()
    lines = signals_file.read_text(encoding="utf-8").splitlines()
    signals = [orjson.loads(line) for line in lines if line.strip()]
    with PublisherClient(
        url, token, batch_size=batch_size, seal_identifiers=not plain_identifiers
    ) as client:
        results = client.publish(signals)
    counts = Counter(result.status for result in results)
    for result in results:
        if not result.delivered:
            typer.echo(orjson.dumps(result.__dict__).decode())
    typer.echo(", ".join(f"{count} {status}" for status, count in sorted(counts.items())))
    raise typer.Exit(0 if all(r.delivered for r in results) else 1)


@projections.command("rebuild")
def rebuild_projections() -> None:
    """Empty every read model and replay the whole event store into it."""
    settings = _settings("projections")
    db = bootstrap.database(settings)
    ledger = open_ledger(db)
    for model in bootstrap.read_models(db):
        covered = rebuild(ledger, model, settings.projector_batch_events)
        typer.echo(f"rebuilt {model.name} from {covered} events")


@contracts.command("export")
def export_contracts() -> None:
    """Regenerate the JSON Schema and AsyncAPI files from the contract models."""
    for path in write_all():
        typer.echo(str(path))


if __name__ == "__main__":
    app()
