"""The yardstick drives a tiny synthetic world through the real pipeline (ingest, the real
broker, the aggregator, the worklist): what it measures is dated in the simulation's time, the
same seed gives the same figures, and the single-party baseline is the same pipeline fed only
that party's signals (the radar is the baseline with every party let through)."""

from __future__ import annotations

import pytest

from radar.risk_model_v2 import default_model_v2
from radar.simulation.measures import Seen, measure, measure_at_threshold
from radar.simulation.world import World, generate
from services.yardstick import pipeline
from services.yardstick.cli import radar_in_process
from services.yardstick.experiment import THRESHOLDS
from services.yardstick.submissions import PUBLISHED_AT
from services.yardstick.world_file import load_world
from testkit.services import KAFKA_BOOTSTRAP

END_OF_DAY = PUBLISHED_AT.hour / 24  # every signal is received at 17:00 on its day


@pytest.fixture(scope="module")
def world() -> World:
    """About forty households, a third of them escalating: a hundred-odd signals."""
    shipped = load_world()
    scale = shipped.scale.model_copy(update={"region_fraction": 0.005})
    shares = shipped.households.model_copy(update={"escalating_share": 0.35})
    return generate(shipped.model_copy(update={"scale": scale, "households": shares}), 5)


@pytest.fixture(scope="module")
def radar(world: World) -> dict[int, Seen]:
    return pipeline.run(world, default_model_v2(), radar_in_process, KAFKA_BOOTSTRAP)


def test_alerts_are_raised_on_the_simulated_day_of_the_signal_that_raised_them(
    world: World, radar: dict[int, Seen]
) -> None:
    received = {(s.household, s.received_day) for s in world.signals}
    alerts = [(h, day) for h, seen in radar.items() for day, _ in seen.alerts]
    assert alerts, "the tiny world raised no alert at all"
    for household, day in alerts:
        assert day % 1 == pytest.approx(END_OF_DAY)  # simulated time, not the wall clock's
        assert (household, int(day)) in received
    found = measure(world, radar)
    assert found.recall > 0 and found.lead_days


def test_the_same_seed_gives_the_same_figures_and_the_radar_is_the_unfiltered_baseline(
    world: World, radar: dict[int, Seen]
) -> None:
    everyone = frozenset(world.parameters.parties)
    again = pipeline.run(world, default_model_v2(), radar_in_process, KAFKA_BOOTSTRAP, everyone)
    assert _alert_days(again) == _alert_days(radar)
    assert measure(world, again) == measure(world, radar)
    for threshold in THRESHOLDS:
        assert measure_at_threshold(world, again, threshold) == measure_at_threshold(
            world, radar, threshold
        )


def _alert_days(seen: dict[int, Seen]) -> dict[int, list[float]]:
    """Each household's alerts by day. (Their kinds may differ between runs: signals received
    on the same day may reach the aggregator in one batch or two, and then one alert is a
    cross-sector match where the other was a threshold alert, on the same day.)"""
    return {household: [day for day, _ in s.alerts] for household, s in seen.items()}


def test_a_single_party_baseline_sees_only_that_partys_signals(
    world: World, radar: dict[int, Seen]
) -> None:
    police = frozenset({"police"})
    alone = pipeline.run(world, default_model_v2(), radar_in_process, KAFKA_BOOTSTRAP, police)
    by_police = {s.household for s in world.of_parties(police)}
    scored = {h for h, seen in alone.items() if seen.scores}
    assert scored == by_police  # every household the police reported, and no other
    assert sum(len(s.alerts) for s in alone.values()) < sum(len(s.alerts) for s in radar.values())
