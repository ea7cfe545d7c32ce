"""A worklist row the previous release wrote (tests/fixtures/release-stop14: its read models are
kept by the upgrade, not rebuilt) takes the new, smaller ScoreChanged events: after a new signal
it reads exactly as the row the new code rebuilds from the whole event store."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Tracking

from services.casework.store import WorklistStore
from services.database import Database
from services.ledger.application import SignalBatch
from services.ledger.store import open_ledger
from services.projections.projector import Projector, rebuild
from services.schema.migrate import upgrade_database
from tests.support.radar_fixtures import another_signal_like

RELEASE = Path(__file__).parent.parent / "fixtures" / "release-stop14" / "sqlite"


def _scores(store: WorklistStore, household: str) -> list[dict[str, Any]]:
    return json.loads(
        json.dumps(store.rows_about([household])["radar_household_scores"], default=str)
    )


def test_a_row_of_the_previous_release_takes_new_score_events_as_a_rebuild_would(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "release"
    shutil.copytree(RELEASE, copy)
    database = Database(f"sqlite:///{copy / 'radar.db'}", copy / "keys")
    upgrade_database(database)
    household = json.loads((copy / "expected.json").read_text())["households"]["h1"]
    ledger = open_ledger(database)
    engine = database.engine()
    kept = WorklistStore(engine, database.row_sealer(engine))
    assert kept.position() > 0, "the release's rows are kept, not rebuilt"
    try:
        latest = ledger.household(household).latest_assessment()
        assert latest is not None
        signal = another_signal_like(  # within the others' windows
            ledger, household, latest.as_of - timedelta(days=1), latest.as_of + timedelta(hours=1)
        )
        ledger.record_batch(SignalBatch([signal]), Tracking("test:after-upgrade:0", 1))
        Projector(ledger, kept, batch_size=7).catch_up()

        elsewhere = Database(f"sqlite:///{tmp_path / 'rebuilt.db'}", copy / "keys")
        rebuilt_engine = elsewhere.engine()
        rebuilt = WorklistStore(rebuilt_engine, elsewhere.row_sealer(rebuilt_engine))
        rebuild(ledger, rebuilt, batch_size=7)

        merged = _scores(kept, household)
        assert merged and merged[0]["score"] != str(latest.score), "the new signal scored"
        assert merged == _scores(rebuilt, household)
        assert len(merged[0]["contributions"]) > 1
        rebuilt_engine.dispose()
    finally:
        ledger.close()
        engine.dispose()
