"""The ingest API as a publisher meets it, in-process on the real broker and real databases.

Every answer is checked for what the publisher notices (status, body, headers) and for what it
did to the world: the records on the test's own Kafka topic and the rows of the receipts table.
Where nothing should change, both are checked to be unchanged (invariants 1, 2 and 8).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka.partitioner.default import murmur2

from contracts.bsn import passes_elfproef
from contracts.regions import VtRegion
from contracts.signal_v1 import SignalEventV1
from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole
from privacy.addresses import HomeAddress
from privacy.credentials import Audience, TokenAuthority
from privacy.pseudonyms import Pseudonymiser, PseudonymKeyring
from services.settings import Settings
from tests.support.ingest import (
    HOUR,
    PARTITIONS,
    POLICE,
    Background,
    TopicProbe,
    assert_nothing_changed,
    bearer,
    closed_port,
    identifiers_of,
    ingest_client,
    json_post,
    police_signals,
    police_token,
    receipts,
)

pytestmark = pytest.mark.integration

ANALYST = Analyst("ana-1", "veilig-thuis-utrecht", AnalystRole.TRIAGE, VtRegion.VT09)
HOUSEHOLD_KEY = re.compile(rb"^hh\.k1\.[0-9a-f]{32}$")
PERSON_PSEUDONYM = re.compile(r"^p\.k1\.[0-9a-f]{32}$")
READY_POLLS = 100  # of 0.1 s: the background connection to a broker on loopback
PRODUCER_THREAD = "radar-ingest-network-thread"  # kafka-python names it after the client id
INVALID_BSN = "123456789"  # nine digits, fails the elfproef


# --------------------------------------------------------------------------------- helpers


# ------------------------------------------------------------------------- one signal, ok


def test_valid_signal_is_accepted_once_keyed_by_household_without_identifiers(
    settings: Settings, kafka: TopicProbe
) -> None:
    authority = TokenAuthority(settings.keys_dir)
    (signal,) = police_signals(1)
    with ingest_client(settings) as client:
        answer = client.post("/v1/signals", json=signal, headers=police_token(authority))

    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "accepted"
    assert answer.json()["event_id"] == signal["event_id"]

    (record,) = kafka.records()
    assert HOUSEHOLD_KEY.match(record.key), record.key
    # the partition kafka-python's default partitioner picks for the key: a household's
    # records stay in the partition earlier ones went to
    assert record.partition == (murmur2(record.key) & 0x7FFFFFFF) % PARTITIONS
    event = SignalEventV1.model_validate_json(record.value)
    assert str(event.event_id) == signal["event_id"]
    assert (event.organisation, event.sector) == ("politie-utrecht", Sector.POLICE)
    assert event.signal_type == signal["signal_type"]
    assert event.household == record.key.decode()
    keyring = PseudonymKeyring.load_or_create(settings.pseudonym_keyring_path)
    address = HomeAddress.normalised(
        signal["household"]["postcode"], signal["household"]["house_number"]
    )
    assert event.household == Pseudonymiser(keyring).household(address)
    assert len(event.persons) == len(signal["persons"])
    assert all(PERSON_PSEUDONYM.match(p.pseudonym) for p in event.persons)
    raw = record.key + record.value + b"".join(value for _, value in record.headers)
    for identifier in identifiers_of(signal):
        assert identifier not in raw, f"plain identifier {identifier!r} on the topic"

    assert receipts(settings, [signal["event_id"]]) == {signal["event_id"]: "politie-utrecht"}


def test_resubmission_is_a_duplicate_and_a_reused_event_id_conflicts(
    settings: Settings, kafka: TopicProbe
) -> None:
    authority = TokenAuthority(settings.keys_dir)
    headers = police_token(authority)
    (signal,) = police_signals(1)
    with ingest_client(settings) as client:
        first = client.post("/v1/signals", json=signal, headers=headers)
        again = client.post("/v1/signals", json=signal, headers=headers)
        respelled = dict(signal, household=dict(signal["household"]))
        respelled["household"]["postcode"] = (
            signal["household"]["postcode"][:4] + " " + signal["household"]["postcode"][4:].lower()
        )
        same_home = client.post("/v1/signals", json=respelled, headers=headers)
        severity = "low" if signal["severity"] != "low" else "acute"
        changed = client.post("/v1/signals", json=dict(signal, severity=severity), headers=headers)

    assert first.status_code == 202, first.text
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "duplicate"
    assert same_home.status_code == 200, same_home.text
    assert same_home.json()["status"] == "duplicate"
    assert changed.status_code == 409, changed.text
    assert [e["field"] for e in changed.json()["errors"]] == ["event_id"]
    assert len(kafka.records()) == 1
    assert list(receipts(settings, [signal["event_id"]])) == [signal["event_id"]]


def test_reused_event_id_with_another_reported_at_conflicts(
    settings: Settings, kafka: TopicProbe
) -> None:
    authority = TokenAuthority(settings.keys_dir)
    headers = police_token(authority)
    (signal,) = police_signals(1)
    signal["reported_at"] = datetime.now(UTC).isoformat()
    earlier = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    with ingest_client(settings) as client:
        first = client.post("/v1/signals", json=signal, headers=headers)
        resent = dict(signal, reported_at=earlier)
        changed = client.post("/v1/signals", json=resent, headers=headers)

    assert first.status_code == 202, first.text
    assert len(kafka.records()) == 1
    assert changed.status_code == 409, changed.text
    assert [e["field"] for e in changed.json()["errors"]] == ["event_id"]


# ----------------------------------------------------------------------------------- batches


def test_batch_answers_every_signal_in_order_and_publishes_only_the_accepted(
    settings: Settings, kafka: TopicProbe
) -> None:
    authority = TokenAuthority(settings.keys_dir)
    valid_a, valid_b, *others = police_signals(8)
    assert not passes_elfproef(INVALID_BSN)
    bad_bsn = dict(others[0], persons=[{"bsn": INVALID_BSN, "role": "child"}])
    no_occurred_at = {k: v for k, v in others[1].items() if k != "occurred_at"}
    unknown_type = dict(others[2], signal_type="burglary")
    extra_field = dict(others[3], name="Jan Jansen")
    outside_sector = dict(others[4], signal_type="school_absence")
    conflicting = dict(valid_a, severity="low" if valid_a["severity"] != "low" else "acute")
    batch = [
        valid_a,
        bad_bsn,
        no_occurred_at,
        unknown_type,
        extra_field,
        outside_sector,
        valid_b,
        valid_a,
        conflicting,
    ]
    with ingest_client(settings) as client:
        answer = client.post(
            "/v1/signals/batch", json={"signals": batch}, headers=police_token(authority)
        )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    results = body["results"]
    assert [r["event_id"] for r in results] == [s["event_id"] for s in batch]
    assert [r["status"] for r in results] == [
        "accepted",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "accepted",
        "duplicate",
        "rejected",
    ]
    assert [[e["field"] for e in r["errors"]] for r in results] == [
        [],
        ["persons.0.bsn"],
        ["occurred_at"],
        ["signal_type"],
        ["name"],
        ["signal_type"],
        [],
        [],
        ["event_id"],
    ]
    assert INVALID_BSN not in answer.text
    assert (body["accepted"], body["duplicates"], body["rejected"], body["unavailable"]) == (
        2,
        1,
        6,
        0,
    )
    published = sorted(str(e.event_id) for e in kafka.events())
    assert published == sorted([valid_a["event_id"], valid_b["event_id"]])
    assert sorted(receipts(settings, published)) == published


def test_batch_limit_refuses_one_too_many_and_accepts_the_maximum(
    settings: Settings, kafka: TopicProbe
) -> None:
    authority = TokenAuthority(settings.keys_dir)
    headers = police_token(authority)
    maximum = settings.max_batch_signals
    assert maximum == 1000
    too_many = police_signals(maximum + 1, seed=11)
    full = police_signals(maximum, seed=12)
    with ingest_client(settings) as client:
        refused = client.post("/v1/signals/batch", json={"signals": too_many}, headers=headers)
        assert refused.status_code == 413, refused.text
        assert_nothing_changed(kafka, settings, "a batch over the limit")

        answer = client.post("/v1/signals/batch", json={"signals": full}, headers=headers)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["accepted"], body["duplicates"], body["rejected"], body["unavailable"]) == (
        maximum,
        0,
        0,
        0,
    )
    assert all(r["status"] == "accepted" for r in body["results"])
    sent = sorted(s["event_id"] for s in full)
    assert sorted(str(e.event_id) for e in kafka.events()) == sent
    assert sorted(receipts(settings, sent)) == sent


# ------------------------------------------------------------------ refusals change nothing


def test_invalid_signals_are_refused_naming_the_field_and_change_nothing(
    settings: Settings, kafka: TopicProbe
) -> None:
    authority = TokenAuthority(settings.keys_dir)
    headers = police_token(authority)
    (signal,) = police_signals(1)
    bad_bsn = dict(signal, persons=[{"bsn": INVALID_BSN, "role": "child"}])
    future = dict(signal, occurred_at=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    naive = dict(signal, occurred_at=(datetime.now(UTC) - HOUR).replace(tzinfo=None).isoformat())
    with ingest_client(settings) as client:
        answer = client.post("/v1/signals", json=bad_bsn, headers=headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "persons.0.bsn"
        assert INVALID_BSN not in answer.json()["errors"][0]["reason"]
        assert INVALID_BSN not in answer.text
        assert_nothing_changed(kafka, settings, "an invalid BSN")

        for what, submission in (("a future occurred_at", future), ("a naive datetime", naive)):
            answer = client.post("/v1/signals", json=submission, headers=headers)
            assert answer.status_code == 422, f"{what}: {answer.text}"
            assert [e["field"] for e in answer.json()["errors"]] == ["occurred_at"], what
            assert_nothing_changed(kafka, settings, what)

        answer = json_post(client, "/v1/signals", json.dumps(signal).encode()[:-7], headers)
        assert answer.status_code == 422, answer.text
        assert_nothing_changed(kafka, settings, "malformed JSON")

        body = json.dumps(signal).encode().replace(b'"severity"', b'"sev\xff\xfeity"')
        answer = json_post(client, "/v1/signals", body, headers)
        assert 400 <= answer.status_code < 500, answer.text
        assert_nothing_changed(kafka, settings, "invalid UTF-8")


def test_credentials_are_checked_before_anything_is_stored(
    settings: Settings, kafka: TopicProbe, tmp_path: Path
) -> None:
    authority = TokenAuthority(settings.keys_dir)
    stranger = TokenAuthority(tmp_path / "another-authority")
    (signal,) = police_signals(1)
    unauthenticated = {
        "no token": {},
        "a token of another authority": bearer(stranger.issue(POLICE, Audience.INGEST, HOUR)),
        "an expired token": bearer(authority.issue(POLICE, Audience.INGEST, -HOUR)),
        "a token for the query API": bearer(authority.issue(ANALYST, Audience.QUERY, HOUR)),
        "a token that is no JWT": bearer("not-a-jwt"),
    }
    with ingest_client(settings) as client:
        for what, headers in unauthenticated.items():
            answer = client.post("/v1/signals", json=signal, headers=headers)
            assert answer.status_code == 401, f"{what}: {answer.text}"
            assert answer.headers.get("WWW-Authenticate") == "Bearer", what
            assert_nothing_changed(kafka, settings, what)

        analyst = bearer(authority.issue(ANALYST, Audience.INGEST, HOUR))
        answer = client.post("/v1/signals", json=signal, headers=analyst)
        assert answer.status_code == 403, answer.text
        assert_nothing_changed(kafka, settings, "an analyst publishing")

        school_type = dict(signal, signal_type="school_absence")
        answer = client.post("/v1/signals", json=school_type, headers=police_token(authority))
        assert answer.status_code == 403, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["signal_type"]
        assert_nothing_changed(kafka, settings, "a type outside the sector")


def test_oversized_and_non_json_bodies_are_refused(settings: Settings, kafka: TopicProbe) -> None:
    authority = TokenAuthority(settings.keys_dir)
    headers = police_token(authority)
    (signal,) = police_signals(1)
    huge = json.dumps(dict(signal, padding="x" * (3 * 1024 * 1024))).encode()
    assert len(huge) > settings.max_body_bytes
    with ingest_client(settings) as client:
        answer = json_post(client, "/v1/signals", huge, headers)
        assert answer.status_code == 413, answer.text
        assert_nothing_changed(kafka, settings, "a 3 MB body")

        answer = client.post(
            "/v1/signals",
            content=json.dumps(signal).encode(),
            headers={**headers, "Content-Type": "text/plain"},
        )
        assert answer.status_code == 415, answer.text
        assert_nothing_changed(kafka, settings, "a text/plain body")


def test_chunked_body_over_the_limit_is_413(settings: Settings, kafka: TopicProbe) -> None:
    authority = TokenAuthority(settings.keys_dir)
    (signal,) = police_signals(1)
    huge = json.dumps(dict(signal, padding="x" * (3 * 1024 * 1024))).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(huge), 64 * 1024):
            yield huge[start : start + 64 * 1024]

    with ingest_client(settings) as client:
        answer = client.post(
            "/v1/signals",
            content=chunks(),
            headers={**police_token(authority), "Content-Type": "application/json"},
        )
    assert_nothing_changed(kafka, settings, "a chunked 3 MB body")
    assert answer.status_code == 413, answer.text


def test_too_long_house_number_addition_is_422(settings: Settings, kafka: TopicProbe) -> None:
    authority = TokenAuthority(settings.keys_dir)
    (signal,) = police_signals(1)
    signal["household"] = dict(signal["household"], addition="ABCDEFG")
    with ingest_client(settings) as client:
        answer = client.post("/v1/signals", json=signal, headers=police_token(authority))
    assert_nothing_changed(kafka, settings, "a 7-letter addition")
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["household.addition"]


def test_occurred_after_reported_names_the_field(settings: Settings, kafka: TopicProbe) -> None:
    authority = TokenAuthority(settings.keys_dir)
    (signal,) = police_signals(1)
    occurred = datetime.fromisoformat(signal["occurred_at"])
    signal["reported_at"] = (occurred - timedelta(days=1)).isoformat()
    with ingest_client(settings) as client:
        answer = client.post("/v1/signals", json=signal, headers=police_token(authority))
    assert answer.status_code == 422, answer.text
    assert_nothing_changed(kafka, settings, "reported before it occurred")
    fields = [e["field"] for e in answer.json()["errors"]]
    assert fields and set(fields) <= {"occurred_at", "reported_at"}, fields


# -------------------------------------------------------------------- Kafka not available


def test_unacknowledged_signals_are_503_and_leave_no_receipt(
    settings: Settings, kafka: TopicProbe
) -> None:
    """The broker is up but the (not auto-created) topic is missing: nothing is acknowledged."""
    authority = TokenAuthority(settings.keys_dir)
    headers = police_token(authority)
    first, second = police_signals(2)
    missing = settings.model_copy(
        update={"signals_topic": f"{settings.signals_topic}.missing", "kafka_timeout_seconds": 2.0}
    )
    with ingest_client(missing) as client:
        answer = client.post("/v1/signals", json=first, headers=headers)
        assert answer.status_code == 503, answer.text
        assert answer.headers.get("Retry-After"), answer.headers
        batch = client.post("/v1/signals/batch", json={"signals": [second]}, headers=headers)
        assert batch.status_code == 503, batch.text
        assert batch.headers.get("Retry-After"), batch.headers
        assert [r["status"] for r in batch.json()["results"]] == ["unavailable"]
        assert batch.json()["unavailable"] == 1
        assert client.get("/health/ready").status_code == 503
    assert_nothing_changed(kafka, settings, "an unacknowledged signal")

    with ingest_client(settings) as client:
        answer = client.post("/v1/signals", json=first, headers=headers)
        batch = client.post("/v1/signals/batch", json={"signals": [second]}, headers=headers)
    assert answer.status_code == 202, answer.text
    assert batch.json()["results"][0]["status"] == "accepted", batch.text
    assert sorted(str(e.event_id) for e in kafka.events()) == sorted(
        [first["event_id"], second["event_id"]]
    )


def test_unreachable_broker_is_503_promptly_and_leaves_no_receipt(
    settings: Settings, kafka: TopicProbe
) -> None:
    authority = TokenAuthority(settings.keys_dir)
    headers = police_token(authority)
    (signal,) = police_signals(1)
    unreachable = settings.model_copy(
        update={"kafka_bootstrap": f"127.0.0.1:{closed_port()}", "kafka_timeout_seconds": 2.0}
    )
    # Not context managers: a producer never connects, and a call that hangs must not hold up
    # the test (shutdown would wait for it); each app has its own publisher, so they run side
    # by side and the test waits a bounded time for both answers.
    posting, probing = ingest_client(unreachable), ingest_client(unreachable)
    deadline = time.monotonic() + 5 * unreachable.kafka_timeout_seconds
    post = Background(lambda: posting.post("/v1/signals", json=signal, headers=headers))
    ready = Background(lambda: probing.get("/health/ready"))

    answer = post.result(deadline, "POST with the broker unreachable")
    assert answer.status_code == 503, answer.text
    assert answer.headers.get("Retry-After"), answer.headers
    assert ready.result(deadline, "/health/ready").status_code == 503
    assert_nothing_changed(kafka, settings, "a signal while the broker was unreachable")

    with ingest_client(settings) as client:
        later = client.post("/v1/signals", json=signal, headers=headers)
    assert later.status_code == 202, later.text
    assert later.json()["status"] == "accepted"
    assert kafka.count() == 1


def test_an_ingest_stopped_at_once_leaves_no_kafka_producer_running(settings: Settings) -> None:
    # Stopped while its background connection was still being made, ingest used to leave
    # that producer open: its sender thread lived on (a process that restarts its app, or a
    # test run, collects them) and logged errors once the topic was gone.
    for _ in range(10):
        with ingest_client(settings):
            pass
    for _ in range(READY_POLLS):
        senders = [t for t in threading.enumerate() if t.name == PRODUCER_THREAD]
        if not senders:
            break
        time.sleep(0.1)
    assert senders == [], "a producer outlived the ingest app that made it"


def test_ready_and_live_when_the_broker_is_up(settings: Settings) -> None:
    with ingest_client(settings) as client:
        live = client.get("/health/live")
        # ingest connects to Kafka in the background from its start (503 + Retry-After until
        # then, never a refused connection): ready as soon as the broker answers
        for _ in range(READY_POLLS):
            ready = client.get("/health/ready")
            if ready.status_code != 503:
                break
            time.sleep(0.1)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"kafka": "up", "database": "up", "replicas": "in_sync"}
    assert live.status_code == 200, live.text
