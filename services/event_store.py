"""Opens the radar's event store (the signal ledger) on the configured database."""

from __future__ import annotations

from radar.ledger import SignalLedger
from services.database import Database

AGGREGATE_CACHE_SIZE = 2000


def open_ledger(database: Database) -> SignalLedger:
    """The signal ledger on this database; tables are created on first use,
    under the schema lock so processes starting together do not collide.

    The aggregate cache is bounded (memory stays flat while catching up on a backlog) and
    fast-forwards from the store, so a household written by another aggregator is never stale.
    """
    env = database.eventsourcing_env()
    env["AGGREGATE_CACHE_MAXSIZE"] = str(AGGREGATE_CACHE_SIZE)
    env["AGGREGATE_CACHE_FASTFORWARD"] = "y"
    with database.schema_lock():
        return SignalLedger(env=env)
