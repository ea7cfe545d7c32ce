"""Invariant 6 on SQLite and PostgreSQL: `radar audit verify` finds a changed byte, a removed,
an inserted and a reordered record in the event store and says where; the untouched store
verifies, also against the checkpoints published on Kafka; a checkpoint signed with another key
is rejected."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kafka import KafkaProducer
from sqlalchemy import insert, update

from services.audit import service, verify
from services.audit.checkpoint_topic import read_checkpoints
from services.audit.checkpoints import audit_checkpoints, new_checkpoint
from services.audit.hooks import sealer
from services.audit.sealing import Sealer, audit_event_chain, chain_head, store_id
from services.audit.verify import VerifyReport, stored_checkpoints
from services.database import Database
from services.event_store import open_ledger
from services.settings import Settings
from tests.audit_helpers import Tamperer, household, record, signal

HOUSEHOLDS = 12
BATCHES = 5


@dataclass
class Sealed:
    """A sealed store: how many records it holds and where its checkpoints are."""

    sealer: Sealer
    records: int
    checkpoints: list[int]  # notification ids, in order

    def covering(self, nid: int) -> int:
        """The first checkpoint whose chain includes record `nid`."""
        return next(c for c in self.checkpoints if c >= nid)


@pytest.fixture
def sealed(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Sealed]:
    """A store of a few hundred records (what the domain records for 60 signals), sealed, with
    a checkpoint every 25 records, published to a topic of the test's own."""
    monkeypatch.setenv("RADAR_AUDIT_CHECKPOINTS_TOPIC", f"test.audit.{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("RADAR_AUDIT_CHECKPOINT_EVERY_RECORDS", "25")
    monkeypatch.setenv("RADAR_AUDIT_SEAL_BATCH_RECORDS", "10")
    ledger = open_ledger(database)
    for offset in range(BATCHES):
        record(ledger, [signal(household(n)) for n in range(HOUSEHOLDS)], offset)
    records = ledger.recorder.max_notification_id() or 0
    ledger.close()
    assert records >= 72  # 12 households opened, 60 signals, and whatever the domain adds
    worker = sealer(settings)
    assert worker.catch_up() == records
    engine = database.engine()
    checkpoints = [c.notification_id for c in stored_checkpoints(engine)]
    engine.dispose()
    yield Sealed(worker, records, checkpoints)
    worker.close()


def _verify(settings: Settings, kafka: bool = True) -> VerifyReport:
    return service.verify_report(settings, use_kafka=kafka, work_file=None)


def _faults(report: VerifyReport) -> set[tuple[str, int, str]]:
    return {(f.log, f.at, f.kind) for f in report.faults}


def test_untouched_store_verifies_against_database_and_kafka_checkpoints(
    sealed: Sealed, settings: Settings
) -> None:
    report = _verify(settings)
    assert report.intact, [f.line() for f in report.faults]
    assert report.event_store["records"] == sealed.records
    assert report.event_store["sealed_up_to"] == sealed.records
    # every 25 sealed records (sealed in batches of 10: at 30, 60, ...) and the final one
    assert sealed.checkpoints[:2] == [30, 60] and sealed.checkpoints[-1] == sealed.records
    assert report.event_store["checkpoints"] == len(sealed.checkpoints)
    assert report.event_store["checkpoints_on_kafka"] == len(sealed.checkpoints)


def test_changed_byte_is_found_at_its_notification(sealed: Sealed, settings: Settings) -> None:
    Tamperer(Database(settings.resolved_database_url)).flip_byte(17)
    faults = _faults(_verify(settings))
    assert ("event_store", 17, "changed") in faults
    assert ("event_store", sealed.covering(17), "checkpoint") in faults  # the signed one
    assert {at for _log, at, kind in faults if kind != "checkpoint"} == {17}


def test_removed_record_is_found_at_its_notification(sealed: Sealed, settings: Settings) -> None:
    Tamperer(Database(settings.resolved_database_url)).delete(44)
    faults = _faults(_verify(settings))
    assert ("event_store", 44, "removed") in faults
    assert ("event_store", sealed.covering(44), "checkpoint") in faults
    assert {at for _log, at, kind in faults if kind != "checkpoint"} == {44}


def test_inserted_record_is_found_where_it_was_slipped_in(
    sealed: Sealed, settings: Settings
) -> None:
    Tamperer(Database(settings.resolved_database_url)).insert_after(50)
    assert sealed.sealer.seal_batch() == 0  # the last record, pushed out, was sealed already
    report = _verify(settings)
    faults = _faults(report)
    assert ("event_store", 51, "inserted") in faults
    shifted = next(f for f in report.faults if f.kind == "moved")
    assert shifted.at == 51 and f"{sealed.records - 50} sealed records" in shifted.detail
    assert "+1" in shifted.detail


def test_swapped_records_are_found_at_both_places(sealed: Sealed, settings: Settings) -> None:
    Tamperer(Database(settings.resolved_database_url)).swap(5, 66)
    faults = _faults(_verify(settings))
    assert ("event_store", 5, "swapped") in faults and ("event_store", 66, "swapped") in faults
    assert ("event_store", sealed.covering(5), "checkpoint") in faults
    assert ("event_store", sealed.covering(66), "checkpoint") in faults


def test_store_rewritten_with_its_seal_is_caught_by_the_signed_checkpoints(
    sealed: Sealed, settings: Settings
) -> None:
    """An attacker who also recomputes the seal table cannot recompute the signatures."""
    db = Database(settings.resolved_database_url)
    Tamperer(db).flip_byte(35)
    engine = db.engine()
    with engine.begin() as connection:
        connection.execute(
            audit_event_chain.delete().where(audit_event_chain.c.notification_id >= 35)
        )
    ledger = open_ledger(db)
    worker = Sealer(ledger, engine, Ed25519PrivateKey.generate(), None, service.AuditSettings())
    while worker.seal_batch():
        pass
    ledger.close()
    faults = _faults(_verify(settings))
    assert ("event_store", sealed.covering(35), "checkpoint") in faults  # its stretch is named
    assert ("event_store", 35, "changed") not in faults  # the seal no longer knows the old bytes
    engine.dispose()


def test_checkpoint_signed_with_another_key_is_rejected(sealed: Sealed, settings: Settings) -> None:
    db = Database(settings.resolved_database_url)
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
    topic = service.AuditSettings().checkpoints_topic
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    producer.send(topic, key=forged.store.encode(), value=forged.message()).get(timeout=10)
    producer.close()
    report = _verify(settings)
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
    assert ("checkpoints", 2, "signature") in _faults(_verify(settings, kafka=False))
    engine.dispose()


def test_checkpoint_removed_from_the_database_is_found_on_kafka(
    sealed: Sealed, settings: Settings
) -> None:
    engine = Database(settings.resolved_database_url).engine()
    with engine.begin() as connection:
        connection.execute(audit_checkpoints.delete().where(audit_checkpoints.c.seq == 2))
    assert ("checkpoints", 2, "missing") in _faults(_verify(settings))
    topic = service.AuditSettings().checkpoints_topic
    on_kafka = read_checkpoints(settings.kafka_bootstrap, topic, store_id(engine))
    assert [c.seq for c in on_kafka] == list(range(1, len(sealed.checkpoints) + 1))
    engine.dispose()


def test_interrupted_verification_resumes_where_it_stopped(
    sealed: Sealed, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    Tamperer(Database(settings.resolved_database_url)).delete(9)
    monkeypatch.setattr(verify, "WINDOW", 20)
    work_file = service.verify_work_file(settings)
    saves: list[int] = []
    real_save = service.workfiles.save

    def interrupting_save(path, state):  # type: ignore[no-untyped-def]
        real_save(path, state)
        saves.append(state["state"]["position"])
        if len(saves) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(service.workfiles, "save", interrupting_save)
    with pytest.raises(KeyboardInterrupt):
        service.verify_report(settings, use_kafka=False, work_file=work_file)
    assert saves == [20, 40] and work_file.exists()
    monkeypatch.setattr(service.workfiles, "save", real_save)
    resumed = service.verify_report(settings, use_kafka=False, work_file=work_file, resume=True)
    assert ("event_store", 9, "removed") in _faults(resumed)
    assert not work_file.exists() and work_file.with_name("verify-last.json").exists()
