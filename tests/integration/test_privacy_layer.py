"""The privacy layer through the query API on a real database: the authorisation matrix from
the register, credentials, one access-log entry per request, break-glass, notices, tampering."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.credentials import Audience, TokenAuthority
from privacy.disclosure import MEMBERSHIP_FIELDS
from privacy.purposes import PERSON_FIELDS, PurposeRegister, Resource
from privacy.storage.revocations import RevocationList
from services.database import Database
from tests.support.inspection import PROBLEM_MEMBERS, wait_for
from tests.support.privacy_fixtures import (
    HOME_REGION,
    HOUSEHOLD,
    HOUSEHOLD_ELSEWHERE,
    OTHER_REGION,
    QueryHarness,
    query_harness,
)

REGISTER = PurposeRegister.load()
JUSTIFICATION = "Acute danger reported by police tonight; children in the home."


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[QueryHarness]:
    yield from query_harness(tmp_path, database)


# One GET endpoint per resource: the matrix calls each for every role and purpose.
READ_ENDPOINTS = {
    Resource.HOUSEHOLD_TIMELINE: f"/v1/households/{HOUSEHOLD}/timeline",
    Resource.ACCESS_LOG: "/v1/access-log",
    Resource.BREAK_GLASS_REVIEWS: "/v1/break-glass",
    Resource.ACCESS_NOTICES: "/v1/notices",
}


def _call(harness: QueryHarness, resource: Resource, purpose: str, headers: dict[str, str]) -> Any:
    return harness.client.get(
        READ_ENDPOINTS[resource], params={"purpose": purpose}, headers=headers
    )


def test_authorisation_matrix_follows_the_register(harness: QueryHarness) -> None:
    """Every role x purpose x endpoint: permitted exactly when the register says so, and every
    request, permitted or denied, leaves exactly one access-log entry."""
    for role in AnalystRole:
        headers = harness.headers(role)
        for name, purpose in REGISTER.purposes.items():
            for resource in READ_ENDPOINTS:
                before = harness.access_log.count()
                answer = _call(harness, resource, name, headers)
                expected = role in purpose.roles and resource in purpose.resources
                assert answer.status_code == (200 if expected else 403), (role, name, resource)
                assert harness.access_log.count() == before + 1, (role, name, resource)
                if not expected:
                    assert set(answer.json()) == PROBLEM_MEMBERS  # a reason, no data
    assert harness.access_log.verify() == []


def test_timeline_shows_only_sectors_fields_and_period_of_the_purpose(
    harness: QueryHarness,
) -> None:
    for name, purpose in REGISTER.purposes.items():
        if Resource.HOUSEHOLD_TIMELINE not in purpose.resources:
            continue
        role = sorted(purpose.roles)[0]
        answer = harness.client.get(
            f"/v1/households/{HOUSEHOLD}/timeline",
            params={"purpose": name},
            headers=harness.headers(role),
        )
        assert answer.status_code == 200
        body = answer.json()
        expected = [
            e
            for e in harness.entries
            if e.household == HOUSEHOLD
            and e.sector in purpose.sectors
            and (harness.entries[0].occurred_at < e.occurred_at or purpose.lookback_days > 1500)
        ]
        assert len(body["signals"]) == len(expected), name
        shown = purpose.fields | (MEMBERSHIP_FIELDS if "persons" in purpose.fields else set())
        for signal in body["signals"]:
            assert set(signal) <= shown, name
            # own signals: no member (a person's fields are per person)
            assert set(signal) == shown - {"via", "earlier_address"} - PERSON_FIELDS
            if "forms_of_violence" in purpose.fields:  # a v1 signal names no form
                assert signal["forms_of_violence"] == [], name
            for person in signal.get("persons", []):  # a v1 person: their one role, no age
                expected_person = {"pseudonym", "role"} | ({"roles"} & purpose.fields)
                assert set(person) == expected_person, name
                assert person.get("roles", [person["role"]]) == [person["role"]], name
        assert body["fields"] == sorted(purpose.fields)


def test_mental_health_details_only_for_the_confidential_doctor(harness: QueryHarness) -> None:
    def sectors(role: AnalystRole, purpose: str) -> set[str]:
        answer = harness.client.get(
            f"/v1/households/{HOUSEHOLD}/timeline",
            params={"purpose": purpose},
            headers=harness.headers(role),
        )
        assert answer.status_code == 200
        return {s["sector"] for s in answer.json()["signals"]}

    assert "mental_health" not in sectors(AnalystRole.TRIAGE, "triage")
    assert "mental_health" in sectors(AnalystRole.CONFIDENTIAL_DOCTOR, "medical_review")


def test_a_school_sees_nothing_of_a_timeline(harness: QueryHarness) -> None:
    for name in REGISTER.purposes:
        answer = _call(
            harness, Resource.HOUSEHOLD_TIMELINE, name, harness.headers(AnalystRole.SCHOOL)
        )
        assert answer.status_code == 403


def test_missing_and_unknown_purposes_are_refused_with_a_reason(harness: QueryHarness) -> None:
    headers = harness.headers(AnalystRole.TRIAGE)
    missing = harness.client.get(f"/v1/households/{HOUSEHOLD}/timeline", headers=headers)
    assert missing.status_code == 403 and missing.json()["detail"] == "no purpose stated"
    unknown = harness.client.get(
        f"/v1/households/{HOUSEHOLD}/timeline", params={"purpose": "marketing"}, headers=headers
    )
    assert unknown.status_code == 403 and unknown.json()["detail"] == "unknown purpose"


def test_other_region_needs_a_justification_and_notifies_the_owning_region(
    harness: QueryHarness,
) -> None:
    headers = harness.headers(AnalystRole.TRIAGE, HOME_REGION)
    refused = harness.client.get(
        f"/v1/households/{HOUSEHOLD_ELSEWHERE}/timeline",
        params={"purpose": "triage"},
        headers=headers,
    )
    assert refused.status_code == 403
    assert "justification" in refused.json()["detail"]
    allowed = harness.client.post(
        "/v1/households/timeline",
        json={
            "household": HOUSEHOLD_ELSEWHERE,
            "purpose": "triage",
            "justification": "Family moved here last week; earlier reports are in their region.",
        },
        headers=headers,
    )
    assert allowed.status_code == 200 and allowed.json()["access"] == "cross_region"
    owning = harness.client.get(
        "/v1/notices",
        params={"purpose": "triage"},
        headers=harness.headers(AnalystRole.TRIAGE, OTHER_REGION),
    )
    (notice,) = owning.json()["notices"]
    assert notice["household"] == HOUSEHOLD_ELSEWHERE
    assert notice["kind"] == "cross_region" and notice["accessor_region"] == HOME_REGION
    own = harness.client.get("/v1/notices", params={"purpose": "triage"}, headers=headers)
    assert own.json()["notices"] == []


def test_break_glass_needs_a_justification_is_queued_reviewed_and_notified(
    harness: QueryHarness,
) -> None:
    headers = harness.headers(AnalystRole.TRIAGE, HOME_REGION)
    request = {"household": HOUSEHOLD_ELSEWHERE, "purpose": "triage", "break_glass": True}
    refused = harness.client.post("/v1/households/timeline", json=request, headers=headers)
    assert refused.status_code == 403 and "justification" in refused.json()["detail"]
    # Break-glass lifts region and period limits, never the purpose's roles.
    other_role = harness.client.post(
        "/v1/households/timeline",
        json={**request, "justification": JUSTIFICATION},
        headers=harness.headers(AnalystRole.MONITORING, HOME_REGION),
    )
    assert other_role.status_code == 403 and "not even with break-glass" in other_role.text
    opened = harness.client.post(
        "/v1/households/timeline", json={**request, "justification": JUSTIFICATION}, headers=headers
    )
    assert opened.status_code == 200 and opened.json()["access"] == "break_glass"
    assert opened.json()["signals"]

    officer = harness.headers(AnalystRole.PRIVACY_OFFICER)
    queue = harness.client.get(
        "/v1/break-glass", params={"purpose": "accountability"}, headers=officer
    )
    (waiting,) = queue.json()["accesses"]
    assert waiting["justification"] == JUSTIFICATION and waiting["review"] is None
    notices = harness.client.get(
        "/v1/notices",
        params={"purpose": "triage"},
        headers=harness.headers(AnalystRole.TRIAGE, OTHER_REGION),
    ).json()["notices"]
    assert [n["kind"] for n in notices] == ["break_glass"]

    review = {"purpose": "accountability", "outcome": "justified", "note": "Police confirmed."}
    reviewed = harness.client.post(
        f"/v1/break-glass/{waiting['access_seq']}/review", json=review, headers=officer
    )
    assert reviewed.status_code == 200 and reviewed.json()["review"]["outcome"] == "justified"
    again = harness.client.post(
        f"/v1/break-glass/{waiting['access_seq']}/review", json=review, headers=officer
    )
    assert again.status_code == 409
    open_queue = harness.client.get(
        "/v1/break-glass", params={"purpose": "accountability"}, headers=officer
    )
    assert open_queue.json()["accesses"] == []
    analyst_reviewing = harness.client.post(
        f"/v1/break-glass/{waiting['access_seq']}/review", json=review, headers=headers
    )
    assert analyst_reviewing.status_code == 403


def test_justification_with_an_identifier_is_refused_and_not_stored(harness: QueryHarness) -> None:
    answer = harness.client.post(
        "/v1/households/timeline",
        json={
            "household": HOUSEHOLD_ELSEWHERE,
            "purpose": "triage",
            "justification": "Mother with BSN 111222333 called us about the children",
        },
        headers=harness.headers(AnalystRole.TRIAGE),
    )
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "justification"
    assert all("111222333" not in str(e.payload) for e in harness.access_log.entries())


@pytest.mark.parametrize(
    "problem", ["none", "expired", "other_key", "revoked", "other_audience", "publisher", "garbage"]
)
def test_bad_credentials_are_refused(harness: QueryHarness, tmp_path: Path, problem: str) -> None:
    analyst = Analyst("user-1", "vt", AnalystRole.TRIAGE, HOME_REGION)  # type: ignore[arg-type]
    tokens = {
        "expired": harness.authority.issue(analyst, Audience.QUERY, timedelta(seconds=-120)),
        "other_key": TokenAuthority(tmp_path / "elsewhere").issue(
            analyst, Audience.QUERY, timedelta(hours=1)
        ),
        "revoked": harness.authority.issue(analyst, Audience.QUERY, timedelta(hours=1)),
        "other_audience": harness.authority.issue(analyst, Audience.INGEST, timedelta(hours=1)),
        "publisher": harness.authority.issue(
            Publisher("sys", "politie", "police"),  # type: ignore[arg-type]
            Audience.QUERY,
            timedelta(hours=1),
        ),
        "garbage": "not.a.token",
    }
    headers = {} if problem == "none" else {"Authorization": f"Bearer {tokens[problem]}"}
    url = f"/v1/households/{HOUSEHOLD}/timeline"
    if problem == "revoked":
        ok = harness.client.get(url, params={"purpose": "triage"}, headers=headers)
        assert ok.status_code == 200
        from privacy.credentials import token_id

        RevocationList(harness.access_log.engine).revoke(token_id(tokens["revoked"]), "lost laptop")
        wait_for(
            lambda: (
                harness.client.get(url, params={"purpose": "triage"}, headers=headers).status_code
                == 401
            ),
            10,
            "the revocation to take effect",
        )
        return
    before = harness.access_log.count()
    answer = harness.client.get(url, params={"purpose": "triage"}, headers=headers)
    assert answer.status_code == (403 if problem == "publisher" else 401)
    assert "signals" not in answer.json()
    if problem == "publisher":
        assert harness.access_log.count() == before  # refused before any endpoint ran


def test_tampering_with_the_access_log_is_found_and_located(harness: QueryHarness) -> None:
    for _ in range(6):
        _call(harness, Resource.HOUSEHOLD_TIMELINE, "triage", harness.headers(AnalystRole.TRIAGE))
    log = harness.access_log
    assert log.verify() == []
    engine = log.engine
    with engine.begin() as connection:  # change one entry's content
        connection.execute(
            text("update access_log set payload = replace(payload, 'permit', 'deny') where seq = 3")
        )
    assert [(f.seq, f.problem) for f in log.verify()] == [(3, "content changed")]
    with engine.begin() as connection:
        connection.execute(
            text("update access_log set payload = replace(payload, 'deny', 'permit') where seq = 3")
        )
    assert log.verify() == []
    with engine.begin() as connection:  # remove an entry
        connection.execute(text("delete from access_log where seq = 4"))
    faults = log.verify()
    assert faults and faults[0].seq == 5 and "missing" in faults[0].problem


def test_swapped_entries_are_found(harness: QueryHarness) -> None:
    for number in range(4):
        token = harness.token(AnalystRole.TRIAGE, subject=f"user-{number}")
        _call(harness, Resource.HOUSEHOLD_TIMELINE, "triage", {"Authorization": f"Bearer {token}"})
    log = harness.access_log
    with log.engine.begin() as connection:  # swap the contents of entries 2 and 3
        rows = {
            row.seq: row
            for row in connection.execute(
                text("select seq, payload, recorded_at from access_log where seq in (2, 3)")
            )
        }
        for seq, other in ((2, 3), (3, 2)):
            connection.execute(
                text("update access_log set payload = :p where seq = :s"),
                {"p": rows[other].payload, "s": seq},
            )
    assert {f.seq for f in log.verify()} == {2, 3}


def test_register_versions_are_recorded_when_adopted(harness: QueryHarness) -> None:
    log = harness.access_log
    adopted = [e for e in log.entries() if e.kind == "register_adopted"]
    assert [e.payload["version"] for e in adopted] == [REGISTER.version]
    log.adopt_register(REGISTER)  # the same version again: nothing new
    narrowed = REGISTER.model_copy(
        update={
            "version": REGISTER.version + 1,
            "purposes": {k: v for k, v in REGISTER.purposes.items() if k != "monitoring"},
        }
    )
    log.adopt_register(narrowed)
    adopted = [e for e in log.entries() if e.kind == "register_adopted"]
    assert [e.payload["version"] for e in adopted] == [REGISTER.version, REGISTER.version + 1]
    assert "monitoring" not in adopted[-1].payload["register"]["purposes"]
    assert log.verify() == []
