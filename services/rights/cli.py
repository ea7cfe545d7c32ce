"""The data subject's and the recipients' commands, run by the privacy officer on the radar host
(where the vault's key-encryption key and the pseudonym keys are):

- `radar inzage`: a data subject's export (AVG art. 15); the BSN goes into the export and
  never into a log line or the access log.
- `radar export signals`: a pseudonymised extract for an external recipient.
"""

from __future__ import annotations

import getpass
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import structlog
import typer

from privacy.actors import AnalystRole
from privacy.storage.access_log import LogEntry
from privacy.storage.restrictions import RestrictionRegister
from services import bootstrap
from services.ledger.store import open_ledger
from services.logs import command_settings
from services.operator import OperatorName, command_operator
from services.rights.extracts import ExportError, ExtractSources, Window, export_signals
from services.rights.service import HTML_NAME, JSON_NAME, InzageError, InzageSources, check, produce
from services.settings import Settings
from services.statistics.cli import cbs_command
from services.timelines.store import TimelineStore

log = structlog.get_logger("radar.inzage")


def inzage(
    bsn: Annotated[str, typer.Option(help="The data subject's BSN; it passes the elfproef.")],
    out: Annotated[Path, typer.Option(help="Directory for inzage.json and inzage.html.")],
    reason: Annotated[
        str, typer.Option(help="Why the export is made (logged; no identifiers).")
    ] = "Verzoek om inzage van betrokkene (AVG art. 15)",
    operator: OperatorName = None,
) -> None:
    """Export what the radar holds about one person: signals, sources, purposes, accesses."""
    try:
        check(bsn, reason)  # before anything is opened, created or written
    except InzageError as error:
        typer.echo(f"error: {error}; nothing was written", err=True)
        raise typer.Exit(2) from None
    who = command_operator(operator, AnalystRole.PRIVACY_OFFICER)
    settings = command_settings("inzage")
    db = bootstrap.database(settings)
    ledger = open_ledger(db)
    try:
        sources = replace(_sources(settings), events=ledger.notifications)
        export = produce(sources, bsn, reason, out, datetime.now(UTC), who)
    finally:
        ledger.close()
    counts = {
        "signals": len(export.document["signals"]),
        "accesses": len(export.document["accesses"]),
        "withdrawn": len(export.document["withdrawn"]),
    }
    # Not the person: the access log entry (log_seq) is the record of whose export this was.
    log.info("inzage export produced", log_seq=export.log_seq, **counts)
    typer.echo(f"{out / JSON_NAME}\n{out / HTML_NAME}")
    if not export.document["data_held"]:
        typer.echo("the radar holds no data about this person")


def _sources(settings: Settings) -> InzageSources:
    db = bootstrap.database(settings)
    with db.schema_lock():
        engine = db.engine()
        access_log = db.access_log(engine)
        timelines = TimelineStore(engine, db.row_sealer(engine))
    pseudonymiser = bootstrap.pseudonyms(settings).pseudonymiser()
    return InzageSources(bootstrap.identity_vault(settings), pseudonymiser, timelines, access_log)


export_cli = typer.Typer(help="Pseudonymised extracts for external recipients (recipients.toml).")


def export_for(
    settings: Settings, recipient_id: str, window: Window, out: Path, operator: str
) -> LogEntry:
    """The export of `export_signals` on the radar the settings name."""
    if not settings.pseudonym_keyring_path.exists():
        # A fresh keyring would silently give pseudonyms unrelated to the recipient's earlier ones.
        raise ExportError(f"no pseudonym keyring at {settings.pseudonym_keyring_path}")
    keys = bootstrap.pseudonyms(settings).pseudonymiser()
    db = bootstrap.database(settings)
    engine = db.engine()
    try:
        with db.schema_lock():
            access_log = db.access_log(engine)
            sources = ExtractSources(
                settings.recipient_register,
                TimelineStore(engine, db.row_sealer(engine)),
                access_log,
                keys.for_recipient,
                RestrictionRegister(access_log),
            )
        return export_signals(sources, recipient_id, window, out, operator)
    finally:
        engine.dispose()


DateOption = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD")]


@export_cli.command("signals")
def signals_command(
    recipient: Annotated[str, typer.Option(help="The recipient's id in recipients.toml.")],
    out: Annotated[Path, typer.Option(help="The JSON Lines file to create (owner-only).")],
    since: DateOption = None,
    until: DateOption = None,
) -> None:
    """Export the signals that occurred between --since and --until (both days included) to a
    recipient, with only its fields and its own pseudonyms."""
    window = Window(*(None if day is None else day.date() for day in (since, until)))
    try:
        entry = export_for(Settings(), recipient, window, out, getpass.getuser())
    except ExportError as error:
        typer.echo(f"export refused: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(
        f"exported {entry.payload['records']} records to {out} "
        f"(access log entry {entry.seq}, sha256 {entry.payload['sha256'][:16]})"
    )


export_cli.command("cbs")(cbs_command)
