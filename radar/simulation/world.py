"""The seeded generative process: households of three kinds, their incidents, and the signals
the parties publish about them. The same parameters and seed give the same world, drawn in one
fixed order from one `random.Random` (determinism is tested).

Days are floats from the simulation's start (day 0). An escalating household's day of serious
harm is known (`harm_day`); its incidents stop there, since what follows is no longer early
sight. A calming household escalates the same way until Veilig Thuis agrees safety conditions
(`calm_day`, published as a signal), then calms down.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from radar.simulation.parameters import SEVERITIES, Incidents, Party, WorldParameters

DAYS_PER_YEAR = 365.0
VEILIG_THUIS = "veilig_thuis"
SAFETY_CONDITIONS_SET = "safety_conditions_set"


class Course(StrEnum):
    """How a household's violence develops over the simulated year."""

    STEADY = "steady"  # never escalates
    ESCALATING = "escalating"  # towards serious harm on harm_day
    CALMING = "calming"  # escalates until safety conditions (calm_day), then calms down


@dataclass(frozen=True)
class SimHousehold:
    index: int
    course: Course
    region: str  # where the parties report it until it moves
    adults: int
    child_ages: tuple[int, ...]
    onset_day: float  # first day of its escalation (steady: of its history in the year)
    harm_day: float | None = None  # escalating: the day of serious harm
    calm_day: float | None = None  # calming: the day safety conditions were agreed
    move_day: float | None = None
    moved_to: str | None = None

    def region_on(self, day: float) -> str:
        if self.move_day is not None and self.moved_to is not None and day >= self.move_day:
            return self.moved_to
        return self.region


@dataclass(frozen=True)
class Incident:
    household: int
    day: float
    severity: str
    forms: tuple[str, ...]


@dataclass(frozen=True)
class SimSignal:
    """One signal a party publishes: what it says and when the radar receives it."""

    index: int
    household: int
    party: str  # the key in the parameter file's [parties]
    sector: str
    signal_type: str
    severity: str
    forms: tuple[str, ...]
    occurred_day: float
    received_day: int  # whole days: a party publishes at the end of a working day
    region: str
    incident: int | None  # index in World.incidents; None for safety conditions


@dataclass(frozen=True)
class World:
    parameters: WorldParameters
    seed: int
    households: tuple[SimHousehold, ...]
    incidents: tuple[Incident, ...]
    signals: tuple[SimSignal, ...]  # in order of receipt

    def escalating(self) -> list[SimHousehold]:
        """Escalating households whose day of serious harm lies within the horizon."""
        return [h for h in self.households if h.course == Course.ESCALATING]

    def of_parties(self, parties: frozenset[str] | None) -> list[SimSignal]:
        """The signals the given parties publish (all of them: None)."""
        return [s for s in self.signals if parties is None or s.party in parties]


def generate(parameters: WorldParameters, seed: int) -> World:
    """The world these parameters and this seed describe."""
    rng = random.Random(seed)
    regions = [f"VT{n:02d}" for n in range(1, parameters.scale.regions + 1)]
    home = rng.choice(regions)  # the simulated slice lies in one region; movers leave it
    households = tuple(
        _household(rng, parameters, i, home, regions) for i in range(parameters.scale.households())
    )
    incidents = tuple(incident for h in households for incident in _incidents(rng, parameters, h))
    signals = _signals(rng, parameters, households, incidents)
    return World(parameters, seed, households, incidents, signals)


def _household(
    rng: random.Random, p: WorldParameters, index: int, home: str, regions: list[str]
) -> SimHousehold:
    draw = rng.random()
    share = p.households
    course = (
        Course.ESCALATING
        if draw < share.escalating_share
        else Course.CALMING
        if draw < share.escalating_share + share.calming_share
        else Course.STEADY
    )
    adults = 2 if rng.random() < share.two_adults_share else 1
    children = rng.choices(range(len(share.children_shares)), weights=share.children_shares)[0]
    ages = tuple(rng.randint(0, share.child_age_max) for _ in range(children))
    horizon = float(p.horizon_days)
    duration = rng.uniform(p.incidents.escalation_days_min, p.incidents.escalation_days_max)
    onset = rng.uniform(0.0, max(0.0, horizon - duration)) if course != Course.STEADY else 0.0
    harm = onset + duration if course == Course.ESCALATING else None
    fraction = rng.uniform(p.incidents.calm_after_fraction_min, p.incidents.calm_after_fraction_max)
    calm = onset + duration * fraction if course == Course.CALMING else None
    moves = rng.random() < share.moving_share
    move_day = rng.uniform(0.0, horizon) if moves else None
    moved_to = rng.choice([r for r in regions if r != home]) if moves else None
    return SimHousehold(index, course, home, adults, ages, onset, harm, calm, move_day, moved_to)


