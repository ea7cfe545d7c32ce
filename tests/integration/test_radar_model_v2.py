"""Risk model 2 in force: adopted through `radar model adopt` (model 1 kept for history: old
scores keep their version), households rescored under it, its rules as a domain expert states
them (sexual violence alone is high risk; a third partner incident in a year escalates, a
second does not; elder abuse counts from 65; an incident 11 months after a high-risk alert
raises a repeat alert, 13 months after does not) and the risk endpoint explaining a model-2
score line by line, with the form and partner factors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from contracts.signal_v2 import SignalEventV2
from radar.alerts import AlertKind
from radar.case import HouseholdCase
from radar.household import Household
from radar.model_history import RiskModelHistory
from radar.risk import assess
from radar.risk_model import default_model
from radar.risk_model_v2 import MODEL_V2_FILE, RiskModelV2, default_model_v2
from services.casework.cli import model_cli
from services.database import Database
from services.ledger.store import open_ledger
from tests.support.radar_fixtures import (
    CHILD,
    FAMILY,
    MOTHER,
    Harness,
    radar_query_harness,
    signal,
)
from tests.support.signals_v2 import signal_v2 as a_signal_v2

FATHER = "p.k1." + "4" * 32
GRANDMOTHER = "p.k1." + "5" * 32
MODEL = default_model_v2()
# `radar model adopt` adopts (and rescores) at the system clock's now: the signals lie before it
NOW = datetime.now(UTC).replace(microsecond=0)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def signal_v2(
    kind: str,
    occurred_at: datetime,
    forms: Sequence[str] = (),
    persons: Sequence[dict[str, Any]] = (),
    sector: str = "police",
    severity: str = "moderate",
) -> SignalEventV2:
    """A signal.v2 about FAMILY, received an hour after it happened."""
    return a_signal_v2(kind, occurred_at, FAMILY, persons, forms, sector=sector, severity=severity)


PARTNERS = (
    {"pseudonym": MOTHER, "roles": ["partner", "victim"], "age": 34},
    {"pseudonym": FATHER, "roles": ["partner", "suspected_perpetrator"], "age": 36},
)


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database, clock=lambda: NOW)


@pytest.fixture
def adopted(harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Harness:
    """Model 2 adopted through the CLI, over a household with a v1 history."""
    radar = harness.radar
    radar.record(signal("school_absence", days_ago(100), severity="low"))  # raises nothing
    monkeypatch.setenv("RADAR_DATABASE_URL", radar.database.url)
    monkeypatch.setenv("RADAR_DATA_DIR", str(tmp_path / "data"))
    arguments = ["adopt", str(MODEL_V2_FILE), "--by", "m.visser"]
    arguments += ["--organisation", "vt-nederland", "--reason", "signal.v2's facts weigh"]
    result = CliRunner().invoke(model_cli, arguments)
    assert result.exit_code == 0, result.output
    assert "version 2 in force; 1 households rescored" in result.output
    radar.ledger.close()
    radar.ledger = open_ledger(radar.database)  # as the CLI left the store
    scores = [e for e in radar.events(Household.ScoreChanged) if e.household == FAMILY]
    assert [(e.model_version, e.cause) for e in scores] == [(1, "signals"), (2, "model_adopted")]
    facts = radar.ledger.household(FAMILY).signal_facts()
    assert scores[1].score == assess(facts, default_model(), scores[1].as_of).score, "as model 1"
    return harness


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_model_2_adopted_through_the_cli_scores_and_explains(adopted: Harness) -> None:
    radar = adopted.radar
    assert isinstance(radar.ledger.model_in_force(), RiskModelV2)
    [_, second] = radar.events(RiskModelHistory.ModelAdopted)
    assert (second.version, second.content) == (2, MODEL.content())
    history = CliRunner().invoke(model_cli, ["history"])
    assert "version 2" in history.output and "signal.v2's facts weigh" in history.output

    low = signal_v2("domestic_incident", days_ago(5), ["sexual_violence"], PARTNERS, severity="low")
    radar.record(low)
    household = radar.ledger.household(FAMILY)
    assessment = household.latest_assessment()
    assert assessment is not None and assessment.model_version == 2
    sexual = next(c for c in assessment.contributions if c.occurred_at == days_ago(5))
    assert (sexual.form, sexual.partner) == (1.5, 1.0)
    radar.project()
    assert isinstance(radar.worklist.model_in_force(), RiskModelV2)
    [alert] = radar.open_alerts("VT09")
    assert alert.kind == "threshold", "sexual violence alone is high risk"
    assert assessment.score < Decimal(str(MODEL.thresholds.alert_score)), "not by its score"
    raised = [e for e in radar.events(HouseholdCase.AlertRaised) if e.household == FAMILY]
    assert raised[-1].reasons == ["acute_form"]

    risk = adopted.get(f"/v1/households/{FAMILY}/risk", params={"purpose": "triage"}).json()
    assert risk["model_version"] == 2
    lines = [c for c in risk["explanation"] if not c.get("withheld")]
    assert sum(Decimal(c["points"]) for c in risk["explanation"]) == Decimal(risk["score_now"])
    assert all({"form", "partner"} <= set(c["factors"]) for c in lines)
    assert sorted(c["factors"]["form"] for c in lines) == [1.0, 1.5]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_third_partner_incident_in_a_year_escalates(adopted: Harness) -> None:
    radar = adopted.radar
    incident = ("domestic_incident", ["physical_violence"], PARTNERS)
    radar.record(signal_v2(incident[0], days_ago(330), incident[1], incident[2]))
    radar.record(signal_v2(incident[0], days_ago(250), incident[1], incident[2]))
    two = radar.ledger.household(FAMILY).latest_assessment()
    assert two is not None and {c.partner for c in two.contributions} == {1.0}
    assert radar.open_alerts("VT09") == [], "two partner incidents in a year: no alert"
    radar.record(signal_v2(incident[0], days_ago(180), incident[1], incident[2]))
    three = radar.ledger.household(FAMILY).latest_assessment()
    assert three is not None
    third = next(c for c in three.contributions if c.occurred_at == days_ago(180))
    assert third.partner == MODEL.partner_violence.factor
    [alert] = radar.open_alerts("VT09")
    assert alert.kind == "threshold"
    raised = [e for e in radar.events(HouseholdCase.AlertRaised) if e.household == FAMILY]
    assert "partner_violence" in raised[-1].reasons


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_elder_abuse_counts_from_65_not_at_64(adopted: Harness) -> None:
    radar = adopted.radar
    for age, days in ((64, 60), (65, 30)):
        person = {"pseudonym": GRANDMOTHER, "roles": ["victim"], "age": age}
        radar.record(
            signal_v2(
                "elder_abuse_concern", days_ago(days), ["elder_abuse"], [person], "municipality"
            )
        )
    assessment = radar.ledger.household(FAMILY).latest_assessment()
    assert assessment is not None
    forms = {c.occurred_at: c.form for c in assessment.contributions}
    assert forms[days_ago(60)] == 1.0 and forms[days_ago(30)] == MODEL.form("elder_abuse").factor


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("months", "repeated"), [(11, True), (13, False)])
def test_an_incident_within_a_year_of_a_high_risk_alert_raises_a_repeat_alert(
    adopted: Harness, months: int, repeated: bool
) -> None:
    """The MARAC rule, whatever the score: a minor incident long after the alert."""
    radar = adopted.radar
    radar.record(signal("huisverbod", days_ago(1)))  # a threshold alert
    [high_risk] = [a for a in radar.open_alerts("VT09") if a.kind == "threshold"]
    later = high_risk.raised_at + timedelta(days=months * 30.5)
    minor = signal("domestic_incident", later, severity="low", children=(CHILD,))
    radar.record(minor)
    radar.record(minor)  # once per incident: a redelivery raises nothing again
    repeats = [a for a in radar.open_alerts("VT09") if a.kind == AlertKind.REPEAT]
    assert [a.trigger_signals for a in repeats] == ([(str(minor.event_id),)] if repeated else [])
