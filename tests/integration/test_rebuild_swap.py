"""`radar projections rebuild` builds the timeline into fresh tables while the live ones keep
answering, then swaps them in at once: a query during the rebuild sees the old read model
whole, one after it the new one; a live projector that wrote meanwhile carries on from the
rebuild's position in the new tables, so every event shows exactly once."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import delete, inspect

from services.database import Database
from services.ledger.store import open_ledger
from services.projections.projector import Projector, rebuild
from services.projections.swap import FRESH
from services.timelines import build
from services.timelines.store import TimelineStore, timeline_signals
from tests.integration.test_timeline_bulk_rebuild import record_history


def test_queries_during_a_rebuild_see_the_old_model_and_after_it_the_new(
    database: Database, empty_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = open_ledger(database)
    engine, reference_engine = database.engine(), empty_database.engine()
    try:
        rng = random.Random(16)
        record_history(ledger, rng)
        live = TimelineStore(engine)
        follower = Projector(ledger, live, batch_size=100)
        follower.catch_up()
        # the live model has lost rows (a bad restore, say): what the rebuild must put right
        with engine.begin() as connection:
            lost = connection.execute(
                delete(timeline_signals).where(timeline_signals.c.position < 40)
            )
        assert lost.rowcount > 0
        old = live.dump()
        seen: dict[str, Any] = {}
        real_load, real_swap = build.TimelineBuild._load_batch, build.swap_in

        def load_and_look(self: build.TimelineBuild, *args: Any) -> None:
            real_load(self, *args)
            seen.setdefault("while loading", TimelineStore(engine).dump())

        def look_then_swap(*args: Any) -> bool:
            if "before the swap" not in seen:
                seen["before the swap"] = TimelineStore(engine).dump()
                # events arrive and the live projector applies them to the old tables
                record_history(ledger, random.Random(17), later=1)
                assert follower.catch_up() > 0
                seen["written meanwhile"] = TimelineStore(engine).dump()
            swapped = real_swap(*args)
            seen.setdefault("first swap", swapped)
            return swapped

        monkeypatch.setattr(build.TimelineBuild, "_load_batch", load_and_look)
        monkeypatch.setattr(build, "swap_in", look_then_swap)
        covered = rebuild(ledger, live, 1000)
        monkeypatch.undo()

        assert covered > 0
        assert seen["while loading"] == old
        assert seen["before the swap"] == old
        assert seen["written meanwhile"] != old  # the live projector kept writing: still live
        # the live model had moved on: the build loaded the rest before it swapped (it never
        # shows the read model going back), and the follower has nothing left to do
        assert seen["first swap"] is False
        assert not ledger.notifications.after(live.position(), 1, live.topics)
        after = live.dump()
        assert len(after["timeline_signals"]) > len(seen["written meanwhile"]["timeline_signals"])
        assert follower.catch_up() == 0
        # later events: the follower applies them to the swapped-in tables
        record_history(ledger, random.Random(23), later=2)
        assert follower.catch_up() > 0
        reference = TimelineStore(reference_engine)
        Projector(ledger, reference, batch_size=1000).catch_up()
        assert live.dump() == reference.dump()
        assert live.position() == reference.position()
        # the live tables keep their names (and indexes); no fresh table is left behind
        names = set(inspect(engine).get_table_names())
        assert {"timeline_signals", "person_memberships"} <= names
        assert not {n for n in names if n.endswith(FRESH)}
        indexes = {i["name"] for i in inspect(engine).get_indexes("timeline_signals")}
        assert "ix_timeline_signals_position" in indexes
        rebuild(ledger, live, 1000)  # and it rebuilds again over its own swapped-in tables
        assert live.dump() == reference.dump()
    finally:
        ledger.close()
        engine.dispose()
        reference_engine.dispose()


def test_a_failed_rebuild_leaves_the_live_model_as_it_was(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = open_ledger(database)
    engine = database.engine()
    try:
        record_history(ledger, random.Random(18))
        live = TimelineStore(engine)
        Projector(ledger, live, batch_size=1000).catch_up()
        before, position = live.dump(), live.position()

        def broken(*_args: Any) -> None:
            raise RuntimeError("the database went away")

        monkeypatch.setattr(build, "swap_in", broken)
        with pytest.raises(RuntimeError):
            rebuild(ledger, live, 1000)
        assert live.dump() == before
        assert live.position() == position
        assert not {n for n in inspect(engine).get_table_names() if n.endswith(FRESH)}
    finally:
        ledger.close()
        engine.dispose()
