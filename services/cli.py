"""The `radar` command line: every slice's commands under one root, and the two that belong to
no slice: `run` (the whole system) and `query` (the query API, served from several slices).

A slice's command module imports what its commands run on (SQLAlchemy, FastAPI, Kafka, the event
store), which takes seconds; so the root imports a slice's module only when one of its commands
runs or shows its help. `radar --help` lists every command from the summaries below, and this
module imports nothing heavy at its top: `radar --help` and `radar admin token` answer at once
(tests/unit/test_cli_startup.py checks both, and that each summary is its command's own)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Elsewhere:
    """A command or group defined in a slice's cli module, imported when it is used."""

    module: str
    attribute: str
    summary: str
    """The first paragraph of its help, for the root's listing: the module's own (a test checks)."""

    def load(self, name: str) -> Any:
        """The click command, built by typer exactly as if it had been registered on the root."""
        target = getattr(importlib.import_module(self.module), self.attribute)
        holder = typer.Typer()
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=name)
        else:
            holder.command(name)(target)
        return typer.main.get_group(holder).commands[name]


# Every command in the order `radar --help` lists them (typer's: commands, then groups); None is
# a command defined in this module.
COMMANDS: dict[str, Elsewhere | None] = {
    "ingest": Elsewhere("services.signals.cli", "ingest", "Serve the ingest API."),
    "publish": Elsewhere(
        "services.signals.cli",
        "publish",
        "Publish signals with retries, identifiers sealed to the radar's key; print one line per\n"
        "signal that was not delivered.",
    ),
    "aggregator": Elsewhere(
        "services.ledger.cli",
        "aggregator",
        "Consume the signals topic into the event store (one consumer-group member).",
    ),
    "projector": Elsewhere(
        "services.projections.cli",
        "projector",
        "Keep the read models up to date from the event store.",
    ),
    "deliver": Elsewhere(
        "services.delivery.cli",
        "deliver",
        "Deliver every webhook's feed items to its receiver, signed, at least once.",
    ),
    "inzage": Elsewhere(
        "services.rights.cli",
        "inzage",
        "Export what the radar holds about one person: signals, sources, purposes, accesses.",
    ),
    "run": None,
    "query": None,
    "status": Elsewhere(
        "services.status.cli",
        "status",
        "Each process's health, its lags and the stored format versions; exit status 1 when a\n"
        "part is down.",
    ),
    "demo": Elsewhere(
        "services.pages.cli",
        "demo",
        "Publish a synthetic demo population (households, signals from five sectors over\n"
        "eighteen months) through the ingest API, for a realistic worklist and charts.",
    ),
    "admin": Elsewhere("services.admin.cli", "admin", "Credentials and keys."),
    "projections": Elsewhere(
        "services.projections.cli", "projections", "Read models (projections)."
    ),
    "audit": Elsewhere(
        "services.audit.cli", "audit_cli", "Replay, verify and check the logs (auditors)."
    ),
    "model": Elsewhere(
        "services.casework.cli",
        "model_cli",
        "The risk model: versions and their effect on scores.",
    ),
    "safety": Elsewhere(
        "services.casework.cli",
        "safety_cli",
        "Safety conditions: reminders for missed check dates.",
    ),
    "lead-times": Elsewhere(
        "services.casework.lead_time_cli",
        "lead_times_cli",
        "Lead times: the norms per region, and reminders for reports.",
    ),
    "contracts": None,
    "retention": Elsewhere(
        "services.retention.cli",
        "retention_cli",
        "Retention periods and their enforcement (crypto-shredding).",
    ),
    "export": Elsewhere(
        "services.rights.cli",
        "export_cli",
        "Pseudonymised extracts for external recipients (recipients.toml).",
    ),
    "db": Elsewhere(
        "services.schema.cli", "db_cli", "The databases' schema: its revision, and migrating it."
    ),
    "backup": Elsewhere(
        "services.backup.cli",
        "backup_cli",
        "Backups of the data and, kept apart, of the keys; restores.",
    ),
    "evaluate": Elsewhere(
        "services.yardstick.cli",
        "evaluate",
        "Measure the radar on a synthetic world: recall, lead time and workload per model\n"
        "version, radar against the best single party; write the table and plots.",
    ),
    "webhooks": Elsewhere(
        "services.delivery.cli",
        "webhooks_cli",
        "Webhooks: registrations, dead letters and their replay.",
    ),
}


