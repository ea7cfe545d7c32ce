"""`radar inzage`: the privacy officer, on the radar host, produces a data subject's export
(AVG art. 15). Run where the vault's key-encryption key and the pseudonym keys are; the BSN
goes into the export and never into a log line or the access log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import structlog
import typer

from privacy.storage.access_log import AccessLog
from services import bootstrap
from services.logs import configure_logging
from services.rights.service import HTML_NAME, JSON_NAME, InzageError, InzageSources, check, produce
from services.settings import Settings
from services.timelines.store import TimelineStore

log = structlog.get_logger("radar.inzage")


def inzage(
    bsn: Annotated[str, typer.Option(help="The data subject's BSN; it passes the elfproef.")],
    out: Annotated[Path, typer.Option(help="Directory for inzage.json and inzage.html.")],
    reason: Annotated[
        str, typer.Option(help="Why the export is made (logged; no identifiers).")
    ] = "Verzoek om inzage van betrokkene (AVG art. 15)",
) -> None:
    """Export what the radar holds about one person: signals, sources, purposes, accesses."""
    try:
        check(bsn, reason)  # before anything is opened, created or written
    except InzageError as error:
        typer.echo(f"error: {error}; nothing was written", err=True)
        raise typer.Exit(2) from None
    settings = Settings()
    configure_logging("inzage", settings.log_level, settings.logs_dir / "inzage.log")
    export = produce(_sources(settings), bsn, reason, out, datetime.now(UTC))
    counts = {
        "signals": len(export.document["signals"]),
        "accesses": len(export.document["accesses"]),
    }
    log.info("inzage export produced", person=export.person, log_seq=export.log_seq, **counts)
    typer.echo(f"{out / JSON_NAME}\n{out / HTML_NAME}")
    if not export.document["data_held"]:
        typer.echo("the radar holds no data about this person")


def _sources(settings: Settings) -> InzageSources:
    db = bootstrap.database(settings)
    with db.schema_lock():
        engine = db.engine()
        access_log, timelines = AccessLog(engine), TimelineStore(engine)
    pseudonymiser = bootstrap.pseudonyms(settings).pseudonymiser()
    return InzageSources(bootstrap.identity_vault(settings), pseudonymiser, timelines, access_log)
