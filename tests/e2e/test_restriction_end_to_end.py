"""Restriction of processing (AVG art. 18) end to end, on the real broker and both databases:
a child lives in two homes; the privacy officer restricts the home R where a police
zorgmelding and a school's absence report raised an alert. From then on triage gets 403 on R,
the other home's timeline withholds R's signals (and counts them), and the worklist no longer
shows R's alert; lifting the restriction brings everything back."""

from __future__ import annotations

from typing import Any

import httpx

from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.credentials import Audience, TokenAuthority
from services.settings import Settings
from testkit.processes import running_radar
from tests.support.ingest import bearer_for, family_signal
from tests.support.inspection import wait_for

CHILD = "123456782"  # synthetic: passes the elfproef, as do the parents
RESTRICTED = {"postcode": "3512 JE", "house_number": 21}, "111222333"
OTHER = {"postcode": "3581 KP", "house_number": 4}, "999999990"
PUBLISHERS = {
    "zorgmelding": Publisher("sys-politie", "politie-midden-nederland", Sector.POLICE),
    "school_absence": Publisher("sys-school", "obs-de-regenboog", Sector.EDUCATION),
    "domestic_incident": Publisher("sys-politie", "politie-midden-nederland", Sector.POLICE),
}
REASON = "Betrokkene betwist de juistheid van de signalen (art. 18 lid 1 sub a)."


def test_a_restricted_home_is_withheld_from_triage_until_lifted(settings: Settings) -> None:
    authority = TokenAuthority(settings.keys_dir)

    def analyst(role: AnalystRole) -> dict[str, str]:
        actor = Analyst(f"vt.{role}", "vt-utrecht", role, "VT09")  # type: ignore[arg-type]
        return bearer_for(authority, actor, Audience.QUERY)

    triage, officer = analyst(AnalystRole.TRIAGE), analyst(AnalystRole.PRIVACY_OFFICER)
    with running_radar(settings) as radar:

        def get(path: str) -> Any:
            answer = httpx.get(
                f"{radar.query_url}{path}", params={"purpose": "triage"}, headers=triage
            )
            return answer.status_code, answer.json()

        def post(path: str, body: dict[str, Any]) -> Any:
            answer = httpx.post(f"{radar.query_url}{path}", json=body, headers=officer)
            assert answer.status_code in (200, 201), answer.text
            return answer.json()

        sent: dict[str, set[str]] = {"restricted": set(), "other": set()}
        for home, kind, days in (
            ("restricted", "zorgmelding", 30),
            ("restricted", "school_absence", 16),
            ("other", "domestic_incident", 40),  # the child lived there first
        ):
            address, parent = RESTRICTED if home == "restricted" else OTHER
            body = family_signal(kind, days, address, parent, CHILD)
            answer = httpx.post(
                f"{radar.ingest_url}/v1/signals",
                json=body,
                headers=bearer_for(authority, PUBLISHERS[kind], Audience.INGEST),
            )
            assert answer.status_code == 202, answer.text
            sent[home].add(body["event_id"])

        wait_for(lambda: len(get("/v1/worklist")[1]["alerts"]) == 1, 90, "the alert")
        restricted = get("/v1/worklist")[1]["alerts"][0]["household"]
        other = get(f"/v1/persons/{_child(get, restricted)}/timeline")[1]["memberships"]
        home = next(m["household"] for m in other if m["household"] != restricted)

        def shown_at_other() -> set[str]:
            return {s["signal_id"] for s in get(f"/v1/households/{home}/timeline")[1]["signals"]}

        wait_for(lambda: shown_at_other() == sent["restricted"] | sent["other"], 60, "both")

        placed = post(
            "/v1/restrictions",
            {"subject": restricted, "reason": REASON, "purpose": "accountability"},
        )
        assert get(f"/v1/households/{restricted}/timeline")[0] == 403
        status, timeline = get(f"/v1/households/{home}/timeline")
        assert status == 200 and shown_at_other() == sent["other"]
        assert timeline["withheld"] == len(sent["restricted"])
        assert restricted not in str(timeline)
        worklist = get("/v1/worklist")[1]
        assert worklist["alerts"] == [] and worklist["withheld"] == 1

        post(f"/v1/restrictions/{placed['restriction_id']}/lift", {"purpose": "accountability"})
        assert shown_at_other() == sent["restricted"] | sent["other"]
        assert [a["household"] for a in get("/v1/worklist")[1]["alerts"]] == [restricted]


def _child(get: Any, household: str) -> str:
    """The child's pseudonym, from the restricted home's timeline (before the restriction)."""
    signals = get(f"/v1/households/{household}/timeline")[1]["signals"]
    return next(p["pseudonym"] for s in signals for p in s["persons"] if p["role"] == "child")
