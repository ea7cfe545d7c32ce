"""`radar model ...`: the risk model's versions and their effect on scores; and
`radar safety ...`: reminders for missed check dates of safety conditions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from privacy.storage.restrictions import RestrictionRegister
from radar.alerts import StaffRef
from radar.model_diff import parameter_changes, score_changes, summarise
from radar.model_history import ModelChangeError
from radar.risk_model_v2 import AnyRiskModel, load_model
from services.casework.monitoring_store import SafetyStore
from services.casework.reminders import remind_due_checks
from services.database import Database
from services.ledger.application import SignalLedger
from services.ledger.store import open_ledger
from services.settings import Settings

model_cli = typer.Typer(help="The risk model: versions and their effect on scores.")
safety_cli = typer.Typer(help="Safety conditions: reminders for missed check dates.")

ModelFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A model file.")]
Moment = Annotated[
    datetime | None, typer.Option(help="Score at this moment (ISO 8601, UTC if no offset).")
]


def _database() -> Database:
    return Database.of(Settings())


def _ledger() -> SignalLedger:
    db = _database()
    with db.schema_lock():
        return open_ledger(db)


def _restricted(households: list[str]) -> frozenset[str]:
    """Which of these households are under restriction (AVG art. 18): counted, never listed."""
    db = _database()
    with db.schema_lock():
        engine = db.engine()
        register = RestrictionRegister(db.access_log(engine))
    try:
        return register.restricted_among(households)
    finally:
        engine.dispose()


def _load(path: Path) -> AnyRiskModel:
    """A model file of either format (its content says which: model 1's or model 2's)."""
    try:
        return load_model(path)
    except (ValidationError, ValueError) as error:
        raise typer.BadParameter(f"{path} is not a valid model file:\n{error}") from error


def _moment(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@model_cli.command("show")
def show() -> None:
    """The model version in force, and the file it can be compared with."""
    ledger = _ledger()
    model = ledger.model_in_force()
    history = ledger.model_history()
    adopted = "not adopted yet: the shipped model applies" if history is None else "in force"
    typer.echo(f"version {model.version}, {adopted}; fingerprint {model.fingerprint()[:16]}")
    typer.echo(model.description)


@model_cli.command("history")
def history() -> None:
    """Every adopted version: when, by whom, why."""
    found = _ledger().model_history()
    if found is None:
        typer.echo("no model adopted yet")
        return
    for entry in found.versions:
        by = (entry.by or {}).get("subject", "the radar")
        typer.echo(
            f"version {entry.version}  {entry.adopted_at:%Y-%m-%d %H:%M}  by {by}  "
            f"{entry.fingerprint[:16]}  {entry.reason}"
        )


@model_cli.command("diff")
def diff(
    new_model_file: ModelFile,
    top: Annotated[int, typer.Option(min=0, help="How many households to list.")] = 20,
    at: Moment = None,
) -> None:
    """How a new model version would change current scores, before it is adopted."""
    new = _load(new_model_file)
    ledger = _ledger()
    old = ledger.model_in_force()
    now = _moment(at)
    typer.echo(f"in force: version {old.version} ({old.fingerprint()[:16]})")
    typer.echo(f"new:      version {new.version} ({new.fingerprint()[:16]}) {new_model_file}")
    changed = parameter_changes(old, new)
    typer.echo(f"\nparameters changed ({len(changed)}):")
    for line in changed:
        typer.echo(f"  {line}")
    households = (
        (h.pseudonym, h.responsible_region, h.signal_facts()) for h in ledger.households()
    )
    changes = score_changes(households, old, new, now)
    summary = summarise(changes)
    typer.echo(
        f"\nscores at {now:%Y-%m-%d %H:%M %Z} for {summary.households} households: "
        f"{summary.higher} higher, {summary.lower} lower, {summary.unchanged} unchanged; "
        f"{summary.newly_alerting} would newly reach the alert score, "
        f"{summary.no_longer_alerting} would fall below it"
    )
    restricted = _restricted([c.household for c in changes[:top] if c.delta != 0])
    if restricted:
        typer.echo(f"  (not listed, restricted (AVG art. 18): {len(restricted)} households)")
    for change in changes[:top]:
        if change.delta == 0:
            break
        if change.household in restricted:
            continue
        note = (
            "  now reaches the alert score"
            if change.alert_after and not change.alert_before
            else "  falls below the alert score"
            if change.alert_before and not change.alert_after
            else ""
        )
        typer.echo(
            f"  {change.household}  {change.region or '-'}  {change.before} -> {change.after}"
            f"  ({change.delta:+})" + note
        )


@model_cli.command("adopt")
def adopt(
    new_model_file: ModelFile,
    by: Annotated[str, typer.Option(help="Who decided to adopt it (staff id).")],
    organisation: Annotated[str, typer.Option(help="On whose behalf.")],
    reason: Annotated[str, typer.Option(help="Why (no personal data).")],
) -> None:
    """Put a new model version in force and rescore every household under it."""
    model = _load(new_model_file)
    try:
        rescored = _ledger().adopt_model(
            model, StaffRef(by, organisation, "model_owner", "national"), reason
        )
    except (ModelChangeError, ValueError) as error:
        raise typer.BadParameter(str(error)) from error
    typer.echo(f"version {model.version} in force; {rescored} households rescored")


@safety_cli.command("remind")
def remind(at: Moment = None) -> None:
    """Raise reminders for check dates that passed without an assessment."""
    db = _database()
    with db.schema_lock():
        engine = db.engine()
        ledger, store = open_ledger(db), SafetyStore(engine, db.row_sealer(engine))
    raised = remind_due_checks(ledger, store, _moment(at))
    typer.echo(f"{raised} reminders raised")
