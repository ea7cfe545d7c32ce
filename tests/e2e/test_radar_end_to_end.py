"""End to end through the real processes, broker and databases: a police zorgmelding, a school's
absence report and a GGZ kindcheck concern about one family go in through the ingest API; the
Utrecht triage analyst finds one cross-sector alert in the worklist API, explained in lines that
add up (the GGZ line withheld from triage), and acknowledges it; Amsterdam sees nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.credentials import Audience, TokenAuthority
from services.settings import Settings
from testkit.processes import running_radar
from tests.support.inspection import wait_for

HOUR = timedelta(hours=1)
FAMILY = {"postcode": "3512 JE", "house_number": 7}
MEMBERS = [("111222333", "parent_or_carer"), ("123456782", "child")]  # synthetic BSNs


def _signal(kind: str, days_ago: int, severity: str) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "signal_type": kind,
        "severity": severity,
        "occurred_at": (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(),
        "region": "VT09",
        "household": FAMILY,
        "persons": [{"bsn": bsn, "role": role} for bsn, role in MEMBERS],
    }


def _bearer(authority: TokenAuthority, actor: Any, audience: Audience) -> dict[str, str]:
    return {"Authorization": f"Bearer {authority.issue(actor, audience, HOUR)}"}


# PostgreSQL only: the real deployment's database; the radar's stories run on both.
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_three_sectors_within_weeks_reach_the_utrecht_worklist(settings: Settings) -> None:
    authority = TokenAuthority(settings.keys_dir)
    publishers = {
        "zorgmelding": Publisher("sys-politie", "politie-midden-nederland", Sector.POLICE),
        "school_absence": Publisher("sys-school", "obs-de-regenboog", Sector.EDUCATION),
        "kindcheck_concern": Publisher("sys-ggz", "ggz-centraal", Sector.MENTAL_HEALTH),
    }
    utrecht = _bearer(
        authority,
        Analyst("a.jansen", "vt-utrecht", AnalystRole.TRIAGE, "VT09"),
        Audience.QUERY,  # type: ignore[arg-type]
    )
    amsterdam = _bearer(
        authority,
        Analyst("b.devries", "vt-aa", AnalystRole.TRIAGE, "VT13"),
        Audience.QUERY,  # type: ignore[arg-type]
    )
    story = [
        ("zorgmelding", 30, "high"),
        ("school_absence", 16, "moderate"),
        ("kindcheck_concern", 5, "moderate"),
    ]

    with running_radar(settings) as radar:
        for kind, days, severity in story:
            answer = httpx.post(
                f"{radar.ingest_url}/v1/signals",
                json=_signal(kind, days, severity),
                headers=_bearer(authority, publishers[kind], Audience.INGEST),
            )
            assert answer.status_code == 202, answer.text

        def worklist(headers: dict[str, str]) -> list[dict[str, Any]]:
            answer = httpx.get(
                f"{radar.query_url}/v1/worklist", params={"purpose": "triage"}, headers=headers
            )
            assert answer.status_code == 200, answer.text
            alerts: list[dict[str, Any]] = answer.json()["alerts"]
            return alerts

        def explained_by_three_sectors() -> bool:
            alerts = worklist(utrecht)
            return len(alerts) == 1 and alerts[0].get("withheld_by_purpose") == 1

        wait_for(explained_by_three_sectors, 60, "the cross-sector alert in Utrecht's worklist")
        [alert] = worklist(utrecht)
        assert alert["kind"] == "cross_sector" and alert["region"] == "VT09"
        assert alert["children_present"] is True
        assert {c.get("sector") for c in alert["explanation"]} == {"police", "education", None}
        assert any(c["withheld"] for c in alert["explanation"])
        assert alert["sector_count"] == 2, "the withheld line is no sector (triage: weight)"
        total = sum(Decimal(c["points"]) for c in alert["explanation"])
        assert total == Decimal(alert["score_now"]) >= Decimal("12")
        assert worklist(amsterdam) == []

        acknowledged = httpx.post(
            f"{radar.query_url}/v1/alerts/{alert['alert_id']}/acknowledge",
            json={"purpose": "triage"},
            headers=utrecht,
        )
        assert acknowledged.status_code == 200, acknowledged.text
        wait_for(
            lambda: worklist(utrecht)[0]["status"] == "acknowledged", 30, "the acknowledgement"
        )
        assert worklist(utrecht)[0]["steps"][0]["by"]["subject"] == "a.jansen"
