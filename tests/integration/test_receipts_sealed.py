"""The ingest receipts and the identity vault on SQLite and PostgreSQL hold no signal id, no
pseudonym and no unkeyed hash of a signal (issue 24 item 5: deleted rows live on in pg_wal,
replicas and backups), yet a re-sent signal is still a duplicate, a reused event id still a
conflict, a correction is still keyed by its household and the vault still re-identifies.
Receipts written the old way (ids and pseudonyms as they are) are migrated in place and keep
answering the same."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, DateTime, MetaData, String, Table, insert

from contracts.correction_v1 import CorrectionKind, SignalCorrectionV1
from contracts.signal_v1 import SignalEventV1
from contracts.vocabulary import Sector
from privacy.addresses import HomeAddress
from privacy.credentials import TokenAuthority
from privacy.storage.vault import vault_identities
from services import bootstrap
from services.database import Database
from services.settings import Settings
from services.signals.receipt_format import metadata as receipt_tables
from services.signals.schemas import CORRECTION_SUBMISSIONS
from services.signals.store import content_hash, correction_receipts, ingest_receipts
from tests.support.ingest import (
    POLICE,
    TopicProbe,
    identifiers_of,
    ingest_client,
    police_signals,
    police_token,
)
from tests.support.inspection import database_bytes, identifiers_found, tables_bytes
from tests.support.schema_versions import upgraded_from_before_schema_versions

RADAR_TIMES = {"received_at", "reported_at"}  # the synthetic signals give no reported-at
REASON = "severity was entered against the wrong report"


@pytest.fixture
def one_database(settings: Settings, database: Database) -> Settings:
    """The test's settings with the vault in the radar database (so both are parametrised)."""
    return settings.model_copy(update={"vault_url": database.url})


def _rows(database: Database, tables: Iterable[Table]) -> bytes:
    """Every value of every row of the tables, as raw bytes."""
    engine = database.engine()
    try:
        return b"\n".join(tables_bytes(engine, [table.name for table in tables]))
    finally:
        engine.dispose()


def _in_clear(event: SignalEventV1) -> set[str]:
    """What a stored receipt or vault row must not show of an accepted signal."""
    return {
        str(event.event_id),
        event.household,
        *(p.pseudonym for p in event.persons),
        content_hash(event.canonical(), RADAR_TIMES),
    }


def _correct(
    client: TestClient, headers: dict[str, str], event_id: str, body: dict[str, Any]
) -> httpx.Response:
    return client.post(f"/v1/signals/{event_id}/correction", json=body, headers=headers)


def _elsewhere(signal: dict[str, Any]) -> dict[str, Any]:
    """The same signal about another home."""
    household = dict(signal["household"], house_number=signal["household"]["house_number"] + 1)
    return dict(signal, household=household)


def test_no_receipt_or_vault_row_shows_a_signal_id_or_pseudonym_and_both_still_answer(
    one_database: Settings, database: Database, kafka: TopicProbe
) -> None:
    settings = one_database
    headers = police_token(TokenAuthority(settings.keys_dir))
    signals = police_signals(6)
    first = signals[0]
    correction = {"correction_id": str(uuid.uuid4()), "severity": "low", "reason": REASON}
    with ingest_client(settings) as client:
        batch = client.post("/v1/signals/batch", json={"signals": signals}, headers=headers)
        again = client.post("/v1/signals", json=first, headers=headers)
        severity = "low" if first["severity"] != "low" else "acute"
        changed = client.post("/v1/signals", json=dict(first, severity=severity), headers=headers)
        moved = client.post("/v1/signals", json=_elsewhere(first), headers=headers)
        corrected = _correct(client, headers, first["event_id"], correction)
        corrected_again = _correct(client, headers, first["event_id"], correction)
        reused = _correct(client, headers, first["event_id"], {**correction, "severity": "high"})

    assert batch.status_code == 200, batch.text
    assert {r["status"] for r in batch.json()["results"]} == {"accepted"}
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert changed.status_code == 409 and changed.json()["errors"][0]["field"] == "event_id"
    assert moved.status_code == 409, "an event id reused for another household conflicts"
    assert (corrected.status_code, corrected.json()["status"]) == (202, "accepted")
    assert (corrected_again.status_code, corrected_again.json()["status"]) == (200, "duplicate")
    assert reused.status_code == 409 and reused.json()["errors"][0]["field"] == "correction_id"

    records = kafka.records()
    events = [e for e in (_signal_or_none(r.value) for r in records) if e is not None]
    assert sorted(str(e.event_id) for e in events) == sorted(s["event_id"] for s in signals)
    by_id = {str(e.event_id): e for e in events}
    (correction_record,) = [r for r in records if _signal_or_none(r.value) is None]
    assert correction_record.key == by_id[first["event_id"]].household.encode()

    stored = _rows(database, [ingest_receipts, correction_receipts, vault_identities])
    never = {correction["correction_id"]}.union(*(_in_clear(e) for e in events))
    assert identifiers_found(stored, never) == []
    identifiers = [i.decode() for s in signals for i in identifiers_of(s)]
    assert identifiers_found(stored, identifiers) == []

    vault = bootstrap.identity_vault(settings)
    for signal in signals:
        event = by_id[signal["event_id"]]
        identity = vault.household_identity(event.household)
        assert identity is not None and identity.household == event.household
        home = signal["household"]
        assert identity.address == HomeAddress.normalised(home["postcode"], home["house_number"])
        for person, submitted in zip(event.persons, signal["persons"], strict=True):
            assert identity.persons[person.pseudonym] == submitted["bsn"]
            assert vault.person_bsn(person.pseudonym) == submitted["bsn"]
            assert vault.first_known_person([person.pseudonym]) == person.pseudonym


