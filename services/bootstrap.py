"""The composition root: builds each process's object graph once, from the settings.

The one place that knows every concrete class and how they connect. Only entry points import
it (services/cli.py, each slice's cli.py); routers, use cases and stores receive what they
need and locate nothing. Within a process every part is built at most once: one SQLAlchemy
engine per database URL, one event store, one token authority with one revocation cache, one
analyst dependency.
"""

from __future__ import annotations

import signal
import threading
from datetime import datetime, timedelta

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from privacy.access_review import ReviewPolicy
from privacy.identifier_keys import IdentifierKeyring
from privacy.policy import PolicyDecisionPoint
from privacy.purposes import PurposeRegister
from privacy.retention import RetentionPolicy
from privacy.storage.access_log_refusals import AuthRefusalLog
from privacy.storage.erasure_records import ErasureRecords
from privacy.storage.sealed_rows import RowSealer
from privacy.storage.subject_keys import SubjectKeyStore
from services import metrics
from services.audit.checkpoint_topic import CheckpointPublisher
from services.audit.keys import load_or_create_signing_key
from services.audit.routes import audit_router
from services.audit.sealing import Sealer, newest_sealed_at
from services.audit.settings import AuditSettings, checkpoint_key_path
from services.backup.key_check import require_keys
from services.casework.lead_time_routes import lead_time_router
from services.casework.lead_time_store import LeadTimeStore
from services.casework.monitoring_store import SafetyStore
from services.casework.reminders import CheckReminders, remind_due_reports
from services.casework.routes import worklist_routers
from services.casework.service import Casework
from services.casework.store import WorklistStore
from services.database import Database, log_sealing
from services.delivery.backoff import Backoff
from services.delivery.deliverer import Deliverer, Signer
from services.delivery.poster import HttpsPoster
from services.delivery.registry import WebhookStore
from services.delivery.routes import webhook_router
from services.delivery.service import Webhooks
from services.delivery.signing import webhook_signing_key
from services.feedback.store import FeedbackStore
from services.feeds.items import FeedSource
from services.feeds.routes import feed_router
from services.gate import Clock, QueryGate
from services.handle_with_care.reminders import unacknowledged_notices
from services.handle_with_care.routes import hwc_router
from services.handle_with_care.service import HandleWithCare
from services.handle_with_care.store import HandleWithCareStore
from services.http import add_readiness, new_api
from services.kafka_topics import replication_of
from services.ledger.consumer import Aggregator
from services.metrics.http import instrument
from services.oversight.identity_routes import identity_router
from services.oversight.restriction_routes import restriction_router
from services.oversight.review import ReviewReport, review
from services.oversight.routes import oversight_router
from services.oversight.service import OversightQueries
from services.pages.routes import pages_router

# What one process shares, re-exported: entry points build everything from this module.
from services.parts import Parts as Parts
from services.parts import database as database
from services.parts import household_of as household_of
from services.parts import identity_vault as identity_vault
from services.parts import pseudonyms as pseudonyms
from services.parts import token_authority as token_authority
from services.projections.projector import Follower, Projector
from services.projections.read_model import HouseholdReadModel, ReadModel
from services.referrals.routes import referral_router
from services.referrals.store import ReferralStore
from services.replicas import ReplicaWatch
from services.settings import Settings
from services.signals.identifiers import IdentifierOpener
from services.signals.publisher import SignalPublisher
from services.signals.rate_limits import IngestRateLimit
from services.signals.routes import create_ingest_app
from services.signals.service import Ingest
from services.signals.store import ReceiptBook
from services.statistics.routes import statistics_router
from services.timelines.routes import timeline_router
from services.timelines.service import TimelineQueries
from services.timelines.store import TimelineStore


def data_key_stores(parts: Parts) -> list[SubjectKeyStore | WebhookStore | ErasureRecords]:
    """Every store of data keys wrapped by the KEK: the event store's, the read models',
    the vault's and the access log's; the webhooks' shared secrets; and the pseudonyms of
    unfinished erasures."""
    return [
        parts.ledger.subject_keys,
        parts.ledger.erasures,
        parts.row_sealer.keys,
        parts.vault.keys,
        log_sealing(parts.engine, parts.database.keys_dir).keys,  # the access log's periods
        webhook_store(parts),
    ]


def rewrap_data_keys(settings: Settings) -> int:
    """Re-wraps every data key under the current KEK."""
    parts = Parts(settings)
    try:
        return sum(store.rewrap() for store in data_key_stores(parts))
    finally:
        parts.close()


def still_wrapped_under(settings: Settings, kek_id: str) -> int:
    """How many data keys are still wrapped under a KEK version."""
    parts = Parts(settings)
    try:
        return sum(store.wrapped_under(kek_id) for store in data_key_stores(parts))
    finally:
        parts.close()


# --- the processes ----------------------------------------------------------------------------