def _incidents(rng: random.Random, p: WorldParameters, h: SimHousehold) -> list[Incident]:
    """Incidents as an inhomogeneous Poisson process, drawn by thinning against the peak."""
    rates = p.incidents
    top = max(rates.peak_rate_per_year, rates.base_rate_per_year) / DAYS_PER_YEAR
    end = h.harm_day if h.harm_day is not None else float(p.horizon_days)
    found: list[Incident] = []
    day = 0.0
    while True:
        day += rng.expovariate(top)
        if day >= end:
            return found
        rate, elapsed = _rate(rates, h, day)
        if rng.random() * top < rate:
            found.append(_incident(rng, rates, h, day, elapsed))


def _rate(rates: Incidents, h: SimHousehold, day: float) -> tuple[float, float]:
    """Incidents per day at `day`, and how far the escalation has come (0 to 1)."""
    base = rates.base_rate_per_year / DAYS_PER_YEAR
    if h.course == Course.STEADY or day < h.onset_day:
        return base, 0.0
    if h.calm_day is not None and day >= h.calm_day:
        return rates.calm_rate_per_year / DAYS_PER_YEAR, 0.0
    duration = rates.escalation_days_max if h.harm_day is None else h.harm_day - h.onset_day
    if h.calm_day is not None:  # its would-be harm day: calm_day lies at a fraction of it
        duration = max(duration, h.calm_day - h.onset_day)
    elapsed = min(1.0, (day - h.onset_day) / duration)
    peak = rates.peak_rate_per_year / DAYS_PER_YEAR
    return base + (peak - base) * elapsed**rates.escalation_shape, elapsed


def _incident(
    rng: random.Random, rates: Incidents, h: SimHousehold, day: float, elapsed: float
) -> Incident:
    weights = [
        s + (a - s) * elapsed
        for s, a in zip(rates.severity_steady, rates.severity_at_harm, strict=True)
    ]
    severity = rng.choices(SEVERITIES, weights=weights)[0]
    sexual = rates.sexual_escalating if h.course == Course.ESCALATING else rates.sexual
    candidates = [
        ("physical_violence", rates.physical),
        ("psychological_violence", rates.psychological),
        ("witnessing_violence", rates.witnessing if h.child_ages else 0.0),
        ("sexual_violence", sexual),
    ]
    forms = tuple(form for form, share in candidates if rng.random() < share)
    return Incident(h.index, day, severity, forms)


def _signals(
    rng: random.Random,
    p: WorldParameters,
    households: tuple[SimHousehold, ...],
    incidents: tuple[Incident, ...],
) -> tuple[SimSignal, ...]:
    """What each party publishes about each incident it sees; and the safety conditions VT
    agreed with each calming household. Ordered by receipt (then by drawing order)."""
    drawn: list[SimSignal] = []
    for number, incident in enumerate(incidents):
        household = households[incident.household]
        for name, party in sorted(p.parties.items()):
            signal = _seen(rng, party, name, household, incident, number, len(drawn))
            if signal is not None:
                drawn.append(signal)
    vt = [name for name, party in sorted(p.parties.items()) if party.sector == VEILIG_THUIS]
    for household in households:
        if household.calm_day is not None and vt:
            drawn.append(_safety_conditions(household, vt[0], len(drawn)))
    horizon = p.horizon_days
    kept = sorted(
        (s for s in drawn if s.received_day < horizon), key=lambda s: (s.received_day, s.index)
    )
    return tuple(kept)


def _seen(
    rng: random.Random,
    party: Party,
    name: str,
    household: SimHousehold,
    incident: Incident,
    number: int,
    index: int,
) -> SimSignal | None:
    children = bool(household.child_ages)
    if not party.sees(incident.severity, children) or rng.random() >= party.probability:
        return None
    delay = rng.randint(party.delay_min_days, party.delay_max_days)
    return SimSignal(
        index=index,
        household=household.index,
        party=name,
        sector=party.sector,
        signal_type=party.signal_type(incident.severity, children),
        severity=incident.severity,
        forms=incident.forms,
        occurred_day=incident.day,
        received_day=int(incident.day) + delay,
        region=household.region_on(incident.day + delay),
        incident=number,
    )


def _safety_conditions(household: SimHousehold, party: str, index: int) -> SimSignal:
    assert household.calm_day is not None
    return SimSignal(
        index=index,
        household=household.index,
        party=party,
        sector=VEILIG_THUIS,
        signal_type=SAFETY_CONDITIONS_SET,
        severity="moderate",
        forms=(),
        occurred_day=household.calm_day,
        received_day=int(household.calm_day),
        region=household.region_on(household.calm_day),
        incident=None,
    )
