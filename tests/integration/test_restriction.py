"""Restriction of processing (AVG art. 18) through the query API on SQLite and PostgreSQL:
ordinary purposes are refused while a subject is restricted and allowed again after lifting,
the legal-claims and subject-request purposes see it throughout, a restricted person's signals
are withheld from a household's timeline, and the compliance check replays it all from the
access log."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from privacy.actors import AnalystRole
from privacy.addresses import HomeAddress
from privacy.policy import RESTRICTED_REASON
from privacy.purposes import PurposeRegister
from privacy.storage.access_log import EntryKind
from privacy.storage.vault import Identity
from services import bootstrap
from services.audit.compliance import check_access, redecide
from services.database import Database
from services.settings import Settings
from tests.support.privacy_fixtures import HOUSEHOLD, QueryHarness, query_harness

PARENT = "p.k1." + "d" * 32
SIBLING = "p.k1." + "e" * 32
REASON = "Betrokkene betwist de juistheid van de signalen (art. 18 lid 1 sub a)."
PO = AnalystRole.PRIVACY_OFFICER


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[QueryHarness]:
    yield from query_harness(tmp_path, database)


def _restrict(harness: QueryHarness, subject: str, reason: str = REASON) -> Any:
    return harness.client.post(
        "/v1/restrictions",
        json={"subject": subject, "reason": reason, "purpose": "accountability"},
        headers=harness.headers(PO),
    )


def _lift(harness: QueryHarness, restriction_id: str) -> Any:
    return harness.client.post(
        f"/v1/restrictions/{restriction_id}/lift",
        json={"purpose": "accountability"},
        headers=harness.headers(PO),
    )


def _timeline(harness: QueryHarness, purpose: str, role: AnalystRole) -> Any:
    return harness.client.get(
        f"/v1/households/{HOUSEHOLD}/timeline",
        params={"purpose": purpose},
        headers=harness.headers(role),
    )


def _ordinary_reads(harness: QueryHarness) -> dict[str, int]:
    """Timeline, worklist detail and re-identification for triage: their status codes."""
    headers = harness.headers(AnalystRole.TRIAGE)
    return {
        "timeline": _timeline(harness, "triage", AnalystRole.TRIAGE).status_code,
        "risk": harness.client.get(
            f"/v1/households/{HOUSEHOLD}/risk", params={"purpose": "triage"}, headers=headers
        ).status_code,
        "identity": harness.client.post(
            f"/v1/households/{HOUSEHOLD}/identity", json={"purpose": "triage"}, headers=headers
        ).status_code,
    }


def test_a_restricted_household_is_refused_for_ordinary_purposes_until_lifted(
    harness: QueryHarness,
) -> None:
    before = _ordinary_reads(harness)
    assert before == {"timeline": 200, "risk": 200, "identity": 404}  # the vault is empty here

    placed = _restrict(harness, HOUSEHOLD)
    assert placed.status_code == 201, placed.text
    restriction = placed.json()
    assert restriction["active"] and restriction["subject_kind"] == "household"

    count = harness.access_log.count()
    assert _ordinary_reads(harness) == {"timeline": 403, "risk": 403, "identity": 403}
    refused = harness.access_log.entries()[count:]
    assert len(refused) == 3  # one entry per request, each a deny with the reason
    assert all(e.payload["outcome"] == "deny" for e in refused)
    assert {e.payload["reason"] for e in refused} == {RESTRICTED_REASON}
    assert _timeline(harness, "triage", AnalystRole.TRIAGE).json()["detail"] == RESTRICTED_REASON
    ordinary = {
        "monitoring": AnalystRole.MONITORING,
        "medical_review": AnalystRole.CONFIDENTIAL_DOCTOR,
    }
    for purpose, role in ordinary.items():  # every ordinary purpose, not just triage
        assert _timeline(harness, purpose, role).status_code == 403

    for purpose in ("legal_claims", "subject_request"):
        allowed = _timeline(harness, purpose, PO)
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["signals"]
    identity = harness.client.post(
        f"/v1/households/{HOUSEHOLD}/identity",
        json={"purpose": "legal_claims"},
        headers=harness.headers(PO),
    )
    assert identity.status_code == 404  # permitted by the policy; the vault holds nobody

    lifted = _lift(harness, restriction["restriction_id"])
    assert lifted.status_code == 200, lifted.text
    assert not lifted.json()["active"] and lifted.json()["lifted_by"] == "user-1"
    assert _ordinary_reads(harness) == before
    assert _lift(harness, restriction["restriction_id"]).status_code == 409
    assert _lift(harness, "0" * 8 + "-0000-0000-0000-" + "0" * 12).status_code == 404

    kinds = [e.kind for e in harness.access_log.entries()]
    assert kinds.count(EntryKind.RESTRICTION_PLACED) == 1
    assert kinds.count(EntryKind.RESTRICTION_LIFTED) == 1
    listed = harness.client.get(
        "/v1/restrictions", params={"purpose": "accountability"}, headers=harness.headers(PO)
    ).json()["restrictions"]
    assert [r["restriction_id"] for r in listed] == [restriction["restriction_id"]]


def test_only_the_privacy_officer_for_accountability_restricts(harness: QueryHarness) -> None:
    triage = harness.client.post(
        "/v1/restrictions",
        json={"subject": HOUSEHOLD, "reason": REASON, "purpose": "triage"},
        headers=harness.headers(AnalystRole.TRIAGE),
    )
    assert triage.status_code == 403
    as_officer_of_another_purpose = harness.client.post(
        "/v1/restrictions",
        json={"subject": HOUSEHOLD, "reason": REASON, "purpose": "legal_claims"},
        headers=harness.headers(PO),
    )
    assert as_officer_of_another_purpose.status_code == 403
    assert _timeline(harness, "triage", AnalystRole.TRIAGE).status_code == 200


def test_a_restriction_reason_with_a_bsn_is_refused_and_not_stored(
    harness: QueryHarness,
) -> None:
    bsn = "111222333"  # synthetic, passes the elfproef
    count = harness.access_log.count()
    refused = _restrict(harness, HOUSEHOLD, f"Verzoek van betrokkene met BSN {bsn}")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "reason"
    entries = harness.access_log.entries()[count:]
    assert [(e.kind, e.payload["outcome"]) for e in entries] == [(EntryKind.ACCESS, "deny")]
    assert all(bsn not in str(e.payload) for e in harness.access_log.entries())
    assert _timeline(harness, "triage", AnalystRole.TRIAGE).status_code == 200  # not restricted


def test_a_restricted_person_is_withheld_from_a_household_timeline(harness: QueryHarness) -> None:
    store = harness.store
    base = harness.entries[1]
    naming = [
        dataclasses.replace(base, signal_id=uuid.UUID(int=n + 1), position=100 + n, persons=persons)
        for n, persons in enumerate(
            [((PARENT, "parent"),), ((PARENT, "parent"), (SIBLING, "child")), ((SIBLING, "child"),)]
        )
    ]
    store.apply(naming, expected=store.position(), new_position=store.position() + len(naming))
    shown = _timeline(harness, "triage", AnalystRole.TRIAGE).json()
    assert "withheld" not in shown
    everything = len(shown["signals"])

    restriction = _restrict(harness, PARENT).json()
    assert restriction["subject_kind"] == "person"
    restricted_view = _timeline(harness, "triage", AnalystRole.TRIAGE).json()
    assert restricted_view["withheld"] == 2
    assert len(restricted_view["signals"]) == everything - 2
    assert all(
        PARENT not in {p["pseudonym"] for p in s["persons"]} for s in restricted_view["signals"]
    )
    for_claims = _timeline(harness, "legal_claims", PO).json()
    assert "withheld" not in for_claims
    assert any(PARENT in {p["pseudonym"] for p in s["persons"]} for s in for_claims["signals"])

    _lift(harness, restriction["restriction_id"])
    assert len(_timeline(harness, "triage", AnalystRole.TRIAGE).json()["signals"]) == everything


def test_a_restricted_person_is_not_re_identified_for_ordinary_purposes(
    harness: QueryHarness, database: Database, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database.url)
    address = HomeAddress.normalised("3511 AB", 12)
    members = ((PARENT, "111222333"), (SIBLING, "123456782"))  # synthetic, pass the elfproef
    keys = bootstrap.pseudonyms(settings).pseudonymiser()
    bootstrap.identity_vault(settings).deposit([Identity(HOUSEHOLD, address, members)], keys)

    def identity(purpose: str, role: AnalystRole) -> dict[str, str]:
        response = harness.client.post(
            f"/v1/households/{HOUSEHOLD}/identity",
            json={"purpose": purpose},
            headers=harness.headers(role),
        )
        assert response.status_code == 200, response.text
        return {p["pseudonym"]: p["bsn"] for p in response.json()["persons"]}

    assert identity("triage", AnalystRole.TRIAGE) == dict(members)
    _restrict(harness, PARENT)
    assert identity("triage", AnalystRole.TRIAGE) == {SIBLING: "123456782"}
    assert identity("subject_request", PO) == dict(members)


def test_the_compliance_check_replays_restrictions_from_the_access_log(
    harness: QueryHarness, database: Database
) -> None:
    """Before, during and after a restriction every logged decision is the one the policy of
    the time gives, with the restriction state replayed from the same chain."""
    _timeline(harness, "triage", AnalystRole.TRIAGE)
    restriction = _restrict(harness, HOUSEHOLD).json()
    _timeline(harness, "triage", AnalystRole.TRIAGE)
    _timeline(harness, "legal_claims", PO)
    _lift(harness, restriction["restriction_id"])
    _timeline(harness, "triage", AnalystRole.TRIAGE)

    report = check_access(database.access_log(database.engine()))
    assert report.lawful, report.unlawful
    assert report.refused_though_allowed == []
    assert report.accesses_checked == 6  # the timeline reads, the placing and the lifting

    accesses = [e for e in harness.access_log.entries() if e.kind == EntryKind.ACCESS]
    after = accesses[-1]
    assert after.payload["outcome"] == "permit"
    register = harness.access_log.latest_register()
    assert register is not None
    # The same permit while the household was restricted would have been unlawful.
    in_force = PurposeRegister.model_validate(register.payload["register"])
    assert redecide(after, in_force).permitted
    assert not redecide(after, in_force, restricted=True).permitted


def test_registers_adopted_before_restrictions_keep_their_fingerprint() -> None:
    """A purpose without restricted_access serialises as it did before the field existed, so
    the fingerprints of register versions already adopted in a log still verify."""
    register = PurposeRegister.load()
    ordinary = {n: p for n, p in register.purposes.items() if not p.restricted_access}
    earlier = PurposeRegister(version=2, purposes=ordinary)
    assert b"restricted_access" not in earlier.canonical_json()
    assert b"restricted_access" in register.canonical_json()
