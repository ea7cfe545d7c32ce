"""End to end on the real broker and real databases: signals from police, a school and a GGZ
provider go in through the ingest API and come out, in order, in the household's timeline;
afterwards no identifier is found anywhere the radar wrote."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.credentials import Audience, TokenAuthority
from services.database import Database
from services.settings import Settings
from tests.inspection import (
    database_bytes,
    files_bytes,
    identifiers_found,
    topic_records,
    wait_for,
)
from tests.processes import running_radar

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


def test_signals_from_three_sectors_meet_in_one_timeline(
    settings: Settings, database: Database
) -> None:
    authority = TokenAuthority(settings.keys_dir)
    police = _publisher_token(authority, "politie-midden-nederland", Sector.POLICE)
    school = _publisher_token(authority, "obs-de-regenboog", Sector.EDUCATION)
    ggz = _publisher_token(authority, "ggz-centraal", Sector.MENTAL_HEALTH)
    analyst = authority.issue(
        Analyst("vertrouwensarts-1", "vt-utrecht", AnalystRole.CONFIDENTIAL_DOCTOR, "VT09"),  # type: ignore[arg-type]
        Audience.QUERY,
        HOUR,
    )
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

        def timeline(address: dict[str, Any]) -> list[dict[str, Any]]:
            answer = httpx.post(
                f"{radar.query_url}/v1/households/timeline",
                json={"address": address, "purpose": "medical_review"},
                headers={"Authorization": f"Bearer {analyst}"},
            )
            assert answer.status_code == 200, answer.text
            signals: list[dict[str, Any]] = answer.json()["signals"]
            return signals

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