class _Subcommands(MutableMapping[str, Any]):
    """The root's commands by name: a command defined elsewhere is imported on first access.
    Its keys (the names) cost nothing; `summary` answers a listing without importing."""

    def __init__(self, here: MutableMapping[str, Any]) -> None:
        self._loaded = dict(here)

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            elsewhere = COMMANDS.get(name)
            if elsewhere is None:
                raise KeyError(name)
            self._loaded[name] = elsewhere.load(name)
        return self._loaded[name]

    def summary(self, name: str) -> Any:
        """The command if it was loaded, else a stand-in with its name and summary only."""
        elsewhere = COMMANDS.get(name)
        if name in self._loaded or elsewhere is None:
            return self.get(name)
        return TyperCommand(name=name, help=elsewhere.summary)

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._loaded if name not in COMMANDS)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]


class _RadarCommands(TyperGroup):
    """Every command, with one answer to a malformed register or policy file (the line naming
    the file and the field) and to a database whose schema is not this radar's (the command
    that migrates it): exit status 2, no traceback, at a command or at a service's start.
    A listing (help, shell completion) shows summaries; running a command imports its module."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Subcommands(self.commands)
        self._listing = False

    @contextmanager
    def _summaries(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # the names only: listing them imports nothing

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        commands = self.commands
        if self._listing and isinstance(commands, _Subcommands):
            return commands.summary(cmd_name)
        return commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with self._summaries():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        with self._summaries():
            return super().shell_complete(ctx, incomplete)

    def invoke(self, ctx: Any) -> Any:
        # pydantic (the registers' models) is imported only once a command runs.
        from privacy.registers import MalformedFileError
        from services.schema.errors import SchemaMismatchError

        try:
            return super().invoke(ctx)
        except (MalformedFileError, SchemaMismatchError) as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(2) from None


# No local variables in tracebacks: `radar inzage` holds a BSN, other commands hold tokens.
app = typer.Typer(
    help="Signal radar: pseudonymised signals, one radar for Veilig Thuis.",
    pretty_exceptions_show_locals=False,
    cls=_RadarCommands,
)
contracts = typer.Typer(help="Event contracts.")
app.add_typer(contracts, name="contracts")


@app.command()
def run(
    broker_script: Annotated[
        Path | None, typer.Option(help="Script that starts/stops a local Kafka broker.")
    ] = None,
) -> None:
    """Start the whole system: aggregator, projector, ingest API, query API and deliverer."""
    from contextlib import suppress

    from sqlalchemy.exc import OperationalError

    from services.backup.key_check import require_keys
    from services.settings import Settings
    from services.supervisor import supervise

    settings = Settings()
    # Refused once here, not five times per process by the supervisor; a database not up yet
    # is each process's to wait for, and each checks the keys when it gets through.
    with suppress(OperationalError):
        require_keys(settings)
    raise typer.Exit(supervise(settings, broker_script))


@app.command()
def query() -> None:
    """Serve the query API."""
    import uvicorn

    from services import bootstrap, collector
    from services.listening import api_socket
    from services.logs import command_settings

    settings = command_settings("query")
    served = bootstrap.query_app(settings)
    config = uvicorn.Config(
        served,
        log_config=None,
        access_log=False,  # services.logs.RequestLines writes the request lines, masked
        server_header=False,  # API-53: the answers do not name the server software
    )
    listening = api_socket(settings, "query")
    collector.tune_for_throughput()
    uvicorn.Server(config).run(sockets=[listening])


@contracts.command("export")
def export_contracts() -> None:
    """Regenerate the JSON Schema and AsyncAPI files from the contract models (and the
    vocabulary tables in docs/contracts.md, who may see what in docs/purposes.md)."""
    from contracts import vocabulary_doc
    from contracts.export import write_all
    from privacy import purposes_doc
    from services.signals import submission_schemas, submission_v2

    written = write_all() + submission_schemas.write_all() + submission_v2.write_all()
    for path in written + vocabulary_doc.write() + purposes_doc.write():
        typer.echo(str(path))


if __name__ == "__main__":
    app()
