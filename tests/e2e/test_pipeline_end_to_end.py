"""End to end on the real broker and real databases: signals from police, a school and a GGZ
provider go in through the ingest API and come out, in order, in the household's timeline;
afterwards no identifier is found anywhere the radar wrote. The same holds when the SDK seals
the identifiers to the radar's key and the radar takes sealed identifiers only."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from contracts.signal_v1 import SignalEventV1
from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.addresses import HomeAddress
from privacy.credentials import Audience, TokenAuthority
from privacy.pseudonyms import Pseudonymiser, PseudonymKeyring
from publisher_sdk import PublisherClient
from services.database import Database
from services.settings import Settings
from services.signals.identifiers import PLAIN_REFUSED
from services.timelines.store import TIMELINE_PROJECTION
from testkit.processes import run_radar, running_radar
from tests.support.inspection import (
    database_bytes,
    files_bytes,
    identifiers_found,
    recorded_signals,
    topic_records,
    wait_for,
)

HOUR = timedelta(hours=1)
FAMILY_BSNS = ("111222333", "123456782", "999999990")  # synthetic, pass the elfproef
NEIGHBOUR_BSN = "908301662"
FAMILY_ADDRESS = {"postcode": "3511 AB", "house_number": 12, "addition": "bis"}
NEIGHBOUR_ADDRESS = {"postcode": "3511AB", "house_number": 14}


def _signal(
    kind: str, days_ago: int, address: dict[str, Any], bsns: tuple[str, ...]
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "signal_type": kind,
        "severity": "high",
        "occurred_at": (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(),
        "region": "VT09",
        "household": address,
        "persons": [
            {"bsn": bsn, "role": "child" if i else "parent_or_carer"} for i, bsn in enumerate(bsns)
        ],
    }


def _publisher_token(authority: TokenAuthority, organisation: str, sector: Sector) -> str:
    return authority.issue(
        Publisher(f"sys-{organisation}", organisation, sector), Audience.INGEST, HOUR
    )


def _confidential_doctor_token(authority: TokenAuthority) -> str:
    return authority.issue(
        Analyst("vertrouwensarts-1", "vt-utrecht", AnalystRole.CONFIDENTIAL_DOCTOR, "VT09"),  # type: ignore[arg-type]
        Audience.QUERY,
        HOUR,
    )


def _medical_review_timeline(
    query_url: str, analyst: str, address: dict[str, Any]
) -> list[dict[str, Any]]:
    """A household's timeline as the confidential doctor reads it, by address."""
    answer = httpx.post(
        f"{query_url}/v1/households/timeline",
        json={"address": address, "purpose": "medical_review"},
        headers={"Authorization": f"Bearer {analyst}"},
    )
    assert answer.status_code == 200, answer.text
    signals: list[dict[str, Any]] = answer.json()["signals"]
    return signals


def _log_lines(settings: Settings, service: str) -> list[dict[str, Any]]:
    path = settings.logs_dir / f"{service}.log"
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def _followed_request(settings: Settings, request_id: str) -> dict[str, int]:
    """Where an operator follows one ingest request: the aggregator's line naming its id, with
    the event-store positions its events got, and the projector's timeline line past them."""
    recorded = [
        int(line["positions"].split("-")[0])
        for line in _log_lines(settings, "aggregator")
        if line["event"] == "signals recorded" and request_id in line["request_ids"]
    ]
    assert recorded, f"no aggregator line names request {request_id}"
    advanced = [
        line["position"]
        for line in _log_lines(settings, "projector")
        if line["event"] == "read model advanced" and line["read_model"] == TIMELINE_PROJECTION
    ]
    assert advanced, "no projector line for the timeline"
    return {"recorded from": recorded[0], "timeline advanced to": max(advanced)}


