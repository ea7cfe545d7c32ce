"""Property: what a purpose learns about the signals it may not see is the purpose register's
withheld rule, in every view, through the query API on a real SQLite database.

For a random household H (signals of random sectors, ages and severities, some naming its
child) and a random purpose, a twin household B gets only the signals of H the purpose sees.
Then every view of H equals the same view of B, but for what the rule adds: with `nothing`
nothing, with `count` the number of H's other signals (`withheld_by_purpose`), with `weight` that
number and one explanation line holding what they add to the score. The views: the household
timeline, the child's person timeline, the household's risk, the worklist alert's score and
explanation, and the audit replay's purpose view of the timeline. An alert raised by signals
beyond the purpose alone is not listed under `nothing` and `count`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.signal_v1 import SignalEventV1
from contracts.vocabulary import SIGNAL_TYPES
from privacy.actors import Analyst, AnalystRole
from privacy.policy import AccessRequest, Obligations, PolicyDecisionPoint
from privacy.purposes import PurposeRegister, Resource, WithheldRule
from services.audit.snapshot import Selection, timelines
from services.database import Database
from tests.support.radar_fixtures import Harness, radar_query_harness, signal

REGISTER = PurposeRegister.load()
NOW = datetime.now(UTC).replace(microsecond=0)
REGION = "VT09"
KINDS = [(str(k), str(s)) for k, d in SIGNAL_TYPES.items() for s in sorted(d.sectors)]
PURPOSES = sorted(
    n for n, p in REGISTER.purposes.items() if Resource.HOUSEHOLD_TIMELINE in p.resources
)


@pytest.fixture
def harness(tmp_path: Path, sqlite_database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, sqlite_database, clock=lambda: NOW)


signals = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(min_value=0, max_value=2400),  # days ago: across the look-back windows
        st.sampled_from(["low", "moderate", "high"]),
        st.booleans(),  # names the household's child
    ),
    min_size=1,
    max_size=8,
)


def pseudonym(prefix: str) -> str:
    return f"{prefix}.k1.{uuid.uuid4().hex}"


def shown_by(purpose: str, sector: str, days: int) -> bool:
    granted = REGISTER.purposes[purpose]
    return sector in granted.sectors and days <= granted.lookback_days - 1


def same(view: Any, renames: dict[str, str]) -> Any:
    """The view with H's pseudonyms and signal ids as B's, without the keys only H may have."""
    text = orjson.dumps(view).decode()
    for old, new in renames.items():
        text = text.replace(old, new)
    found = orjson.loads(text)
    if isinstance(found, dict):
        found.pop("withheld_by_purpose", None)
    return found


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=signals, purpose=st.sampled_from(PURPOSES))
def test_no_view_reveals_more_of_withheld_signals_than_the_rule(
    harness: Harness, story: list[tuple[tuple[str, str], int, str, bool]], purpose: str
) -> None:
    granted = REGISTER.purposes[purpose]
    rule = granted.withheld_rule
    role = sorted(granted.roles)[0]
    h, b, child_h, child_b = pseudonym("hh"), pseudonym("hh"), pseudonym("p"), pseudonym("p")
    made_h, made_b, renames = [], [], {h: b, child_h: child_b}
    for n, ((kind, sector), days, severity, names_child) in enumerate(story):
        at = NOW - timedelta(days=days, hours=2, minutes=n)  # no ties: ids would order them
        made_h.append(_signal(kind, at, severity, sector, h, [child_h] if names_child else []))
        if shown_by(purpose, sector, days):
            twin = _signal(kind, at, severity, sector, b, [child_b] if names_child else [])
            made_b.append(twin)
            renames[str(made_h[-1].event_id)] = str(twin.event_id)
    harness.radar.record(*made_h)
    if made_b:
        harness.radar.record(*made_b)
    harness.radar.project()
    beyond = len(made_h) - len(made_b)
    counted = beyond if rule is not WithheldRule.NOTHING and beyond else None

    def timeline(household: str) -> dict[str, Any]:
        answer = harness.post(
            "/v1/households/timeline", {"household": household, "purpose": purpose}, role
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    of_h, of_b = timeline(h), timeline(b)
    assert of_h.get("withheld_by_purpose") == counted
    assert same(of_h, renames) == of_b

    if Resource.PERSON_TIMELINE in granted.resources:

        def person(who: str) -> dict[str, Any]:
            answer = harness.post("/v1/persons/timeline", {"person": who, "purpose": purpose}, role)
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        assert same(person(child_h), renames) == person(child_b)

    obligations = _obligations(purpose, role)
    [replayed_h] = timelines(harness.radar.timelines, Selection(household=h), obligations)
    [replayed_b] = timelines(harness.radar.timelines, Selection(household=b), obligations)
    assert replayed_h.get("withheld_by_purpose") == counted
    assert same(replayed_h["signals"], renames) == orjson.loads(orjson.dumps(replayed_b["signals"]))

    if Resource.WORKLIST not in granted.resources:
        return
    risk_h = _risk(harness, h, purpose, role)
    risk_b = _risk(harness, b, purpose, role)
    assert risk_h.get("withheld_by_purpose") == counted
    lines_h = [c for c in risk_h["explanation"] if not c["withheld"]]
    assert same(lines_h, renames) == risk_b["explanation"]
    extra = Decimal(risk_h["score_now"]) - Decimal(risk_b["score_now"])
    if rule is WithheldRule.WEIGHT:
        weight = [Decimal(c["points"]) for c in risk_h["explanation"] if c["withheld"]]
        assert weight == ([extra] if extra else [])
    else:
        assert extra == 0
        ignore = ("alerts", "withheld_by_purpose")
        assert same({k: v for k, v in risk_h.items() if k not in ignore}, renames) == {
            k: v for k, v in risk_b.items() if k not in ignore
        }

    worklist = harness.get("/v1/worklist", role, params={"purpose": purpose}).json()
    alerts = [a for a in worklist["alerts"] if a["household"] == h]
    if not made_b and rule is not WithheldRule.WEIGHT:
        assert alerts == [], "an alert raised by signals beyond the purpose alone is not listed"
        assert risk_h["alerts"] == []
    for alert in alerts:
        assert alert.get("withheld_by_purpose") == counted
        assert alert["score_now"] == risk_h["score_now"]
        assert alert["explanation"] == risk_h["explanation"]
        assert alert["sectors"] == sorted({c["sector"] for c in risk_b["explanation"]})
        assert alert["sector_count"] == len(alert["sectors"])
        if rule is not WithheldRule.WEIGHT:
            assert alert["children_present"] == risk_b["children_present"]


def _signal(
    kind: str, at: datetime, severity: str, sector: str, household: str, children: list[str]
) -> SignalEventV1:
    return signal(
        kind,
        at,
        severity=severity,
        sector=sector,
        region=REGION,
        household=household,
        children=children,
        adults=(),
    )


def _risk(harness: Harness, household: str, purpose: str, role: AnalystRole) -> dict[str, Any]:
    answer = harness.get(f"/v1/households/{household}/risk", role, params={"purpose": purpose})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _obligations(purpose: str, role: AnalystRole) -> Obligations:
    analyst = Analyst("a.jansen", "vt-vt09", role, REGION)  # type: ignore[arg-type]
    request = AccessRequest(analyst, Resource.HOUSEHOLD_TIMELINE, purpose, subject_region=REGION)
    decision = PolicyDecisionPoint(REGISTER).decide(request, NOW)
    assert decision.obligations is not None, decision.reason
    return decision.obligations
