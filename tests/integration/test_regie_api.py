"""Who leads (regie) through the query API, on a real database: Veilig Thuis records the lead
and the organisations involved; a professional of an involved organisation asks under its own
purpose and learns the lead alone; anyone else gets one refusal, known household or not; every
request decided and logged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience
from radar.case_regie import NOT_INVOLVED
from services.database import Database
from tests.support.radar_fixtures import FAMILY, Harness, radar_query_harness, signal

UNKNOWN_FAMILY = "hh.k1." + "0" * 32
PATH = f"/v1/households/{FAMILY}/regie"


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def _professional(harness: Harness, organisation: str, role: AnalystRole) -> dict[str, str]:
    actor = Analyst("j.pietersen", organisation, role, "VT09")  # type: ignore[arg-type]
    token = harness.authority.issue(actor, Audience.QUERY, timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


def _ask(harness: Harness, headers: dict[str, str], household: str = FAMILY) -> Any:
    return harness.client.get(
        f"/v1/households/{household}/regie",
        params={"purpose": "regie_inquiry"},
        headers=headers,
    )


def _record(harness: Harness, **changes: Any) -> Any:
    body = {
        "purpose": "triage",
        "lead_professional": "m.bakker",
        "lead_organisation": "wijkteam-utrecht-oost",
        "involved_organisations": ["obs-de-regenboog"],
        "reason": "One plan: the local team leads.",
        **changes,
    }
    return harness.post(PATH, body)


def test_an_involved_organisation_learns_who_leads_and_nothing_else(harness: Harness) -> None:
    harness.radar.record(signal("zorgmelding", datetime.now(UTC) - timedelta(days=3)))
    recorded = _record(harness)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["involved_organisations"] == [
        "obs-de-regenboog",
        "wijkteam-utrecht-oost",
    ]
    before = harness.log.count()

    school = _ask(harness, _professional(harness, "obs-de-regenboog", AnalystRole.SCHOOL))
    assert school.status_code == 200, school.text
    assert set(school.json()) == {
        "household",
        "lead_professional",
        "lead_organisation",
        "recorded_at",
    }
    assert school.json()["lead_professional"] == "m.bakker"
    assert "zorgmelding" not in school.text and "obs-de-regenboog" not in school.text

    police = _professional(harness, "politie-midden-nederland", AnalystRole.INVOLVED_PROFESSIONAL)
    refusals = [_ask(harness, police), _ask(harness, police, UNKNOWN_FAMILY)]
    assert [(r.status_code, r.json()["detail"]) for r in refusals] == [(403, NOT_INVOLVED)] * 2

    analyst = harness.client.get(
        PATH, params={"purpose": "regie_inquiry"}, headers=harness.headers(AnalystRole.TRIAGE)
    )
    assert analyst.status_code == 403, "a VT role asks through its own purposes"
    entries = harness.entries_after(before)
    assert [(e["outcome"], e["subject"], e["resource"]) for e in entries] == [
        ("permit", FAMILY, "regie"),
        ("deny", FAMILY, "regie"),
        ("deny", UNKNOWN_FAMILY, "regie"),
        ("deny", FAMILY, "regie"),
    ]
    assert entries[1]["reason"] == NOT_INVOLVED


def test_only_veilig_thuis_records_the_lead_and_bad_input_changes_nothing(
    harness: Harness,
) -> None:
    harness.radar.record(signal("zorgmelding", datetime.now(UTC) - timedelta(days=3)))
    refused = {
        "lead_organisation": _record(harness, lead_organisation="Wijkteam Oost"),
        "reason": _record(harness, reason="Mother's BSN is 111222333"),
        "involved_organisations": _record(harness, involved_organisations=["x" * 80]),
    }
    for field, answer in refused.items():
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["errors"][0]["field"].startswith(field)
        assert "111222333" not in answer.text
    outsider = harness.client.post(
        PATH,
        json={
            "purpose": "regie_inquiry",
            "lead_professional": "j.pietersen",
            "lead_organisation": "obs-de-regenboog",
            "reason": "We lead.",
        },
        headers=_professional(harness, "obs-de-regenboog", AnalystRole.SCHOOL),
    )
    assert outsider.status_code == 403
    school = _ask(harness, _professional(harness, "obs-de-regenboog", AnalystRole.SCHOOL))
    assert school.status_code == 403 and school.json()["detail"] == NOT_INVOLVED
