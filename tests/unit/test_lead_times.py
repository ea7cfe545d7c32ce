"""The lead-time table's arithmetic: every report of the period counted once in its region, as
in time, late or pending by the definitions, and the shares those counts give."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from radar.dutch_calendar import working_day_number
from radar.lead_times import ReportDates, lead_time_table

FIRST, LAST, TODAY = date(2026, 7, 1), date(2026, 12, 31), date(2027, 1, 15)


@st.composite
def reports(draw: st.DrawFn) -> ReportDates:
    reported = draw(st.dates(FIRST - timedelta(days=20), LAST + timedelta(days=10)))
    decided = draw(st.none() | st.integers(0, 30).map(lambda d: reported + timedelta(days=d)))
    decision = draw(st.sampled_from(["own_investigation", "ongoing_care"]))
    closed = None
    if decided is not None and decision == "own_investigation":
        closed = draw(st.none() | st.integers(0, 90).map(lambda d: decided + timedelta(days=d)))
    return ReportDates(
        report_id=str(draw(st.uuids())),
        region=draw(st.sampled_from(["VT09", "VT13"])),
        reported_on=reported,
        decided_on=decided,
        decision=decision if decided is not None else None,
        closed_on=closed,
    )


@given(st.lists(reports(), max_size=40))
def test_every_report_of_the_period_counts_once_by_the_definitions(
    found: list[ReportDates],
) -> None:
    table = {row.region: row for row in lead_time_table(found, FIRST, LAST, TODAY)}
    for region in ("VT09", "VT13"):
        mine = [r for r in found if r.region == region and FIRST <= r.reported_on <= LAST]
        if not mine:
            assert region not in table
            continue
        row = table[region]
        decisions = row.decisions
        assert row.reports == len(mine) == decisions.in_time + decisions.late + decisions.pending
        # in time: fewer than 5 working days passed before the day of the decision (a decision
        # on the Saturday after working day 5 is late, one on the Saturday before it is not)
        in_time = [
            r
            for r in mine
            if r.decided_on is not None
            and working_day_number(r.reported_on, r.decided_on - timedelta(days=1)) < 5
        ]
        assert decisions.in_time == len(in_time)
        investigated = [r for r in mine if r.decision == "own_investigation"]
        counted = row.investigations
        assert counted.in_time + counted.late + counted.pending == len(investigated)
        if decisions.share is not None:
            expected = decisions.in_time / (decisions.in_time + decisions.late)
            assert abs(float(decisions.share) - expected) <= 0.0005
            assert decisions.met == (decisions.share >= decisions.norm)
