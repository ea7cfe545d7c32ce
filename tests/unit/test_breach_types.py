"""Which signal types break a safety plan: the default an analyst expects when none are listed,
listed types instead of it, and a stored plan read with the types its event carries."""

from __future__ import annotations

from radar.safety import ALWAYS_EXCLUDED, DEFAULT_BREACH_TYPES, breach_types


def test_no_listed_types_means_the_incidents_an_analyst_expects() -> None:
    expected = {
        "huisverbod",
        "domestic_incident",
        "incident_with_children_present",
        "safety_conditions_breached",
    }
    assert set(breach_types([])) == DEFAULT_BREACH_TYPES == expected


def test_listed_types_replace_the_default_but_a_breach_report_always_counts() -> None:
    assert breach_types(["school_absence"]) == sorted({"school_absence"} | ALWAYS_EXCLUDED)


def test_a_plan_stored_under_the_old_default_keeps_its_meaning() -> None:
    assert breach_types(["safety_conditions_breached"]) == ["safety_conditions_breached"]