def _signal_or_none(value: bytes) -> SignalEventV1 | None:
    try:
        return SignalEventV1.model_validate_json(value)
    except ValueError:
        return None


# --- receipts written the old way ------------------------------------------------------------


def _legacy_receipts(database: Database) -> tuple[Table, Table]:
    """The receipts tables as format 1 made them: ids, pseudonyms and content hashes as they
    are (the new tables, empty but for the first signal, are dropped first)."""
    engine = database.engine()
    receipt_tables.drop_all(engine)
    legacy = MetaData()
    receipts = Table(
        "ingest_receipts",
        legacy,
        Column("event_id", String(36), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("organisation", String(64), nullable=False),
        Column("accepted_at", DateTime(timezone=True), nullable=False),
        Column("household", String(64)),
    )
    corrections = Table(
        "ingest_correction_receipts",
        legacy,
        Column("correction_id", String(36), primary_key=True),
        Column("corrects", String(36), nullable=False, index=True),
        Column("kind", String(16), nullable=False),
        Column("fingerprint", String(64), nullable=False),
        Column("accepted_at", DateTime(timezone=True), nullable=False),
    )
    legacy.create_all(engine)
    engine.dispose()
    return receipts, corrections


def _old_correction(event: SignalEventV1, raw: dict[str, Any]) -> SignalCorrectionV1:
    """The correction as the ingest made it of `raw` (what format 1 hashed)."""
    submission = CORRECTION_SUBMISSIONS[CorrectionKind.CORRECTION].model_validate(raw)
    return SignalCorrectionV1(
        correction_id=submission.correction_id,
        corrects=event.event_id,
        kind=CorrectionKind.CORRECTION,
        values=submission.values(),
        reason=submission.reason,
        organisation=POLICE.organisation,
        sector=Sector.POLICE,
        received_at=datetime.now(UTC),
        household=event.household,
    )


def test_receipts_written_the_old_way_still_answer_after_the_migration(
    one_database: Settings, database: Database, kafka: TopicProbe
) -> None:
    settings = one_database
    headers = police_token(TokenAuthority(settings.keys_dir))
    signal, legacy_signal = police_signals(2)
    with ingest_client(settings) as client:  # the vault holds the household, as it did then
        assert client.post("/v1/signals", json=signal, headers=headers).status_code == 202
    (event,) = kafka.events()
    earlier = {"correction_id": str(uuid.uuid4()), "severity": "moderate", "reason": REASON}
    old = _old_correction(event, earlier)

    receipts, corrections = _legacy_receipts(database)
    now = datetime.now(UTC)
    engine = database.engine()
    with engine.begin() as connection:
        connection.execute(
            insert(receipts),
            [
                {
                    "event_id": str(event.event_id),
                    "fingerprint": content_hash(event.canonical(), RADAR_TIMES),
                    "organisation": POLICE.organisation,
                    "accepted_at": now,
                    "household": event.household,
                },
                {  # accepted before corrections existed: no household
                    "event_id": legacy_signal["event_id"],
                    "fingerprint": "0" * 64,
                    "organisation": POLICE.organisation,
                    "accepted_at": now,
                    "household": None,
                },
            ],
        )
        connection.execute(
            insert(corrections).values(
                correction_id=earlier["correction_id"],
                corrects=str(event.event_id),
                kind=CorrectionKind.CORRECTION,
                fingerprint=content_hash(old, {"received_at"}),
                accepted_at=now,
            )
        )
    engine.dispose()
    # as that release left it; the operator's upgrade adds the table of formats, and columns
    upgraded_from_before_schema_versions(database)

    fresh = {"correction_id": str(uuid.uuid4()), "severity": "low", "reason": REASON}
    lowered, another = {"severity": "low"}, {"correction_id": str(uuid.uuid4())}
    with ingest_client(settings) as client:  # opens the receipts: migrates them
        again = client.post("/v1/signals", json=signal, headers=headers)
        severity = "low" if signal["severity"] != "low" else "acute"
        changed = client.post("/v1/signals", json=dict(signal, severity=severity), headers=headers)
        moved = client.post("/v1/signals", json=_elsewhere(signal), headers=headers)
        earlier_again = _correct(client, headers, signal["event_id"], earlier)
        earlier_changed = _correct(client, headers, signal["event_id"], earlier | lowered)
        corrected = _correct(client, headers, signal["event_id"], fresh)
        legacy = _correct(client, headers, legacy_signal["event_id"], fresh | another)
    with ingest_client(settings) as client:  # a second start migrates nothing again
        still = client.post("/v1/signals", json=signal, headers=headers)

    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert changed.status_code == 409 and changed.json()["errors"][0]["field"] == "event_id"
    assert moved.status_code == 409, moved.text
    assert (earlier_again.status_code, earlier_again.json()["status"]) == (200, "duplicate")
    assert earlier_changed.status_code == 409, earlier_changed.text
    assert (corrected.status_code, corrected.json()["status"]) == (202, "accepted")
    assert legacy.status_code == 409 and "before corrections" in legacy.json()["detail"]
    assert (still.status_code, still.json()["status"]) == (200, "duplicate")
    (correction_record,) = [r for r in kafka.records() if _signal_or_none(r.value) is None]
    assert correction_record.key == event.household.encode(), "keyed by its sealed household"

    stored = _rows(database, [ingest_receipts, correction_receipts])
    never = _in_clear(event) | {legacy_signal["event_id"], earlier["correction_id"]}
    assert identifiers_found(stored, never) == []
    if database.is_sqlite:  # nor in the file's free pages or its write-ahead log
        assert identifiers_found(database_bytes(database), never) == []
