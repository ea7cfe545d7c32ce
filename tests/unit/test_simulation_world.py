"""The yardstick's synthetic world: the same seed gives the same world, and its marginal rates
are those its parameter file states, within the tolerances below (hypothesis over seeds and
over parameters moved away from the shipped file's)."""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from radar.simulation.parameters import WorldParameters
from radar.simulation.world import Course, World, generate
from services.yardstick.world_file import load_world

PROPERTY = settings(max_examples=8, deadline=None)
SIGMAS = 4.5  # a binomial or Poisson count off by more than this is a wrong world, not chance
SHIPPED = load_world()


def _wide(parameters: WorldParameters, **households: float) -> WorldParameters:
    """The world over a larger slice (more households: tighter tolerances)."""
    scale = parameters.scale.model_copy(update={"region_fraction": 0.25})
    shares = parameters.households.model_copy(update=households)
    return parameters.model_copy(update={"scale": scale, "households": shares})


def _within(observed: int, trials: int, share: float) -> bool:
    """A binomial count within SIGMAS standard deviations of its expectation (plus one)."""
    sd = math.sqrt(trials * share * (1 - share))
    return abs(observed - trials * share) <= SIGMAS * sd + 1


@PROPERTY
@given(seed=st.integers(0, 2**32))
def test_the_same_seed_gives_the_same_world(seed: int) -> None:
    first = generate(SHIPPED, seed)
    assert first == generate(SHIPPED, seed)
    assert first.signals, "a world of no signals measures nothing"


def test_different_seeds_give_different_worlds() -> None:
    assert generate(SHIPPED, 1).signals != generate(SHIPPED, 2).signals


@PROPERTY
@given(
    seed=st.integers(0, 2**32),
    escalating=st.floats(0.02, 0.3),
    calming=st.floats(0.0, 0.4),
)
def test_household_courses_match_their_shares(seed: int, escalating: float, calming: float) -> None:
    world = generate(_wide(SHIPPED, escalating_share=escalating, calming_share=calming), seed)
    courses = Counter(h.course for h in world.households)
    n = len(world.households)
    assert n == world.parameters.scale.households()
    assert _within(courses[Course.ESCALATING], n, escalating)
    assert _within(courses[Course.CALMING], n, calming)


@PROPERTY
@given(seed=st.integers(0, 2**32), probability=st.floats(0.05, 0.9))
def test_each_party_sees_its_share_of_the_incidents_it_could_see(
    seed: int, probability: float
) -> None:
    parties = {
        name: party.model_copy(update={"probability": probability})
        for name, party in SHIPPED.parties.items()
    }
    world = generate(_wide(SHIPPED).model_copy(update={"parties": parties}), seed)
    for name, party in parties.items():
        # incidents whose signal would arrive inside the horizon whatever its delay
        eligible = {
            number
            for number, incident in enumerate(world.incidents)
            if party.sees(incident.severity, bool(world.households[incident.household].child_ages))
            and incident.day + party.delay_max_days + 1 < world.parameters.horizon_days
        }
        seen = {s.incident for s in world.signals if s.party == name and s.incident in eligible}
        assert _within(len(seen), len(eligible), probability), name


def test_delays_types_and_order_are_the_parties_own() -> None:
    world = generate(_wide(SHIPPED), 7)
    for signal in world.signals:
        party = world.parameters.parties[signal.party]
        assert signal.received_day < world.parameters.horizon_days
        if signal.incident is None:  # safety conditions, agreed on the day
            assert world.households[signal.household].calm_day is not None
            continue
        delay = signal.received_day - int(signal.occurred_day)
        assert party.delay_min_days <= delay <= party.delay_max_days
        household = world.households[signal.household]
        assert signal.signal_type == party.signal_type(signal.severity, bool(household.child_ages))
    order = [(s.received_day, s.index) for s in world.signals]
    assert order == sorted(order), "signals are in order of receipt"


@PROPERTY
@given(seed=st.integers(0, 2**32), rate=st.floats(1.0, 12.0))
def test_steady_households_have_incidents_at_the_base_rate(seed: int, rate: float) -> None:
    incidents = SHIPPED.incidents.model_copy(update={"base_rate_per_year": rate})
    world = generate(_wide(SHIPPED).model_copy(update={"incidents": incidents}), seed)
    steady = {h.index for h in world.households if h.course == Course.STEADY}
    count = sum(1 for i in world.incidents if i.household in steady)
    expected = len(steady) * rate * world.parameters.horizon_days / 365.0
    assert abs(count - expected) <= SIGMAS * math.sqrt(expected) + 1


def test_escalations_end_in_harm_within_the_horizon_and_grow() -> None:
    world: World = generate(_wide(SHIPPED), 11)
    for household in world.escalating():
        assert household.harm_day is not None
        assert household.onset_day < household.harm_day < world.parameters.horizon_days
        days = [i.day for i in world.incidents if i.household == household.index]
        assert all(day < household.harm_day for day in days)
    # the escalation's second half holds more incidents than its first (rate grows with time)
    early = late = 0
    for household in world.escalating():
        assert household.harm_day is not None
        middle = (household.onset_day + household.harm_day) / 2
        for incident in world.incidents:
            if incident.household == household.index and incident.day >= household.onset_day:
                late += incident.day >= middle
                early += incident.day < middle
    assert late > 2 * early


def test_the_shipped_world_is_region_sized_from_the_public_figures() -> None:
    scale = SHIPPED.scale
    assert scale.households() == round(319_000 / 1.6 / 26 * scale.region_fraction)
    assert 0.6 < scale.vt_reports_per_household() < 0.7  # 130,000 reports, ~200,000 households