def test_signals_from_three_sectors_meet_in_one_timeline(
    settings: Settings, database: Database
) -> None:
    authority = TokenAuthority(settings.keys_dir)
    police = _publisher_token(authority, "politie-midden-nederland", Sector.POLICE)
    school = _publisher_token(authority, "obs-de-regenboog", Sector.EDUCATION)
    ggz = _publisher_token(authority, "ggz-centraal", Sector.MENTAL_HEALTH)
    analyst = _confidential_doctor_token(authority)
    # Sent out of occurred-at order on purpose: the timeline must sort them.
    family_signals = [
        (school, _signal("school_absence", 3, FAMILY_ADDRESS, FAMILY_BSNS[1:])),
        (police, _signal("zorgmelding", 20, FAMILY_ADDRESS, FAMILY_BSNS)),
        (ggz, _signal("kindcheck_concern", 10, FAMILY_ADDRESS, FAMILY_BSNS[:2])),
    ]
    neighbour_signal = _signal("domestic_incident", 5, NEIGHBOUR_ADDRESS, (NEIGHBOUR_BSN,))

    with running_radar(settings) as radar:
        for token, signal in family_signals:
            answer = httpx.post(
                f"{radar.ingest_url}/v1/signals",
                json=signal,
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 202, answer.text
            assert answer.json()["status"] == "accepted"
        batch = httpx.post(
            f"{radar.ingest_url}/v1/signals/batch",
            json={"signals": [neighbour_signal]},
            headers={"Authorization": f"Bearer {police}"},
        )
        assert batch.status_code == 200 and batch.json()["accepted"] == 1, batch.text
        assert "server" not in batch.headers  # API-53: no server software named
        assert batch.headers["API-Version"] == "1.3.0"

        def timeline(address: dict[str, Any]) -> list[dict[str, Any]]:
            return _medical_review_timeline(radar.query_url, analyst, address)

        wait_for(lambda: len(timeline(FAMILY_ADDRESS)) == 3, 30, "three signals in the timeline")
        family = timeline(FAMILY_ADDRESS)
        assert [s["signal_type"] for s in family] == [
            "zorgmelding",
            "kindcheck_concern",
            "school_absence",
        ]
        assert [s["sector"] for s in family] == ["police", "mental_health", "education"]
        assert {s["signal_id"] for s in family} == {s["event_id"] for _, s in family_signals}
        assert neighbour_signal["event_id"] not in {s["signal_id"] for s in family}
        wait_for(lambda: len(timeline(NEIGHBOUR_ADDRESS)) == 1, 30, "the neighbour's signal")
        followed = _followed_request(settings, batch.headers["X-Request-ID"])
        assert followed["timeline advanced to"] >= followed["recorded from"], followed

        household = httpx.post(
            f"{radar.query_url}/v1/households/timeline",
            json={"address": FAMILY_ADDRESS, "purpose": "medical_review"},
            headers={"Authorization": f"Bearer {analyst}"},
        ).json()["household"]
        by_pseudonym = httpx.get(
            f"{radar.query_url}/v1/households/{household}/timeline",
            params={"purpose": "medical_review"},
            headers={"Authorization": f"Bearer {analyst}"},
        )
        assert by_pseudonym.status_code == 200
        assert by_pseudonym.json()["signals"] == family

        no_purpose = httpx.get(
            f"{radar.query_url}/v1/households/{household}/timeline",
            headers={"Authorization": f"Bearer {analyst}"},
        )
        assert no_purpose.status_code == 403
        assert no_purpose.json()["detail"] == "no purpose stated"
        assert "signals" not in no_purpose.json()
        wrong_purpose = httpx.get(
            f"{radar.query_url}/v1/households/{household}/timeline",
            params={"purpose": "monitoring"},  # not granted to the confidential doctor
            headers={"Authorization": f"Bearer {analyst}"},
        )
        assert wrong_purpose.status_code == 403
        anonymous = httpx.get(
            f"{radar.query_url}/v1/households/{household}/timeline",
            params={"purpose": "medical_review"},
        )
        assert anonymous.status_code == 401
        publisher_asking = httpx.get(
            f"{radar.query_url}/v1/households/{household}/timeline",
            params={"purpose": "medical_review"},
            headers={"Authorization": f"Bearer {police}"},  # a token for the ingest audience
        )
        assert publisher_asking.status_code == 401

    identifiers = [*FAMILY_BSNS, NEIGHBOUR_BSN, "3511AB", "3511 AB"]
    records = topic_records(settings.kafka_bootstrap, settings.signals_topic)
    assert len(records) == 4
    on_topic = b"\n".join(r.value + (r.key or b"") for r in records)
    assert identifiers_found(on_topic, identifiers) == []
    assert identifiers_found(database_bytes(database), identifiers) == []
    logs = files_bytes(settings.data_dir)
    assert b"signals submitted" in logs  # the services did log, and nothing identifying
    assert identifiers_found(logs, identifiers) == []
    # the query process's request lines name the path, never the household or a person
    key_version = household.rsplit(".", 1)[0].encode()
    assert b"/v1/households/" + key_version + b".***/timeline" in logs
    persons = {p["pseudonym"] for s in family for p in s.get("persons", [])}
    for pseudonym in {household, *persons}:
        assert pseudonym.encode() not in logs and pseudonym.split(".")[2].encode() not in logs


def test_identifiers_sealed_by_the_sdk_are_pseudonymised_and_leave_no_trace(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    strict = settings.model_copy(update={"allow_plain_identifiers": False})
    authority = TokenAuthority(strict.keys_dir)
    police = _publisher_token(authority, "politie-midden-nederland", Sector.POLICE)
    analyst = _confidential_doctor_token(authority)
    family = [
        _signal("zorgmelding", 20, FAMILY_ADDRESS, FAMILY_BSNS),
        _signal("domestic_incident", 4, FAMILY_ADDRESS, FAMILY_BSNS[:2]),
    ]
    neighbour = _signal("domestic_incident", 5, NEIGHBOUR_ADDRESS, (NEIGHBOUR_BSN,))

    with running_radar(strict) as radar:
        with PublisherClient(radar.ingest_url, police) as client:  # seals by default
            results = client.publish(family)
        assert [r.status for r in results] == ["accepted"] * 2, results
        signals_file = tmp_path / "signals.jsonl"
        signals_file.write_text(json.dumps(neighbour) + "\n", encoding="utf-8")
        (tmp_path / "publisher.token").write_text(police, encoding="utf-8")
        cli = run_radar(
            strict,
            *("publish", str(signals_file)),
            *("--url", radar.ingest_url, "--token-file", str(tmp_path / "publisher.token")),
            timeout=60,
        )
        assert cli.returncode == 0 and "1 accepted" in cli.stdout, cli.stdout + cli.stderr
        with PublisherClient(radar.ingest_url, police, seal_identifiers=False) as client:
            (plain,) = client.publish([_signal("zorgmelding", 1, FAMILY_ADDRESS, FAMILY_BSNS)])
        assert plain.status == "rejected"
        assert {e["field"] for e in plain.errors} == {"household", "persons.0.bsn",
                                                     "persons.1.bsn", "persons.2.bsn"}  # fmt: skip
        assert {e["reason"] for e in plain.errors} == {PLAIN_REFUSED}

        def family_timeline() -> list[dict[str, Any]]:
            return _medical_review_timeline(radar.query_url, analyst, FAMILY_ADDRESS)

        wait_for(lambda: len(family_timeline()) == 2, 30, "the sealed signals in the timeline")
        assert {s["signal_id"] for s in family_timeline()} == {s["event_id"] for s in family}

    # the pseudonyms are those the identifiers in clear give
    pseudonymiser = Pseudonymiser(PseudonymKeyring.load_or_create(strict.pseudonym_keyring_path))
    family_household = pseudonymiser.household(
        HomeAddress.normalised(FAMILY_ADDRESS["postcode"], 12, FAMILY_ADDRESS["addition"])
    )
    records = topic_records(strict.kafka_bootstrap, strict.signals_topic)
    events = {
        str(e.event_id): e for e in (SignalEventV1.model_validate_json(r.value) for r in records)
    }
    assert set(events) == {s["event_id"] for s in [*family, neighbour]}
    first = events[family[0]["event_id"]]
    assert first.household == family_household
    assert [p.pseudonym for p in first.persons] == [pseudonymiser.person(b) for b in FAMILY_BSNS]
    assert set(recorded_signals(database)[family_household]) == {s["event_id"] for s in family}

    identifiers = [*FAMILY_BSNS, NEIGHBOUR_BSN, "3511AB", "3511 AB"]
    on_topic = b"\n".join(r.value + (r.key or b"") for r in records)
    assert identifiers_found(on_topic, identifiers) == []
    assert identifiers_found(database_bytes(database), identifiers) == []
    logs = files_bytes(strict.data_dir)
    assert b"signals submitted" in logs
    assert identifiers_found(logs, identifiers) == []