def ingest_service(parts: Parts, clock: Clock | None = None) -> tuple[Ingest, SignalPublisher]:
    """The ingest use cases and their producer; signals are received at `clock`'s now
    (default: the system clock; the yardstick passes its simulated day)."""
    settings = parts.settings
    publisher = SignalPublisher(
        settings.kafka_bootstrap, settings.signals_topic, settings.kafka_timeout_seconds
    )
    with parts.database.schema_lock():
        receipts = ReceiptBook(parts.engine, parts.row_sealer)
    opener = IdentifierOpener(
        IdentifierKeyring.load_or_create(settings.keys_dir), settings.allow_plain_identifiers
    )
    ingest = Ingest(opener, parts.pseudonyms, parts.vault, publisher, receipts)
    if clock is not None:
        ingest.clock = clock
    return ingest, publisher


def ingest_app(settings: Settings) -> FastAPI:
    """The ingest API with its producer, receipts and pseudonymiser."""
    require_keys(settings)
    parts = Parts(settings)
    ingest, publisher = ingest_service(parts)
    rate_limit = IngestRateLimit(
        settings.ingest_rate_per_organisation, settings.ingest_burst_per_organisation
    )
    replicas = ReplicaWatch(
        settings.kafka_bootstrap, settings.signals_topic, settings.signals_min_insync_replicas
    )
    app = create_ingest_app(
        ingest,
        parts.token_authority,
        settings.max_batch_signals,
        settings.max_body_bytes,
        rate_limit,
        replicas,
    )
    instrument(app, "ingest")
    app.router.on_startup.append(publisher.connect_soon)
    app.router.on_shutdown.extend([publisher.close, replicas.close, parts.close])
    return app


def query_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    """The query API behind the gate; adopts the purpose register version in force. Every
    decision and deadline it answers with (retention, check dates) is taken at `clock`'s now
    (default: the system clock; tests and drills pass a later moment)."""
    require_keys(settings)
    parts = Parts(settings)
    register = PurposeRegister.load(settings.purpose_register)
    with parts.database.schema_lock():
        access_log = parts.database.access_log(parts.engine)
        access_log.adopt_register(register)
        timelines = TimelineStore(parts.engine, parts.row_sealer)
        worklist = WorklistStore(parts.engine, parts.row_sealer)
        monitoring = SafetyStore(parts.engine, parts.row_sealer)
        lead_times = LeadTimeStore(parts.engine, parts.row_sealer)
        referrals = ReferralStore(parts.engine, parts.row_sealer)
        notices = HandleWithCareStore(parts.engine, parts.row_sealer)
        feedback = FeedbackStore(parts.engine, parts.row_sealer)

    def household_region(household: str) -> str | None:
        """The region after the latest recorded move, else that of the latest signal."""
        return worklist.household_region(household) or timelines.household_region(household)

    gate = QueryGate(PolicyDecisionPoint(register), access_log, household_region)
    if clock is not None:
        gate.clock = clock
    retention = RetentionPolicy.load(settings.retention_policy)
    casework = Casework(
        gate, lambda: parts.ledger, worklist, monitoring, retention, timelines.signal_persons
    )
    refusals = AuthRefusalLog(access_log)
    analyst = parts.analyst(refusals)
    handle_with_care = HandleWithCare(gate, lambda: parts.ledger, notices)
    timeline_queries = TimelineQueries(gate, timelines)
    oversight = OversightQueries(gate)
    routers: list[APIRouter] = [
        timeline_router(
            timeline_queries,
            household_of(parts.pseudonyms, parts.vault),
            analyst,
            # a move changes memberships (timelines) and the household's region (worklist)
            lambda position: casework.read_after(position, timelines, worklist),
        ),
        oversight_router(oversight, analyst),
        *worklist_routers(casework, analyst),
        lead_time_router(gate, lead_times, analyst),
        audit_router(gate, settings, analyst, read_models),
        identity_router(gate, parts.vault, analyst, referrals.referred_persons),
        referral_router(casework, analyst, settings.referral_recipients),
        restriction_router(gate, analyst),
        statistics_router(gate, lambda: parts.ledger, analyst),
        pages_router(
            casework,
            timeline_queries,
            oversight,
            settings,
            read_models,
            parts.vault,
            lead_times,
            referrals,
            feedback,
            handle_with_care,
        ),
        feed_router(gate, feed_sources(parts.database), analyst),
        webhook_router(gate, webhooks(parts, gate.policy), analyst),
        hwc_router(handle_with_care, parts.vault, analyst),
    ]
    app = new_api("Signal radar query API", settings.query_max_body_bytes)
    for router in routers:
        app.include_router(router)

    def database_answers() -> bool:
        timelines.position()
        access_log.count()
        return True

    add_readiness(app, database_answers)
    instrument(app, "query")
    app.router.on_shutdown.extend([refusals.flush, parts.close])
    return app


def aggregator(settings: Settings) -> Aggregator:
    require_keys(settings)
    parts = Parts(settings)
    return Aggregator(
        parts.ledger,
        settings.kafka_bootstrap,
        settings.signals_topic,
        settings.consumer_group,
        settings.aggregator_batch_records,
    )


