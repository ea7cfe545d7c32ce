"""Pseudonymisation that holds up, end to end on the real broker and databases.

A family's identifiers are sealed by the publisher SDK, pseudonymised at ingest and kept only in
the identity vault. The pseudonymisation key is rotated while the radar runs: new signals carry
pseudonyms of the new key, yet the family stays one household and the child one person. Veilig
Thuis re-identifies the household through the vault for a purpose that allows it; any other
purpose is refused; both are logged, and another region's access is notified. Afterwards no
identifier is found in anything the radar wrote except the vault, which holds them encrypted.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from contracts.signal_v1 import SignalEventV1
from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.credentials import Audience, TokenAuthority
from publisher_sdk import PublisherClient
from services.database import Database
from services.settings import Settings
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
PARENT, CHILD, SIBLING = "111222333", "123456782", "999999990"  # synthetic, pass the elfproef
NEIGHBOUR = "908301662"
FAMILY_ADDRESS = {"postcode": "3511 AB", "house_number": 12, "addition": "bis"}
NEIGHBOUR_ADDRESS = {"postcode": "3511AB", "house_number": 14}
IDENTIFIERS = [PARENT, CHILD, SIBLING, NEIGHBOUR, "3511AB", "3511 AB"]
JUSTIFICATION = "Gezin is verhuisd naar onze regio; contact nodig voor veiligheidsplan."


def _signal(kind: str, days_ago: int, address: dict[str, Any], *bsns: str) -> dict[str, Any]:
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


def _token(authority: TokenAuthority, role: AnalystRole, region: str = "VT09") -> str:
    analyst = Analyst(f"{role}-1", "vt-utrecht", role, region)  # type: ignore[arg-type]
    return authority.issue(analyst, Audience.QUERY, HOUR)


def _post(url: str, token: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_rotation_keeps_one_family_and_the_vault_reidentifies_it_only_for_allowed_purposes(
    settings: Settings, database: Database
) -> None:
    strict = settings.model_copy(update={"allow_plain_identifiers": False})
    authority = TokenAuthority(strict.keys_dir)
    police = authority.issue(
        Publisher("sys-politie", "politie-midden-nederland", Sector.POLICE), Audience.INGEST, HOUR
    )
    triage = _token(authority, AnalystRole.TRIAGE)
    before = [
        _signal("zorgmelding", 30, FAMILY_ADDRESS, PARENT, CHILD),
        _signal("domestic_incident", 20, FAMILY_ADDRESS, PARENT, CHILD),
    ]
    after = [
        _signal("domestic_incident", 3, FAMILY_ADDRESS, PARENT, CHILD, SIBLING),
        _signal("zorgmelding", 2, NEIGHBOUR_ADDRESS, NEIGHBOUR),
    ]

    with running_radar(strict) as radar:
        timeline_url = f"{radar.query_url}/v1/households/timeline"

        def family_timeline() -> dict[str, Any]:
            answer = _post(timeline_url, triage, {"address": FAMILY_ADDRESS, "purpose": "triage"})
            assert answer.status_code == 200, answer.text
            body: dict[str, Any] = answer.json()
            return body

        with PublisherClient(radar.ingest_url, police) as client:  # seals by default
            assert {r.status for r in client.publish(before)} == {"accepted"}
        wait_for(lambda: len(family_timeline()["signals"]) == 2, 30, "signals before rotation")
        household = family_timeline()["household"]

        rotation = run_radar(strict, "admin", "rotate-pseudonym-key", timeout=60)
        assert rotation.returncode == 0 and rotation.stdout.strip() == "k2", rotation.stderr

        with PublisherClient(radar.ingest_url, police) as client:
            assert {r.status for r in client.publish(after)} == {"accepted"}
        wait_for(lambda: len(family_timeline()["signals"]) == 3, 30, "signals after rotation")

        # one household, one child: the rotation split nobody
        timeline = family_timeline()
        assert timeline["household"] == household and household.startswith("hh.k1.")
        children = {
            p["pseudonym"]
            for s in timeline["signals"]
            for p in s["persons"]
            if p["role"] == "child"
        }
        child, sibling = sorted(children, key=lambda p: p.startswith("p.k2."))
        assert child.startswith("p.k1.") and sibling.startswith("p.k2.")
        assert all(child in {p["pseudonym"] for p in s["persons"]} for s in timeline["signals"]), (
            "the child is one person before and after the rotation"
        )

        # re-identification: allowed for triage, refused for monitoring, logged either way
        identity_url = f"{radar.query_url}/v1/households/{household}/identity"
        found = _post(identity_url, triage, {"purpose": "triage"})
        assert found.status_code == 200, found.text
        assert found.json()["address"] == {
            "postcode": "3511AB",
            "house_number": 12,
            "addition": "BIS",
        }
        assert {p["bsn"] for p in found.json()["persons"]} == {PARENT, CHILD, SIBLING}
        by_pseudonym = {p["pseudonym"]: p["bsn"] for p in found.json()["persons"]}
        assert by_pseudonym[child] == CHILD and by_pseudonym[sibling] == SIBLING

        monitoring = _token(authority, AnalystRole.MONITORING)
        refused = _post(identity_url, monitoring, {"purpose": "monitoring"})
        assert refused.status_code == 403, refused.text
        assert CHILD not in refused.text

        elsewhere = _token(authority, AnalystRole.TRIAGE, region="VT13")
        assert _post(identity_url, elsewhere, {"purpose": "triage"}).status_code == 403
        across = _post(
            identity_url, elsewhere, {"purpose": "triage", "justification": JUSTIFICATION}
        )
        assert across.status_code == 200, across.text

    log = database.access_log(database.engine())
    identity_entries = [e.payload for e in log.entries() if e.payload.get("resource") == "identity"]
    assert [(e["purpose"], e["outcome"], e["actor"]["region"]) for e in identity_entries] == [
        ("triage", "permit", "VT09"),
        ("monitoring", "deny", "VT09"),
        ("triage", "deny", "VT13"),
        ("triage", "permit", "VT13"),
    ]
    assert all(e["subject"] == household for e in identity_entries)
    assert identity_entries[0]["fields"] == ["address", "persons.bsn"]
    notices = log.notices("VT09")
    assert [(n["household"], n["accessor_region"]) for n in notices] == [(household, "VT13")]

    # on the topic: new pseudonyms after the rotation, linked to the first ones (re-keying)
    records = topic_records(strict.kafka_bootstrap, strict.signals_topic)
    events = {
        str(e.event_id): (e, r.key)
        for r in records
        for e in [SignalEventV1.model_validate_json(r.value)]
    }
    rekeyed, key = events[after[0]["event_id"]]
    assert rekeyed.household.startswith("hh.k2.") and rekeyed.pseudonym_key_id == "k2"
    assert key == household.encode(), "kept in the household's partition"
    assert {(link.kind, link.known_as) for link in rekeyed.known_as} == {
        ("household", household),
        ("person", child),
        ("person", rekeyed.canonical().persons[0].pseudonym),
    }
    neighbour, _ = events[after[1]["event_id"]]
    assert neighbour.household.startswith("hh.k2.") and neighbour.known_as == ()

    # in the event store: one household with all three signals, and the re-keying event
    recorded = recorded_signals(database)
    assert set(recorded[household]) == {s["event_id"] for s in [*before, after[0]]}
    assert rekeyed.household not in recorded
    assert b"PseudonymsRekeyed" in database_bytes(database)

    # no identifier anywhere the radar wrote, except encrypted in the vault
    on_topic = b"\n".join(r.value + (r.key or b"") for r in records)
    assert identifiers_found(on_topic, IDENTIFIERS) == []
    assert identifiers_found(database_bytes(database), IDENTIFIERS) == []
    assert identifiers_found(files_bytes(strict.data_dir), IDENTIFIERS) == []
    vault = Database(strict.resolved_vault_url)
    assert identifiers_found(database_bytes(vault), [PARENT, CHILD, SIBLING, NEIGHBOUR]) == []
    assert b"vault_identities" in database_bytes(vault)
