"""`radar retention`: show the retention policy and enforce it (by hand or on a schedule)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from privacy.retention import RetentionPolicy
from services import bootstrap, metrics
from services.gate import Clock
from services.ledger.store import open_ledger
from services.logs import command_settings
from services.oversight.log_retention import access_log_retention_command
from services.retention.service import EnforcementReport, enforce, system_clock
from services.settings import Settings
from services.signals.store import ReceiptBook

retention_cli = typer.Typer(help="Retention periods and their enforcement (crypto-shredding).")


@retention_cli.command("show")
def show() -> None:
    """Print each kind of data with its retention period and legal source."""
    policy = RetentionPolicy.load(Settings().retention_policy)
    typer.echo(f"retention policy version {policy.version}")
    for kind, period in policy.kinds.items():
        typer.echo(f"- {kind}: {period.period_days} days. {period.description}")
        typer.echo(f"  legal source: {period.legal_source}")
    log = policy.access_log
    typer.echo(f"- access_log: {log.minimum_days} to {log.maximum_days} days. {log.description}")
    typer.echo(f"  minimum: {log.minimum_source}")
    typer.echo(f"  maximum: {log.maximum_source}")
    typer.echo(f"  to confirm: {log.to_confirm}")


@retention_cli.command("enforce")
def enforce_command(
    dry_run: Annotated[bool, typer.Option(help="Only count what has expired.")] = False,
    every_hours: Annotated[
        float | None, typer.Option(help="Run again every so many hours (a schedule).")
    ] = None,
) -> None:
    """Erase every household whose retention period has ended: projections and vault purged,
    its keys destroyed, the enforcement recorded with counts only."""
    settings = command_settings("retention")
    if every_hours is not None:  # long-lived: its runs are metrics too
        metrics.serve(settings.host, settings.retention_metrics_port, "retention")
    while True:
        report = enforce_once(settings, dry_run, system_clock)
        metrics.retention_enforced(dry_run, dict(report.expired))
        expired = ", ".join(f"{k} {n}" for k, n in sorted(report.expired.items())) or "none"
        verb = "would erase" if dry_run else "erased"
        typer.echo(
            f"checked {report.checked} households; expired: {expired}; {verb} "
            f"{report.events_erased} events, {report.rows_purged} projection rows and "
            f"receipts, {report.identities_purged} vault identities"
        )
        if every_hours is None:
            return
        time.sleep(every_hours * 3600)


def enforce_once(
    settings: Settings, dry_run: bool = False, clock: Clock = system_clock
) -> EnforcementReport:
    """One enforcement with the settings' databases, vault and policy, at the clock's now (the
    command passes the system clock; tests and drills a later moment)."""
    db = bootstrap.database(settings)
    engine = db.engine()
    with db.schema_lock():
        ledger = open_ledger(db)
        sealer = db.row_sealer(engine)
        models = bootstrap.read_models_on(engine, sealer)  # every one: nothing left behind
    try:
        return enforce(
            ledger,
            [
                *models,
                ReceiptBook.of(db, engine, sealer),
                sealer,  # last: the keys of the rows purged above
            ],
            bootstrap.identity_vault(settings),
            RetentionPolicy.load(settings.retention_policy),
            clock,
            dry_run,
        )
    finally:
        ledger.close()
        engine.dispose()


# The access log's own retention lives with the log (services/oversight/log_retention.py).
retention_cli.command("access-log")(access_log_retention_command)
