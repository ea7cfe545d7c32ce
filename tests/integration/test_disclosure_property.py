"""Property: for random actors, purposes and timelines, no response of the query API contains
a signal or a field that the purpose does not allow, nor a form of violence or a role it hides
(signal.v2's facts on some signals; real query app, real SQLite database)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.regions import VtRegion
from contracts.vocabulary import Sector
from privacy.actors import AnalystRole
from privacy.disclosure import MEMBERSHIP_FIELDS, PERSON_ALWAYS
from privacy.purposes import PERSON_FIELDS, PurposeRegister, RegionScope, Resource
from radar.timeline import PersonFacts
from services.database import Database
from tests.support.privacy_fixtures import QueryHarness, entry, query_harness

REGISTER = PurposeRegister.load()
JUSTIFICATION = "Acute danger: police on site, children present in the home."


@pytest.fixture
def harness(tmp_path: Path, sqlite_database: Database) -> Iterator[QueryHarness]:
    yield from query_harness(tmp_path, sqlite_database)


timelines = st.lists(
    st.tuples(
        st.sampled_from(list(Sector)), st.integers(min_value=0, max_value=4000), st.booleans()
    ),
    min_size=0,
    max_size=12,
)
V2_FORMS = ("female_genital_mutilation", "physical_violence")
V2_FACTS = (PersonFacts(roles=("child", "victim", "suspected_perpetrator"), age=15),)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    signals=timelines,
    household_region=st.sampled_from(list(VtRegion)),
    actor_region=st.sampled_from(list(VtRegion)),
    role=st.sampled_from(list(AnalystRole)),
    purpose=st.sampled_from([*REGISTER.purposes, "unregistered", ""]),
    justification=st.sampled_from([None, "too short", JUSTIFICATION]),
    break_glass=st.booleans(),
)
def test_no_response_discloses_more_than_the_purpose_allows(
    harness: QueryHarness,
    signals: list[tuple[Sector, int, bool]],
    household_region: VtRegion,
    actor_region: VtRegion,
    role: AnalystRole,
    purpose: str,
    justification: str | None,
    break_glass: bool,
) -> None:
    household = f"hh.k1.{uuid.uuid4().hex}"
    store = harness.store
    start = store.position()
    entries = [
        entry(household, sector, days, str(household_region), start + i + 1)
        for i, (sector, days, _v2) in enumerate(signals)
    ]
    entries = [  # a signal.v2 signal: a hidden form and a hidden role among its facts
        replace(e, forms_of_violence=V2_FORMS, facts=V2_FACTS) if v2 else e
        for e, (_s, _d, v2) in zip(entries, signals, strict=True)
    ]
    store.apply(entries, expected=start, new_position=start + len(entries) + 1)
    answer = harness.client.post(
        "/v1/households/timeline",
        json={
            "household": household,
            "purpose": purpose,
            "justification": justification,
            "break_glass": break_glass,
        },
        headers={"Authorization": f"Bearer {harness.token(role, str(actor_region))}"},
    )
    granted = REGISTER.purposes.get(purpose)
    if answer.status_code != 200:
        assert answer.status_code == 403
        assert "signals" not in answer.json()
        return
    assert granted is not None and Resource.HOUSEHOLD_TIMELINE in granted.resources
    assert role in granted.roles  # break-glass lifts region and period limits, never roles
    body = answer.json()
    known = {str(e.signal_id): e for e in entries}
    oldest_allowed = datetime.now(UTC) - timedelta(days=granted.lookback_days, minutes=5)
    for signal in body["signals"]:
        persons = "persons" in granted.fields  # where it was recorded goes with persons
        assert set(signal) <= granted.fields | (MEMBERSHIP_FIELDS if persons else set())
        for person in signal.get("persons") or ():  # v2's person fields only where granted
            assert set(person) <= PERSON_ALWAYS | (granted.fields & PERSON_FIELDS)
            assert not set(person.get("roles", ())) & granted.hidden_roles
        assert not set(signal.get("forms_of_violence", ())) & granted.hidden_forms
        if "forms_of_violence" in granted.fields:  # the rest of what the signal said, shown
            said = known[signal["signal_id"]].forms_of_violence
            assert signal["forms_of_violence"] == [f for f in said if f not in granted.hidden_forms]
        source = known[signal["signal_id"]]
        assert source.sector in granted.sectors
        if not break_glass:
            assert source.occurred_at >= oldest_allowed
    own_region_only = granted.region_scope == RegionScope.OWN
    if entries and own_region_only and not break_glass and household_region != actor_region:
        assert justification == JUSTIFICATION
