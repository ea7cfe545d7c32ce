"""The access log's own retention (NEN 7513 minimum, AVG maximum) on both databases, with a
shifted clock: past the maximum a month's key is destroyed and its notices erased, nothing
younger than the minimum is touched, the chain still verifies, and the dry run counts what the
run does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privacy.registers import MalformedFileError
from privacy.retention import DEFAULT_POLICY, RetentionPolicy
from privacy.storage.access_log import AccessLog, EntryKind, Notice
from privacy.storage.access_log_sealing import period_of
from services.cli import app
from services.database import Database
from services.oversight.log_retention import enforce_log_retention_once
from services.settings import Settings

OLD = "hh.k1." + "1" * 32
RECENT = "hh.k1." + "2" * 32
TODAY = "hh.k1." + "3" * 32
NOW = datetime.now(UTC)
RULE = RetentionPolicy.load().access_log


def _notice(household: str) -> Notice:
    return Notice("VT13", household, "cross_region", "vt-utrecht", "VT09", "triage")


def _write(database: Database, household: str, moment: datetime) -> None:
    engine = database.engine()
    log = database.access_log(engine, clock=lambda: moment)
    payload = {"subject": household, "outcome": "permit", "purpose": "triage"}
    log.append(EntryKind.ACCESS, payload, _notice(household))
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database: Database) -> Settings:
    """A log with an entry 21 years old, one 4 years old and one of today."""
    _write(database, OLD, NOW - timedelta(days=RULE.maximum_days + 400))
    _write(database, RECENT, NOW - timedelta(days=4 * 365))
    _write(database, TODAY, NOW)
    return Settings(data_dir=tmp_path / "data", database_url=database.url)


def _log(database: Database) -> AccessLog:
    return database.access_log(database.engine())


def _subjects(log: AccessLog) -> list[str | None]:
    return [e.payload["subject"] for e in log.entries() if e.kind == EntryKind.ACCESS]


def test_past_the_maximum_the_months_subjects_are_gone_and_the_chain_verifies(
    settings: Settings, database: Database
) -> None:
    dry = enforce_log_retention_once(settings, dry_run=True)
    run = enforce_log_retention_once(settings)
    assert dry.dry_run and not run.dry_run
    assert dry.counts() == run.counts()
    old_period = period_of(NOW - timedelta(days=RULE.maximum_days + 400))
    assert run.counts() == {
        "periods": [old_period],
        "keys_destroyed": 1,
        "entries_unreadable": 1,
        "notices_erased": 1,
        "old_entries_in_clear": 0,
    }
    log = _log(database)
    assert _subjects(log) == [None, RECENT, TODAY]
    assert log.verify() == []
    assert [n["household"] for n in log.notices("VT13")] == [TODAY, RECENT]
    recorded = [e.payload for e in log.entries() if e.kind == EntryKind.LOG_RETENTION]
    assert [(r["dry_run"], r["keys_destroyed"], r["periods"]) for r in recorded] == [
        (True, 1, [old_period]),
        (False, 1, [old_period]),
    ]
    again = enforce_log_retention_once(settings, dry_run=True)
    assert again.keys_destroyed == 0 and again.notices_erased == 0


def test_a_shifted_clock_reaches_the_younger_months_only_past_their_maximum(
    settings: Settings, database: Database
) -> None:
    recent_end_plus_max = NOW - timedelta(days=4 * 365) + timedelta(days=RULE.maximum_days + 31)
    later = enforce_log_retention_once(settings, clock=lambda: recent_end_plus_max)
    assert later.keys_destroyed == 2  # the oldest and the four-year-old month
    assert _subjects(_log(database)) == [None, None, TODAY]
    # Today's month stays readable until its own maximum, however often the run is repeated.
    just_before = NOW + timedelta(days=RULE.maximum_days - 1)
    assert enforce_log_retention_once(settings, clock=lambda: just_before).keys_destroyed == 0
    assert _subjects(_log(database)) == [None, None, TODAY]
    assert _log(database).verify() == []


def test_the_command_reports_the_dry_run_and_the_run_alike(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RADAR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RADAR_DATABASE_URL", settings.resolved_database_url)
    dry = CliRunner().invoke(app, ["retention", "access-log", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would destroy 1 period keys" in dry.output and "1 notices erased" in dry.output
    run = CliRunner().invoke(app, ["retention", "access-log", "--operator", "fg-1"])
    assert run.exit_code == 0, run.output
    assert run.output.replace("destroyed", "would destroy") == dry.output
    shown = CliRunner().invoke(app, ["retention", "show"])
    assert "NEN 7513:2018" in shown.output and "to confirm" in shown.output


def test_a_maximum_shorter_than_the_minimum_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "retention.toml"
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    path.write_text(text.replace("maximum_days = 7305", "maximum_days = 365"), encoding="utf-8")
    with pytest.raises(MalformedFileError, match="maximum_days is shorter than minimum_days"):
        RetentionPolicy.load(path)
