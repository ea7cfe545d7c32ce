"""`radar retention access-log`: the access log's own retention, enforced like the rest of
retention (a dry run whose counts equal the run's, an injectable clock)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Annotated

import typer

from privacy.retention import RetentionPolicy
from privacy.storage.access_log_retention import LogRetentionReport, enforce_log_retention
from services.database import Database
from services.gate import Clock
from services.logs import command_settings
from services.operator import OperatorName, checked_name
from services.settings import Settings


def enforce_log_retention_once(
    settings: Settings,
    dry_run: bool = False,
    clock: Clock = lambda: datetime.now(UTC),
    operator: str | None = None,
) -> LogRetentionReport:
    """One enforcement on the settings' database with the settings' policy, at the clock's now
    (the command passes the system clock; tests and drills a later moment)."""
    rule = RetentionPolicy.load(settings.retention_policy).access_log
    db = Database.of(settings)
    with db.schema_lock():
        engine = db.engine()
        log = db.access_log(engine)
    try:
        who = {"os_user": getpass.getuser(), "name": operator}
        return enforce_log_retention(log, rule, clock(), dry_run, who)
    finally:
        engine.dispose()


def describe(report: LogRetentionReport) -> str:
    """The report in one or two lines, counts only."""
    verb = "would destroy" if report.dry_run else "destroyed"
    periods = ", ".join(report.periods) or "none"
    lines = [
        f"access log: {verb} {report.keys_destroyed} period keys ({periods}); "
        f"{report.entries_unreadable} entries no longer name their subject, "
        f"{report.notices_erased} notices erased",
    ]
    if report.old_entries_in_clear:
        lines.append(
            f"{report.old_entries_in_clear} entries written before format 2 are past the "
            "maximum and still name their subject in clear (the chain covers them; see the "
            "policy's to_confirm)"
        )
    return "\n".join(lines)


def access_log_retention_command(
    dry_run: Annotated[bool, typer.Option(help="Only count what is past the maximum.")] = False,
    operator: OperatorName = None,
) -> None:
    """Enforce the access log's own retention (NEN 7513): destroy the keys of the months past
    the maximum, so whom their entries were about is unreadable for good; never touch anything
    younger than the minimum. The chain still verifies."""
    name = checked_name(operator)
    settings = command_settings("retention")
    typer.echo(describe(enforce_log_retention_once(settings, dry_run, operator=name)))
