"""The yardstick's measures on a hand-made world: recall counts only alerts before the day of
serious harm, lead time is the days between, workload is scaled to a whole region's analysts,
and the threshold curve reads the recorded scores."""

from __future__ import annotations

import pytest

from radar.simulation.measures import Seen, Spread, measure, measure_at_threshold
from radar.simulation.world import Course, SimHousehold, World
from services.yardstick.world_file import load_world

PARAMETERS = load_world()


def _household(index: int, course: Course, harm: float | None = None) -> SimHousehold:
    return SimHousehold(index, course, "VT09", 2, (4,), 0.0, harm_day=harm)


WORLD = World(
    PARAMETERS,
    seed=0,
    households=(
        _household(0, Course.ESCALATING, harm=100.0),  # alerted on day 40: 60 days ahead
        _household(1, Course.ESCALATING, harm=50.0),  # alerted only on day 60: too late
        _household(2, Course.ESCALATING, harm=80.0),  # never alerted
        _household(3, Course.STEADY),  # alerted twice: workload, not recall
    ),
    incidents=(),
    signals=(),
)
SEEN = {
    0: Seen(alerts=((40.0, "cross_sector"),), scores=((10.0, 5.0), (40.0, 13.0))),
    1: Seen(alerts=((60.0, "threshold"),), scores=((60.0, 20.0),)),
    2: Seen(scores=((30.0, 3.0),)),
    3: Seen(alerts=((5.0, "threshold"), (9.0, "breach")), scores=((5.0, 14.0),)),
}


def test_recall_and_lead_time_count_alerts_before_the_harm_only() -> None:
    found = measure(WORLD, SEEN)
    assert found.escalating == 3
    assert found.recall == pytest.approx(1 / 3)
    assert found.lead_days == (60.0,)
    assert found.median_lead == 60.0


def test_workload_is_every_alert_per_week_per_analyst_of_a_whole_region() -> None:
    found = measure(WORLD, SEEN)
    weeks = PARAMETERS.horizon_days / 7
    analysts = PARAMETERS.workload.analysts_per_region * PARAMETERS.scale.region_fraction
    assert found.alerts == 4
    assert found.alerts_per_analyst_week == pytest.approx(4 / weeks / analysts)
    assert found.escalating_share == pytest.approx(2 / 4)


def test_the_threshold_curve_alerts_once_at_the_first_score_reaching_it() -> None:
    low = measure_at_threshold(WORLD, SEEN, 4.0)
    assert low.recall == pytest.approx(1 / 3)
    assert low.lead_days == (90.0,)  # household 0's score of 5 on day 10
    assert low.alerts == 3  # one per household that reached it
    high = measure_at_threshold(WORLD, SEEN, 15.0)
    assert high.recall == 0.0 and high.alerts == 1


def test_a_spread_over_seeds_is_mean_and_standard_deviation() -> None:
    assert Spread.of([1.0, 3.0]).shown(1) == "2.0 ± 1.4"
    assert Spread.of([2.0]).shown(0) == "2 ± 0"