def webhook_store(parts: Parts) -> WebhookStore:
    """The webhook registrations, their secrets wrapped by the database's KEK."""
    with parts.database.schema_lock():
        return WebhookStore(parts.engine, parts.database.key_encryption_key())


def webhooks(parts: Parts, policy: PolicyDecisionPoint) -> Webhooks:
    """Registering webhooks for the feeds that exist (the query API, `radar webhooks add`)."""
    return Webhooks(
        webhook_store(parts),
        feed_sources(parts.database),
        policy,
        parts.settings.webhooks_allow_loopback,
    )


def deliverer(settings: Settings, sources: list[FeedSource] | None = None) -> Deliverer:
    """`radar deliver`: every webhook's items from its feed (default: every feed's source)."""
    require_keys(settings)
    parts = Parts(settings)
    with parts.database.schema_lock():
        access_log = parts.database.access_log(parts.engine)
    backoff = Backoff(
        settings.webhooks_backoff_seconds,
        settings.webhooks_backoff_cap_seconds,
        settings.webhooks_max_attempts,
        timedelta(seconds=settings.webhooks_max_age_seconds),
    )
    store = webhook_store(parts)
    return Deliverer(
        store,
        feed_sources(parts.database) if sources is None else sources,
        HttpsPoster(settings.webhooks_ca_bundle, settings.webhooks_timeout_seconds),
        Signer(store, webhook_signing_key(settings.keys_dir)),
        access_log,
        PolicyDecisionPoint(PurposeRegister.load(settings.purpose_register)),
        backoff,
    )


def feed_sources(db: Database) -> list[FeedSource]:
    """The read models that serve a feed back to the parties (services/feeds/)."""
    return [model for model in read_models(db) if isinstance(model, FeedSource)]


def read_models(db: Database) -> list[ReadModel]:
    """Every read model of the radar, on one database: the projector keeps them all, a
    rebuild or an audit replay makes them anew."""
    engine = db.engine()
    with db.schema_lock():
        return [*read_models_on(engine, db.row_sealer(engine))]


def read_models_on(engine: Engine, sealer: RowSealer) -> list[HouseholdReadModel]:
    """Every read model on this engine, sealing under `sealer` (retention purges them all)."""
    return [
        TimelineStore(engine, sealer),
        WorklistStore(engine, sealer),
        SafetyStore(engine, sealer),
        LeadTimeStore(engine, sealer),
        ReferralStore(engine, sealer),
        HandleWithCareStore(engine, sealer),
        FeedbackStore(engine, sealer),
    ]


def access_review(
    settings: Settings,
    since: datetime | None,
    until: datetime | None,
    policy: ReviewPolicy,
) -> ReviewReport:
    """The privacy officer's review of the access log in a window, with the worklist of the
    same database telling which households had an alert."""
    db = Database.of(settings)
    with db.schema_lock():
        engine = db.engine()
        log = db.access_log(engine)
        worklist = WorklistStore(engine, db.row_sealer(engine))
    try:
        entries = log.entries(since, until)
        return review(entries, policy, lambda h: bool(worklist.household_alerts(h)), since, until)
    finally:
        engine.dispose()


def followers(settings: Settings) -> list[Follower]:
    """Everything the projector process keeps up to date, on one event store and one engine:
    the read models, the check-date reminders and the audit sealer."""
    require_keys(settings)
    parts = Parts(settings)
    models = read_models(parts.database)
    monitoring = next(m for m in models if isinstance(m, SafetyStore))
    projectors: list[Follower] = [
        Projector(parts.ledger, model, settings.projector_batch_events) for model in models
    ]
    audit_sealer = sealer(settings, parts=parts)
    metrics.PROJECTOR.watch(lambda: parts.ledger.notifications, models)
    if (newest := newest_sealed_at(parts.engine)) is not None:
        metrics.checkpoint_sealed(newest, counted=False)
    lead_times = next(m for m in models if isinstance(m, LeadTimeStore))
    reports = CheckReminders(parts.ledger, lead_times, remind=remind_due_reports)
    hwc = unacknowledged_notices(parts.ledger, models)
    return [*projectors, CheckReminders(parts.ledger, monitoring), reports, hwc, audit_sealer]


def sealer(
    settings: Settings, audit: AuditSettings | None = None, parts: Parts | None = None
) -> Sealer:
    """The sealer on the configured database, signing with the checkpoint key."""
    parts = parts or Parts(settings)
    audit = audit or AuditSettings()
    publisher = CheckpointPublisher(
        settings.kafka_bootstrap,
        audit.checkpoints_topic,
        audit.checkpoints_retention_days,
        audit.publish_timeout_seconds,
        replication_of(settings),
    )
    key = load_or_create_signing_key(checkpoint_key_path(settings))
    return Sealer(parts.ledger, parts.engine, key, publisher, audit)


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, for the long-running loops."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop
