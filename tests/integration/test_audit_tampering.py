"""Invariant 6 on SQLite and PostgreSQL: `radar audit verify` finds a changed byte, a removed,
an inserted and a reordered record in the event store and says where; the untouched store
verifies, also against the checkpoints the sealer published to the real Kafka broker; a
checkpoint signed with another key is rejected, in the database and on the topic."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kafka import KafkaProducer
from sqlalchemy import insert, update

from services.audit import service
from services.audit.checkpoint_topic import read_checkpoints
from services.audit.checkpoints import audit_checkpoints, new_checkpoint
from services.audit.sealing import Sealer, audit_event_chain, chain_head, store_id
from services.audit.settings import AuditSettings
from services.audit.verify import VerifyReport
from services.database import Database
from services.ledger.store import open_ledger
from services.settings import Settings
from tests.support.audit_helpers import Sealed, Tamperer


def _verify(settings: Settings, audit: AuditSettings, kafka: bool = True) -> VerifyReport:
    return service.verify_report(settings, use_kafka=kafka, work_file=None, audit=audit)


def _faults(report: VerifyReport) -> set[tuple[str, int, str]]:
    return {(f.log, f.at, f.kind) for f in report.faults}


def test_untouched_store_verifies_against_database_and_kafka_checkpoints(
    sealed: Sealed, settings: Settings, audit: AuditSettings
) -> None:
    report = _verify(settings, audit)
    assert report.intact, [f.line() for f in report.faults]
    assert report.event_store["records"] == sealed.records
    assert report.event_store["sealed_up_to"] == sealed.records
    # every 25 sealed records (sealed in batches of 10: at 30, 60, ...) and the final one
    assert sealed.checkpoints[:2] == [30, 60] and sealed.checkpoints[-1] == sealed.records
    assert report.event_store["checkpoints"] == len(sealed.checkpoints)
    assert report.event_store["checkpoints_on_kafka"] == len(sealed.checkpoints)


def test_changed_byte_is_found_at_its_notification(
    sealed: Sealed, settings: Settings, audit: AuditSettings
) -> None:
    Tamperer(Database.of(settings)).flip_byte(17)
    faults = _faults(_verify(settings, audit))
    assert ("event_store", 17, "changed") in faults
    assert ("event_store", sealed.covering(17), "checkpoint") in faults  # the signed one
    assert {at for _log, at, kind in faults if kind != "checkpoint"} == {17}


def test_removed_record_is_found_at_its_notification(
    sealed: Sealed, settings: Settings, audit: AuditSettings
) -> None:
    Tamperer(Database.of(settings)).delete(44)
    faults = _faults(_verify(settings, audit))
    assert ("event_store", 44, "removed") in faults
    assert ("event_store", sealed.covering(44), "checkpoint") in faults
    assert {at for _log, at, kind in faults if kind != "checkpoint"} == {44}


def test_inserted_record_is_found_where_it_was_slipped_in(
    sealed: Sealed, settings: Settings, audit: AuditSettings
) -> None:
    Tamperer(Database.of(settings)).insert_after(50)
    assert sealed.sealer.seal_batch() == 0  # the last record, pushed out, was sealed already
    report = _verify(settings, audit)
    faults = _faults(report)
    assert ("event_store", 51, "inserted") in faults
    shifted = next(f for f in report.faults if f.kind == "moved")
    assert shifted.at == 51 and f"{sealed.records - 50} sealed records" in shifted.detail
    assert "+1" in shifted.detail


def test_swapped_records_are_found_at_both_places(
    sealed: Sealed, settings: Settings, audit: AuditSettings
) -> None:
    Tamperer(Database.of(settings)).swap(5, 66)
    faults = _faults(_verify(settings, audit))
    assert ("event_store", 5, "swapped") in faults and ("event_store", 66, "swapped") in faults
    assert ("event_store", sealed.covering(5), "checkpoint") in faults
    assert ("event_store", sealed.covering(66), "checkpoint") in faults


def test_store_rewritten_with_its_seal_is_caught_by_the_signed_checkpoints(
    sealed: Sealed, settings: Settings, audit: AuditSettings
) -> None:
    """An attacker who also recomputes the seal table cannot recompute the signatures."""
    db = Database.of(settings)
    Tamperer(db).flip_byte(35)
    engine = db.engine()
    with engine.begin() as connection:
        connection.execute(
            audit_event_chain.delete().where(audit_event_chain.c.notification_id >= 35)
        )
    ledger = open_ledger(db)
    worker = Sealer(ledger, engine, Ed25519PrivateKey.generate(), None, audit)
    while worker.seal_batch():
        pass
    ledger.close()
    faults = _faults(_verify(settings, audit))
    assert ("event_store", sealed.covering(35), "checkpoint") in faults  # its stretch is named
    assert ("event_store", 35, "changed") not in faults  # the seal no longer knows the old bytes
    engine.dispose()


def test_checkpoint_signed_with_another_key_is_rejected(
    sealed: Sealed, settings: Settings, audit: AuditSettings
) -> None:
    db = Database.of(settings)
    engine = db.engine()
    with engine.connect() as connection:
        head = chain_head(connection)
    seq = len(sealed.checkpoints) + 1
    forged = new_checkpoint(
        Ed25519PrivateKey.generate(),
        store=store_id(engine),
        seq=seq,
        previous=None,
        notification_id=head.notification_id,
        records=head.ordinal,
        chain_hash=head.chain_hash,
        access_log_head=None,
        sealed_at=datetime.now(UTC),
    )
    with engine.begin() as connection:
        connection.execute(
            insert(audit_checkpoints).values(
                seq=seq,
                notification_id=forged.notification_id,
                body=forged.body,
                signature=forged.signature,
                previous="f" * 64,
            )
        )
    topic = audit.checkpoints_topic
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    producer.send(topic, key=forged.store.encode(), value=forged.message()).get(timeout=10)
    producer.close()
    report = _verify(settings, audit)
    rejected = [f for f in report.faults if f.kind == "signature"]
    assert len(rejected) == 2 and all(f.at == seq for f in rejected), report.faults
    assert all("rejected" in f.detail for f in rejected)
    # a genuine checkpoint altered in the database is rejected the same way
    with engine.begin() as connection:
        connection.execute(
            update(audit_checkpoints)
            .where(audit_checkpoints.c.seq == 2)
            .values(body=audit_checkpoints.c.body + " ")
        )
    assert ("checkpoints", 2, "signature") in _faults(_verify(settings, audit, kafka=False))
    engine.dispose()


def test_checkpoint_removed_from_the_database_is_found_on_kafka(
    sealed: Sealed, settings: Settings, audit: AuditSettings
) -> None:
    engine = Database.of(settings).engine()
    with engine.begin() as connection:
        connection.execute(audit_checkpoints.delete().where(audit_checkpoints.c.seq == 2))
    assert ("checkpoints", 2, "missing") in _faults(_verify(settings, audit))
    topic = audit.checkpoints_topic
    on_kafka = read_checkpoints(settings.kafka_bootstrap, topic, store_id(engine))
    assert [c.seq for c in on_kafka] == list(range(1, len(sealed.checkpoints) + 1))
    engine.dispose()
