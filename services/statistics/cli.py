"""The statistics' commands: `radar export cbs` (registered on the export group)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from services import bootstrap
from services.audit.cli import Moment
from services.ledger.store import open_ledger
from services.settings import Settings
from services.statistics.cbs_export import CbsExportError, CbsSources, export_cbs, rounding_key


def cbs_command(
    period: Annotated[str, typer.Option(help="The half-year, e.g. 2026H2.")],
    out: Annotated[
        Path, typer.Option(help="The directory of the deliveries (the archive of what was sent).")
    ] = Path("cbs"),
    as_of: Moment = None,
    delivery: Annotated[
        int | None, typer.Option(min=1, help="Its number; default: the next in --out.")
    ] = None,
) -> None:
    """Write the CBS beleidsinformatie of a half-year: the file (CSV), its JSON Schema, a
    self-check report and a manifest, after disclosure control; logged in the access log."""
    settings = Settings()
    moment = as_of or datetime.now(UTC)
    db = bootstrap.database(settings)
    engine = db.engine()
    ledger = open_ledger(db, engine)
    try:
        with db.schema_lock():
            access_log = db.access_log(engine)
        sources = CbsSources(
            settings.recipient_register, ledger, access_log, rounding_key(settings.data_dir)
        )
        done = export_cbs(sources, "cbs", period, out, moment, getpass.getuser(), delivery)
    except CbsExportError as error:
        typer.echo(f"export refused: {error}", err=True)
        raise typer.Exit(2) from error
    finally:
        ledger.close()
        engine.dispose()
    for path in done.files:
        typer.echo(str(path))
    passed = "passed" if done.self_check["passed"] else "FAILED: see the self-check report"
    typer.echo(f"access log entry {done.entry.seq}; self-check {passed}")
