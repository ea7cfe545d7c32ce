"""How the audit room plugs into the processes: the sealer follows the event store in the
projector process, and the audit API is served by the query API behind its gate."""

from __future__ import annotations

from fastapi import APIRouter

from services.audit.checkpoint_topic import CheckpointPublisher
from services.audit.keys import load_or_create_signing_key
from services.audit.sealing import Sealer, create_tables
from services.audit.settings import AuditSettings, checkpoint_key_path
from services.database import Database
from services.gate import QueryGate
from services.ledger.store import open_ledger
from services.projections.projector import Follower
from services.settings import Settings


def audit_routers(gate: QueryGate, settings: Settings) -> list[APIRouter]:
    """Routers of the audit API, served by the query API behind the gate."""
    from services.audit.routes import audit_router

    return [audit_router(gate, settings)]


def audit_followers(settings: Settings) -> list[Follower]:
    """Processes that follow the event store next to the projections: the sealer."""
    return [sealer(settings)]


def sealer(settings: Settings, audit: AuditSettings | None = None) -> Sealer:
    """The sealer on the configured database, signing with the checkpoint key."""
    audit = audit or AuditSettings()
    db = Database.of(settings)
    with db.schema_lock():
        ledger = open_ledger(db)
        engine = db.engine()
        create_tables(engine)
    publisher = CheckpointPublisher(
        settings.kafka_bootstrap,
        audit.checkpoints_topic,
        audit.checkpoints_retention_days,
        audit.publish_timeout_seconds,
    )
    key = load_or_create_signing_key(checkpoint_key_path(settings))
    return Sealer(ledger, engine, key, publisher, audit)
