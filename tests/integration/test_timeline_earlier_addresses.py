"""After a family moves, through the query API on SQLite and PostgreSQL: the new household's
timeline shows what its current members bring from their earlier household, each signal marked
(`via` the member, `earlier_address: true`), for purposes that may see persons; a purpose
without persons sees only the new household's own signals and no hint of the rest; a
restricted earlier household's or person's signal is withheld and counted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from privacy.actors import AnalystRole
from services.database import Database
from tests.support.radar_fixtures import (
    CHILD,
    FAMILY,
    MOTHER,
    OTHER_FAMILY,
    Harness,
    radar_query_harness,
    signal,
)

OLD, NEW = FAMILY, OTHER_FAMILY
NEIGHBOUR = "p.k1." + "5" * 32
REASON = "Betrokkene betwist de juistheid van de signalen (art. 18 lid 1 sub a)."


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def _timeline(harness: Harness, household: str, purpose: str = "triage") -> Any:
    role = AnalystRole.MONITORING if purpose == "monitoring" else AnalystRole.TRIAGE
    answer = harness.get(f"/v1/households/{household}/timeline", role, params={"purpose": purpose})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _moved(harness: Harness) -> dict[str, Any]:
    """Mother and child at OLD, both leave it, then signals at NEW; returns the signals."""
    recorded = {
        "old_incident": signal("domestic_incident", ago(100)),
        "old_school": signal("school_absence", ago(80), severity="low", adults=()),
        "old_neighbour": signal("zorgmelding", ago(70), children=(), adults=(NEIGHBOUR,)),
    }
    harness.radar.record(*recorded.values())
    for person in (MOTHER, CHILD):
        left = harness.post(
            f"/v1/households/{OLD}/members/{person}/departure",
            {"purpose": "triage", "left_on": ago(60).date().isoformat()},
        )
        assert left.status_code == 200, left.text
    recorded["after_leaving"] = signal("school_absence", ago(50), adults=())  # still named at OLD
    recorded["new"] = signal("zorgmelding", ago(30), household=NEW)
    harness.radar.record(recorded["after_leaving"], recorded["new"])
    harness.radar.project()
    return recorded


def test_the_new_households_timeline_shows_its_members_earlier_signals_marked(
    harness: Harness,
) -> None:
    s = _moved(harness)
    view = _timeline(harness, NEW)
    shown = [
        (x["signal_id"], x["household"], x.get("via"), x.get("earlier_address"))
        for x in view["signals"]
    ]
    assert shown == [
        (str(s["old_incident"].event_id), OLD, MOTHER, True),
        (str(s["old_school"].event_id), OLD, CHILD, True),
        (str(s["new"].event_id), NEW, None, None),
    ], "not the neighbour's signal, nor one from after they left"
    assert "withheld" not in view

    old = _timeline(harness, OLD)
    assert all("earlier_address" not in x for x in old["signals"]), "OLD is nobody's new home"

    monitoring = _timeline(harness, NEW, "monitoring")
    assert [x["signal_id"] for x in monitoring["signals"]] == [str(s["new"].event_id)]
    assert "withheld" not in monitoring, "no hint of a history this purpose may not see"
    for seen in monitoring["signals"]:
        assert not {"household", "via", "earlier_address", "persons"} & set(seen)


def _restrict(harness: Harness, subject: str) -> str:
    placed = harness.post(
        "/v1/restrictions",
        {"subject": subject, "reason": REASON, "purpose": "accountability"},
        AnalystRole.PRIVACY_OFFICER,
    )
    assert placed.status_code == 201, placed.text
    restriction: str = placed.json()["restriction_id"]
    return restriction


def test_a_restricted_earlier_household_or_person_is_withheld_and_counted(
    harness: Harness,
) -> None:
    s = _moved(harness)
    restriction = _restrict(harness, OLD)
    view = _timeline(harness, NEW)
    assert [x["signal_id"] for x in view["signals"]] == [str(s["new"].event_id)]
    assert view["withheld"] == 2
    assert OLD not in str(view)
    monitoring = _timeline(harness, NEW, "monitoring")
    assert "withheld" not in monitoring, "earlier addresses are no part of this purpose's view"

    lifted = harness.post(
        f"/v1/restrictions/{restriction}/lift",
        {"purpose": "accountability"},
        AnalystRole.PRIVACY_OFFICER,
    )
    assert lifted.status_code == 200, lifted.text
    _restrict(harness, MOTHER)
    view = _timeline(harness, NEW)
    assert [x["signal_id"] for x in view["signals"]] == [str(s["old_school"].event_id)]
    assert view["withheld"] == 2, "the incident and the new signal name the mother"
    assert MOTHER not in str(view)
