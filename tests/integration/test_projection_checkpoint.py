"""A read-model checkpoint: recovering the timeline from it (after its rows were lost) gives
the rows a full rebuild gives, replaying only the events after the checkpoint; a checkpoint
whose copied rows were changed is refused, and the live model stays as it was."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import delete, update

from services.database import Database
from services.ledger.store import open_ledger
from services.projections.checkpoints import CheckpointError, NoCheckpointError
from services.projections.projector import Projector
from services.timelines.store import TimelineStore, person_memberships, timeline_signals
from services.timelines.tables import checkpoint_metadata
from tests.integration.test_timeline_bulk_rebuild import record_history

COPIED_SIGNALS = checkpoint_metadata.tables["timeline_signals_checkpoint"]


def test_recovery_from_a_checkpoint_replays_only_the_tail_and_equals_a_rebuild(
    database: Database, empty_database: Database
) -> None:
    ledger = open_ledger(database)
    engine, reference_engine = database.engine(), empty_database.engine()
    try:
        live = TimelineStore(engine)
        with pytest.raises(NoCheckpointError):
            live.recover(ledger, 1000)
        record_history(ledger, random.Random(19))
        Projector(ledger, live, batch_size=250).catch_up()
        taken = live.take_checkpoint()
        assert taken.position == live.position() > 0
        assert taken.rows > 0
        record_history(ledger, random.Random(20), later=1)
        Projector(ledger, live, batch_size=250).catch_up()
        tail = ledger.notifications.after(taken.position, 100_000, live.topics)
        assert tail
        # the read model is lost
        with engine.begin() as connection:
            connection.execute(delete(timeline_signals))
            connection.execute(delete(person_memberships))

        replayed = live.recover(ledger, 1000)

        assert replayed == len(tail)
        reference = TimelineStore(reference_engine)
        Projector(ledger, reference, batch_size=1000).catch_up()
        assert live.dump() == reference.dump()
        assert live.position() == reference.position() == tail[-1].id
    finally:
        ledger.close()
        engine.dispose()
        reference_engine.dispose()


def test_a_changed_checkpoint_is_refused(database: Database) -> None:
    ledger = open_ledger(database)
    engine = database.engine()
    try:
        record_history(ledger, random.Random(22))
        live = TimelineStore(engine)
        Projector(ledger, live, batch_size=1000).catch_up()
        live.take_checkpoint()
        before = live.dump()
        # a plain column of one copied row changed: every sealed part still opens
        with engine.begin() as connection:
            changed = connection.execute(
                update(COPIED_SIGNALS)
                .where(COPIED_SIGNALS.c.position == COPIED_SIGNALS.c.position)
                .values(severity="low", corrected=True)
            )
        assert changed.rowcount > 0
        with pytest.raises(CheckpointError, match="do not match"):
            live.recover(ledger, 1000)
        assert live.dump() == before
        live.take_checkpoint()  # a new checkpoint replaces it
        assert live.recover(ledger, 1000) == 0
        assert live.dump() == before
    finally:
        ledger.close()
        engine.dispose()
