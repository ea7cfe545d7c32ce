"""Point-in-time replay on a real event store: only events up to the moment count, a region or
household selects what is reported, an interrupted replay resumes from its scratch database to
the same result, and the readable report comes out as HTML."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from services import bootstrap
from services.audit import replay, service
from services.audit.cli import audit_cli
from services.audit.snapshot import Selection
from services.database import Database
from services.ledger.store import open_ledger
from services.settings import Settings
from services.timelines.store import TimelineStore
from tests.support.audit_helpers import household, record, signal
from tests.support.inspection import timeline_store


@pytest.fixture
def settings(tmp_path: Path, sqlite_database: Database) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=sqlite_database.url)


def _signal_ids(report: dict[str, Any]) -> dict[str, list[str]]:
    return {h["household"]: [s["signal_id"] for s in h["signals"]] for h in report["households"]}


def test_replay_counts_only_what_was_recorded_by_the_moment(
    settings: Settings, sqlite_database: Database
) -> None:
    ledger = open_ledger(sqlite_database)
    early = [signal(household(n), region="VT13" if n % 2 else "VT09") for n in range(6)]
    record(ledger, early, 1)
    time.sleep(0.02)
    moment = datetime.now(UTC)
    time.sleep(0.02)
    late = [signal(household(n), region="VT13") for n in range(8)]  # households 0, 2, 4 move
    record(ledger, late, 2)
    ledger.close()

    then = service.replay_report(settings, bootstrap.read_models, moment, Selection())
    assert _signal_ids(then) == {s.household: [str(s.event_id)] for s in early}
    in_vt13 = service.replay_report(
        settings, bootstrap.read_models, moment, Selection(region="VT13")
    )
    assert sorted(_signal_ids(in_vt13)) == [household(n) for n in (1, 3, 5)]
    now = service.replay_report(
        settings, bootstrap.read_models, datetime.now(UTC), Selection(region="VT13")
    )
    assert sorted(_signal_ids(now)) == [household(n) for n in range(8)]
    one = service.replay_report(
        settings, bootstrap.read_models, datetime.now(UTC), Selection(household=household(7))
    )
    assert _signal_ids(one) == {household(7): [str(late[7].event_id)]}
    # The live read model was never built, let alone touched.
    assert TimelineStore(sqlite_database.engine()).position() == 0


class _InterruptingBar:
    """A progress bar whose third update is a Ctrl-C."""

    def __init__(self, *_args: Any) -> None:
        self.n = 0
        self.updates = 0

    def __enter__(self) -> _InterruptingBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def update(self, count: int) -> None:
        self.n += count
        self.updates += 1
        if self.updates == 4:
            raise KeyboardInterrupt


def test_interrupted_replay_resumes_to_the_same_result(
    settings: Settings, sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = open_ledger(sqlite_database)
    for offset in range(6):
        record(ledger, [signal(household(n)) for n in range(20)], offset)
    ledger.close()
    moment = datetime.now(UTC)
    expected = service.replay_report(settings, bootstrap.read_models, moment, Selection())
    monkeypatch.setattr(replay, "READ_BATCH", 10)
    monkeypatch.setattr(replay, "APPLY_BATCH", 20)
    monkeypatch.setattr(service, "progress_bar", _InterruptingBar)
    work_file = service.replay_work_file(settings)
    with pytest.raises(KeyboardInterrupt):
        service.replay_report(
            settings, bootstrap.read_models, moment, Selection(), work_file=work_file
        )
    scratch = list(work_file.parent.glob("replay-*.db"))
    assert work_file.exists() and len(scratch) == 1
    part = timeline_store(Database(f"sqlite:///{scratch[0]}", settings.keys_dir))
    assert part.position() > 0 and len(part.all_entries()) < 120
    part.engine.dispose()

    monkeypatch.undo()
    monkeypatch.setenv("RADAR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RADAR_DATABASE_URL", settings.resolved_database_url)
    resumed = CliRunner().invoke(audit_cli, ["replay", "--resume", "--format", "html", "-q"])
    assert resumed.exit_code == 0, resumed.output
    page = resumed.stdout
    assert page.startswith("<!doctype html>") and f"as of {moment.isoformat()}" in page
    assert all(h["household"] in page for h in expected["households"])
    assert all(s["signal_id"] in page for h in expected["households"] for s in h["signals"])
    assert page.count("<h3>") == 20
    assert not work_file.exists() and not list(work_file.parent.glob("replay-*.db*"))
    nothing = CliRunner().invoke(audit_cli, ["replay", "--resume", "-q"])
    assert nothing.exit_code == 2 and "nothing to resume" in nothing.output
