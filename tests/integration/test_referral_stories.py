"""Referral of a suspected offence as Veilig Thuis and the OM live it, on the real broker and both
databases: signals published through Kafka, a safety assessment that finds a suspected offence,
the referral recorded through the query API, the OM reading its feed (exactly the fields the
legal basis allows), re-identifying a referred person and refused anyone else, and its decision
coming back as a signal that shows in the feed and on the timeline; the same after a rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from contracts.signal_v2 import ProsecutionV2
from contracts.vocabulary_v2 import ProsecutionOutcome
from privacy.actors import Analyst, AnalystRole
from privacy.addresses import HomeAddress
from privacy.credentials import Audience
from privacy.storage.vault import Identity
from radar.case_referral import ReferralRecorded
from radar.safety import NETHERLANDS
from services import bootstrap
from services.casework.lead_time_store import LEAD_TIME_PROJECTION
from services.database import Database
from services.oversight.identity import NOT_REFERRED
from services.projections.projector import Projector, rebuild
from services.referrals.store import BODY_FIELDS, ReferralStore
from services.retention.cli import enforce_once
from services.settings import Settings
from tests.support.aggregating import InProcessAggregator
from tests.support.radar_fixtures import FAMILY, Harness, radar_query_harness
from tests.support.signals_v2 import person, signal_v2

SUSPECT, CHILD, SIBLING = ("p.k1." + c * 32 for c in "abc")
BSNS = {SUSPECT: "111222333", CHILD: "123456782", SIBLING: "100000009"}  # synthetic: elfproef
OM = "om-midden-nederland"
OTHER_OM = "om-noord-nederland"
ASSESSOR = AnalystRole.SAFETY_ASSESSMENT
REFERRED_KEYS = {"household", "referral_id", "state", "persons", "signals", "contact"}
REFERRED_KEYS |= {"referred_at"}


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


@pytest.fixture
def referrals(harness: Harness) -> ReferralStore:
    engine = harness.radar.worklist.engine
    return ReferralStore(engine, harness.radar.database.row_sealer(engine))


def _om(harness: Harness, organisation: str = OM) -> dict[str, str]:
    officer = Analyst("officier.smit", organisation, AnalystRole.PROSECUTOR, "VT09")
    token = harness.authority.issue(officer, Audience.QUERY, timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


def _story(member: InProcessAggregator) -> dict[str, str]:
    """A report to VT, a police zorgmelding and a school's concern about one family, published
    through the signals topic two days ago; their ids by kind."""
    when = datetime.now(UTC) - timedelta(days=2)
    family = [
        person(SUSPECT, "parent_or_carer", "suspected_perpetrator", age=38),
        person(CHILD, "child", "victim", age=7),
        person(SIBLING, "child", "witness", age=12),
    ]
    report = signal_v2(
        "vt_report", when, FAMILY, family, sector="veilig_thuis", organisation="vt-utrecht"
    )
    police = signal_v2("zorgmelding", when + timedelta(hours=2), FAMILY, family[:2])
    school = signal_v2(
        "behavioural_concern",
        when,
        FAMILY,
        family[2:],
        sector="education",
        organisation="obs-de-regenboog",
    )
    member.publish(report, police, school)
    return {"report": str(report.event_id), "police": str(police.event_id)}


def _assess(harness: Harness, report_id: str, decision: str = "suspected_offence") -> str:
    answers = {
        "purpose": "safety_assessment",
        "report_id": report_id,
        "acute_unsafety": False,
        "structural_unsafety": True,
        "urgency": "high",
        "expertise": ["child_abuse"],
        "decision": decision,
        "reason": "Letsel bij het kind, vermoeden van mishandeling.",
    }
    created = harness.post(f"/v1/households/{FAMILY}/safety-assessments", answers, role=ASSESSOR)
    assert created.status_code == 201, created.text
    return str(created.json()["assessment_id"])


def _referral(assessment: str, signals: list[str], **changes: Any) -> dict[str, Any]:
    return {
        "purpose": "safety_assessment",
        "assessment_id": assessment,
        "recipient": OM,
        "persons": [SUSPECT, CHILD],
        "signals": signals,
        "reason": "Vermoeden van kindermishandeling door een ouder.",
        **changes,
    }


def _feed(harness: Harness, referrals: ReferralStore, organisation: str = OM) -> Any:
    harness.radar.project()
    Projector(harness.radar.ledger, referrals, batch_size=7).catch_up()
    answer = harness.client.get(
        "/v1/feeds/referrals", params={"purpose": "prosecution"}, headers=_om(harness, organisation)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _deposit(tmp_path: Path, database: Database) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database.url)
    keys = bootstrap.pseudonyms(settings).pseudonymiser()
    home = HomeAddress.normalised("3511 AB", 12)
    members = tuple(BSNS.items())
    bootstrap.identity_vault(settings).deposit([Identity(FAMILY, home, members)], keys)


def test_a_referral_reaches_the_om_with_only_what_the_legal_basis_allows_and_no_more(
    harness: Harness,
    member: InProcessAggregator,
    referrals: ReferralStore,
    tmp_path: Path,
    database: Database,
) -> None:
    ids = _story(member)
    assessment = _assess(harness, ids["report"])
    path = f"/v1/households/{FAMILY}/referrals"
    made = harness.post(path, _referral(assessment, [ids["police"], ids["report"]]), role=ASSESSOR)
    assert made.status_code == 201, made.text
    again = harness.post(path, _referral(assessment, [ids["police"]]), role=ASSESSOR)
    assert again.status_code == 409, "one referral per assessment and recipient"

    page = _feed(harness, referrals)
    [item] = page["items"]
    body = item["body"]
    assert set(body) == REFERRED_KEYS and set(body) <= BODY_FIELDS
    assert (body["state"], body["household"]) == ("referred", FAMILY)
    assert body["persons"] == [
        {"pseudonym": SUSPECT, "roles": ["parent_or_carer", "suspected_perpetrator"], "age": 38},
        {"pseudonym": CHILD, "roles": ["child", "victim"], "age": 7},
    ]
    assert [set(s) for s in body["signals"]] == [{"signal_type", "occurred_on"}] * 2
    assert {s["signal_type"] for s in body["signals"]} == {"vt_report", "zorgmelding"}
    assert body["contact"] == {"staff_id": "a.jansen", "organisation": "vt-vt09"}
    text = str(page)
    assert SIBLING not in text and "behavioural_concern" not in text and ids["police"] not in text
    assert "obs-de-regenboog" not in text and "score" not in text
    assert _feed(harness, referrals, OTHER_OM)["items"] == [], "another OM office hears nothing"

    _deposit(tmp_path, database)
    before = harness.log.count()
    identity = f"/v1/households/{FAMILY}/identity"
    asked = {"purpose": "prosecution", "person": SUSPECT}
    shown = harness.client.post(identity, json=asked, headers=_om(harness))
    assert shown.status_code == 200, shown.text
    assert [p["bsn"] for p in shown.json()["persons"]] == [BSNS[SUSPECT]]
    whole = harness.client.post(identity, json={"purpose": "prosecution"}, headers=_om(harness))
    assert {p["bsn"] for p in whole.json()["persons"]} == {BSNS[SUSPECT], BSNS[CHILD]}
    refused = harness.client.post(identity, json={**asked, "person": SIBLING}, headers=_om(harness))
    assert refused.status_code == 403 and refused.json()["detail"] == NOT_REFERRED
    elsewhere = harness.client.post(identity, json=asked, headers=_om(harness, OTHER_OM))
    assert elsewhere.status_code == 403 and elsewhere.json()["detail"] == NOT_REFERRED
    assert BSNS[SIBLING] not in refused.text + elsewhere.text
    entries = harness.entries_after(before)
    assert [(e["resource"], e["purpose"], e["outcome"]) for e in entries] == [
        ("identity", "prosecution", "permit"),
        ("identity", "prosecution", "permit"),
        ("identity", "prosecution", "deny"),
        ("identity", "prosecution", "deny"),
    ]
    assert {e["subject"] for e in entries} == {FAMILY}


def test_the_oms_decision_comes_back_in_the_feed_and_on_the_timeline_and_survives_a_rebuild(
    harness: Harness, member: InProcessAggregator, referrals: ReferralStore
) -> None:
    ids = _story(member)
    assessment = _assess(harness, ids["report"])
    path = f"/v1/households/{FAMILY}/referrals"
    made = harness.post(path, _referral(assessment, [ids["police"]]), role=ASSESSOR)
    assert made.status_code == 201, made.text
    decided_at = datetime.now(UTC) - timedelta(hours=1)
    decision = signal_v2(
        "prosecution_decision",
        decided_at,
        FAMILY,
        [person(SUSPECT, "suspected_perpetrator", age=38)],
        sector="public_prosecution",
        organisation=OM,
    ).model_copy(
        update={
            "prosecution": ProsecutionV2(
                outcome=ProsecutionOutcome.PUNISHMENT_ORDER,
                referral_id=made.json()["referral_id"],
            )
        }
    )
    member.publish(decision)

    page = _feed(harness, referrals)
    referred, decided = page["items"]
    assert decided["body"] == {
        "household": FAMILY,
        "referral_id": referred["body"]["referral_id"],
        "state": "decided",
        "decision": "prosecution_decision",
        "outcome": "punishment_order",
        "decided_on": decided_at.astimezone(NETHERLANDS).date().isoformat(),
    }
    assert decided["cursor"] > referred["cursor"]
    after = harness.client.get(
        "/v1/feeds/referrals",
        params={"purpose": "prosecution", "after": referred["cursor"]},
        headers=_om(harness),
    )
    assert [i["id"] for i in after.json()["items"]] == [decided["id"]]

    timeline = harness.get(f"/v1/households/{FAMILY}/timeline", params={"purpose": "triage"})
    assert timeline.status_code == 200, timeline.text
    shown = [s for s in timeline.json()["signals"] if s["signal_type"] == "prosecution_decision"]
    assert [s["signal_id"] for s in shown] == [str(decision.event_id)]

    live = referrals.dump()
    rebuild(harness.radar.ledger, referrals, batch_size=3)
    assert referrals.dump() == live, "a rebuild keeps every item, its cursor and its id"
    assert len(harness.radar.events(ReferralRecorded)) == 1


def test_a_referral_the_radar_refuses_names_the_field_and_changes_nothing(
    harness: Harness, member: InProcessAggregator, referrals: ReferralStore
) -> None:
    ids = _story(member)
    assessment = _assess(harness, ids["report"], decision="own_investigation")
    path = f"/v1/households/{FAMILY}/referrals"
    unknown = "00000000-0000-4000-8000-000000000000"
    refused = {
        "assessment_id": _referral(assessment, [ids["police"]]),  # not a suspected offence
        "recipient": _referral(assessment, [ids["police"]], recipient="bakkerij-jansen"),
        "persons": _referral(assessment, [ids["police"]], persons=["p.k1." + "9" * 32]),
        "signals": _referral(assessment, [unknown]),
        "reason": _referral(assessment, [ids["police"]], reason="BSN van vader: 111222333"),
    }
    before = harness.log.count()
    for field, body in refused.items():
        answer = harness.post(path, body, role=ASSESSOR)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["errors"][0]["field"] in (field, f"body.{field}"), answer.text
        assert "111222333" not in answer.text
    school = harness.post(path, _referral(assessment, [ids["police"]]), role=AnalystRole.SCHOOL)
    assert school.status_code == 403
    om = harness.client.post(
        path, json=_referral(assessment, [ids["police"]]), headers=_om(harness)
    )
    assert om.status_code == 403, "the OM reads referrals; it does not make them"
    vt_reads = harness.get("/v1/feeds/referrals", role=ASSESSOR, params={"purpose": "triage"})
    assert vt_reads.status_code == 403

    entries = harness.entries_after(before)
    assert [e["outcome"] for e in entries] == ["deny"] * 7, "the domain's 4, school, OM, VT"
    assert harness.radar.events(ReferralRecorded) == []
    assert _feed(harness, referrals)["items"] == []


def test_at_the_end_of_retention_the_referral_goes_with_the_household_from_every_read_model(
    harness: Harness,
    member: InProcessAggregator,
    referrals: ReferralStore,
    database: Database,
    tmp_path: Path,
) -> None:
    """`radar retention enforce` at a moment past even the case data's period: the referral,
    the report's lead time and every other row about the household are gone, and the OM's
    feed no longer has the referral."""
    ids = _story(member)
    made = harness.post(
        f"/v1/households/{FAMILY}/referrals",
        _referral(_assess(harness, ids["report"]), [ids["police"]]),
        role=ASSESSOR,
    )
    assert made.status_code == 201, made.text
    assert len(_feed(harness, referrals)["items"]) == 1
    models = bootstrap.read_models(database)
    for model in models:  # as the projector keeps them
        Projector(harness.radar.ledger, model, batch_size=50).catch_up()
    held = {m.name for m in models if m.count_households([FAMILY])}
    assert {referrals.name, LEAD_TIME_PROJECTION} <= held, "the story left rows to erase"

    settings = Settings(data_dir=tmp_path / "data", database_url=database.url)
    report = enforce_once(settings, clock=lambda: datetime.now(UTC) + timedelta(days=100 * 365))
    assert dict(report.expired) == {"case_data": 1}
    assert [m.name for m in models if m.count_households([FAMILY])] == []
    assert _feed(harness, referrals)["items"] == []
