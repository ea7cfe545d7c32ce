"""Builds each process's parts from the settings: the one place that knows how they connect."""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastapi import FastAPI

from privacy.actors import Analyst
from privacy.addresses import HomeAddress
from privacy.credentials import Audience, TokenAuthority
from privacy.identifier_keys import IdentifierKeyring
from privacy.policy import PolicyDecisionPoint
from privacy.pseudonyms import PseudonymKeyFile
from privacy.purposes import PurposeRegister
from privacy.retention import RetentionPolicy
from privacy.storage.access_log import AccessLog
from privacy.storage.revocations import RevocationList
from privacy.storage.vault import IdentityVault
from services.audit.hooks import audit_followers, audit_routers
from services.casework.read_models import radar_followers, radar_read_models
from services.casework.routes import worklist_routers
from services.casework.store import WorklistStore
from services.database import Database
from services.gate import QueryGate
from services.http import actor_dependency
from services.kafka_topics import ensure_topic
from services.ledger.consumer import Aggregator
from services.ledger.store import open_ledger
from services.oversight.identity_routes import identity_router
from services.oversight.restriction_routes import restriction_router
from services.projections.projector import Follower, Projector
from services.projections.read_model import ReadModel
from services.settings import Settings
from services.signals.identifiers import IdentifierOpener
from services.signals.publisher import SignalPublisher
from services.signals.routes import Ingest, create_ingest_app
from services.signals.store import ReceiptBook
from services.timelines.routes import create_query_app
from services.timelines.store import TimelineStore


def database(settings: Settings) -> Database:
    return Database.of(settings)


def pseudonyms(settings: Settings) -> PseudonymKeyFile:
    """The pseudonym keyring, reread after a rotation."""
    return PseudonymKeyFile(settings.pseudonym_keyring_path)


def identity_vault(settings: Settings) -> IdentityVault:
    """The identity vault in its own database, its data keys wrapped by the KEK file."""
    vault_db = Database(settings.resolved_vault_url, settings.keys_dir)
    with vault_db.schema_lock():
        return IdentityVault(vault_db.engine(), vault_db.key_encryption_key())


def identifier_opener(settings: Settings) -> IdentifierOpener:
    """Opens sealed identifiers with the radar's keys; takes plain ones only if allowed."""
    return IdentifierOpener(
        IdentifierKeyring.load_or_create(settings.keys_dir), settings.allow_plain_identifiers
    )


def rewrap_data_keys(settings: Settings) -> int:
    """Re-wraps the event store's and the vault's data keys under the current KEK."""
    db = database(settings)
    with db.schema_lock():
        ledger = open_ledger(db)
    try:
        return ledger.subject_keys.rewrap() + identity_vault(settings).keys.rewrap()
    finally:
        ledger.close()


def household_of(keys: PseudonymKeyFile, vault: IdentityVault) -> Callable[[HomeAddress], str]:
    """Finds the household pseudonym of an address, as the radar first knew it."""
    return lambda address: vault.household_pseudonym(address, keys.pseudonymiser())


def token_authority(settings: Settings) -> TokenAuthority:
    """Verifies tokens with the signing keys and the shared revocation list."""
    db = database(settings)
    with db.schema_lock():
        revocations = RevocationList(db.engine())
    return TokenAuthority(settings.keys_dir, is_revoked=revocations.is_revoked)


def ensure_signals_topic(settings: Settings) -> None:
    """Creates the signals topic; refuses a topic retention longer than the retention policy
    allows (Kafka would keep signals the radar has to have forgotten)."""
    allowed = RetentionPolicy.load(settings.retention_policy).signals_topic_max_days
    if settings.signals_retention_days > allowed:
        raise ValueError(
            f"RADAR_SIGNALS_RETENTION_DAYS={settings.signals_retention_days} exceeds the "
            f"retention policy's signals_topic_max_days={allowed}"
        )
    ensure_topic(
        settings.kafka_bootstrap,
        settings.signals_topic,
        settings.signals_partitions,
        settings.signals_retention_days,
    )


def ingest_app(settings: Settings) -> FastAPI:
    """The ingest API with its producer, receipts and pseudonymiser."""
    publisher = SignalPublisher(
        settings.kafka_bootstrap, settings.signals_topic, settings.kafka_timeout_seconds
    )
    db = database(settings)
    with db.schema_lock():
        ingest = Ingest(
            identifier_opener(settings),
            pseudonyms(settings),
            identity_vault(settings),
            publisher,
            ReceiptBook(db.engine()),
        )
    app = create_ingest_app(
        ingest, token_authority(settings), settings.max_batch_signals, settings.max_body_bytes
    )
    app.router.on_shutdown.append(publisher.close)
    return app


def query_app(settings: Settings) -> FastAPI:
    """The query API behind the gate; adopts the purpose register version in force."""
    db = database(settings)
    engine = db.engine()
    register = PurposeRegister.load(settings.purpose_register)
    with db.schema_lock():
        access_log = AccessLog(engine)
        access_log.adopt_register(register)
        timelines = TimelineStore(engine)
        worklist = WorklistStore(engine)

        def household_region(household: str) -> str | None:
            """The region after the latest recorded move, else that of the latest signal."""
            return worklist.household_region(household) or timelines.household_region(household)

        gate = QueryGate(
            PolicyDecisionPoint(register),
            access_log,
            timelines,
            household_region=household_region,
        )
    authority = token_authority(settings)
    vault = identity_vault(settings)
    analyst = actor_dependency(authority, Audience.QUERY, Analyst, "publishers cannot query")
    routers = [
        *worklist_routers(gate, settings),
        *audit_routers(gate, settings),
        identity_router(gate, vault, analyst),
        restriction_router(gate, analyst),
    ]
    return create_query_app(
        gate,
        authority,
        household_of(pseudonyms(settings), vault),
        routers,
        settings.query_max_body_bytes,
    )


def aggregator(settings: Settings) -> Aggregator:
    db = database(settings)
    with db.schema_lock():
        ledger = open_ledger(db)
    return Aggregator(
        ledger,
        settings.kafka_bootstrap,
        settings.signals_topic,
        settings.consumer_group,
        settings.aggregator_batch_records,
    )


def read_models(db: Database) -> list[ReadModel]:
    """Every read model of the radar, on one database: the projector keeps them all."""
    return [TimelineStore(db.engine()), *radar_read_models(db)]


def followers(settings: Settings) -> list[Follower]:
    """Everything the projector process keeps up to date: read models, the check-date
    reminders and the audit sealer."""
    return [*projectors(settings), *radar_followers(settings), *audit_followers(settings)]


def projectors(settings: Settings) -> list[Projector]:
    db = database(settings)
    with db.schema_lock():
        ledger = open_ledger(db)
        models = read_models(db)
    return [Projector(ledger, model, settings.projector_batch_events) for model in models]


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, for the long-running loops."""
    import signal

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop
