"""Risk model v2 (radar/risk_v2.py over radar/risk_models/v2.toml): its explanation adds up to
its score; a v1 history upcast scores as model 1 scores it; acute forms, partner violence
repeated, the MARAC repeat rule and elder abuse from 65 work as a domain expert expects."""

from __future__ import annotations

import tomllib
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts.signal_types_v2 import SIGNAL_TYPES_V2
from contracts.signal_v1 import SignalEventV1
from contracts.signal_v2 import SignalEventV2
from contracts.upcast_v1_v2 import upcast_signal
from contracts.vocabulary import Severity
from contracts.vocabulary_v2 import FormOfViolence, PersonRoleV2
from radar.risk import SignalFact, assess
from radar.risk_model import default_model
from radar.risk_model_v2 import MODEL_V2_FILE, RiskModelV2, default_model_v2
from radar.risk_v2 import (
    Band,
    BandReason,
    BandRule,
    PersonFact,
    SignalFactV2,
    assess_v2,
    repeat_due,
)
from tests.support.contract_strategies import START, v1_signals, v2_signals

MODEL = default_model_v2()
MODEL_V1 = default_model()
PROPERTY = settings(max_examples=40, deadline=None)
moments = st.integers(0, 4 * 365 * 24).map(lambda hours: START + timedelta(hours=hours))
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
VICTIM = PersonFact("p.k1." + "a1" * 16, ("partner", "victim"), 34)
SUSPECT = PersonFact("p.k1." + "b2" * 16, ("partner", "suspected_perpetrator"), 36)


def _facts(events: list[SignalEventV2]) -> list[SignalFactV2]:
    return [SignalFactV2.from_event(e) for e in events]


@settings(max_examples=30, deadline=None)
@given(v2_signals())
def test_facts_are_what_the_signal_says(event: SignalEventV2) -> None:
    [fact] = _facts([event])
    assert (fact.signal_type, fact.severity, fact.occurred_at) == (
        event.signal_type,
        event.severity,
        event.occurred_at,
    )
    assert fact.forms == tuple(event.forms_of_violence)
    assert [(p.pseudonym, p.roles, p.age) for p in fact.persons] == [
        (p.pseudonym, tuple(p.roles), p.age) for p in event.persons
    ]


def _fact(
    days_ago: float,
    signal_type: str = "domestic_incident",
    forms: tuple[str, ...] = (),
    persons: tuple[PersonFact, ...] = (VICTIM, SUSPECT),
    sector: str = "police",
    severity: str = "moderate",
) -> SignalFactV2:
    moment = NOW - timedelta(days=days_ago)
    return SignalFactV2(
        str(uuid.uuid4()), sector, signal_type, severity, moment, moment, "VT09", forms, persons
    )


_PEOPLE = tuple(f"p.k1.{n:032x}" for n in range(4))


@st.composite
def facts(draw: st.DrawFn) -> SignalFactV2:
    """Any v2 signal's facts (cheaper to draw than whole signals: SignalFactV2.from_event is
    checked on those in test_facts_are_what_the_signal_says)."""
    kind, definition = draw(st.sampled_from(list(SIGNAL_TYPES_V2.items())))
    occurred = START + timedelta(minutes=draw(st.integers(0, 3 * 365 * 24 * 60)))
    person = st.builds(
        PersonFact,
        st.sampled_from(_PEOPLE),
        st.lists(
            st.sampled_from([str(r) for r in PersonRoleV2]), min_size=1, max_size=3, unique=True
        ).map(tuple),
        st.none() | st.integers(0, 100),
    )
    return SignalFactV2(
        signal_id=str(draw(st.uuids())),
        sector=str(draw(st.sampled_from(sorted(definition.sectors)))),
        signal_type=str(kind),
        severity=str(draw(st.sampled_from(list(Severity)))),
        occurred_at=occurred,
        received_at=occurred,
        region="VT09",
        forms=tuple(
            draw(
                st.lists(st.sampled_from([str(f) for f in FormOfViolence]), max_size=3, unique=True)
            )
        ),
        persons=tuple(draw(st.lists(person, max_size=3, unique_by=lambda p: p.pseudonym))),
    )


v2_histories = st.lists(facts(), max_size=12, unique_by=lambda f: f.signal_id)


@PROPERTY
@given(v2_histories, moments)
def test_the_explanation_adds_up_to_the_score(
    history: list[SignalFactV2], moment: datetime
) -> None:
    assessment = assess_v2(history, MODEL, moment)
    assert sum(c.points for c in assessment.contributions) == assessment.score
    assert all(c.points > 0 for c in assessment.contributions)
    for child, score in assessment.child_scores.items():
        own = [f for f in history if child in f.children(MODEL) or not f.children(MODEL)]
        assert score == assess_v2(own, MODEL, moment).score
    if assessment.score >= Decimal(str(MODEL.thresholds.alert_score)):
        assert assessment.reasons[0] == BandReason(BandRule.SCORE, Band.HIGH, ())
    assert assessment.band is max(
        (r.band for r in assessment.reasons), key=list(Band).index, default=Band.LOW
    )


@PROPERTY
@given(v2_histories, facts(), moments)
def test_a_new_signal_never_lowers_the_score_or_the_band(
    history: list[SignalFactV2], new: SignalFactV2, moment: datetime
) -> None:
    before = assess_v2(history, MODEL, moment)
    after = assess_v2([*history, new], MODEL, moment)
    assert after.score >= before.score
    assert list(Band).index(after.band) >= list(Band).index(before.band)


@settings(max_examples=30, deadline=None)
@given(st.lists(v1_signals(), max_size=10, unique_by=lambda e: e.event_id), moments)
def test_a_v1_history_upcast_scores_under_model_2_as_model_1_scores_it(
    history: list[SignalEventV1], moment: datetime
) -> None:
    """v1 names no form, partner or age: both new factors are 1 and no rule lifts the band, so
    score, explanation and child scores are model 1's to the cent, and the band is high exactly
    where model 1 raises a threshold alert."""
    assert MODEL.keeps_v1(MODEL_V1)
    v1_facts = [
        SignalFact(
            str(e.event_id),
            str(e.sector),
            str(e.signal_type),
            str(e.severity),
            e.occurred_at,
            e.received_at,
            str(e.region),
            tuple(sorted({p.pseudonym for p in e.persons if p.role == "child"})),
        )
        for e in history
    ]
    old = assess(v1_facts, MODEL_V1, moment)
    new = assess_v2(_facts([upcast_signal(e) for e in history]), MODEL, moment)
    assert new.score == old.score
    assert [(c.signal_id, c.points) for c in new.contributions] == [
        (c.signal_id, c.points) for c in old.contributions
    ]
    assert new.child_scores == old.child_scores
    assert (new.band is Band.HIGH) == (old.score >= Decimal(str(MODEL_V1.thresholds.alert_score)))
    assert {r.rule for r in new.reasons} <= {BandRule.SCORE}


@PROPERTY
@given(
    v2_histories,
    st.sampled_from(
        [f for f, weight in MODEL.forms_of_violence.items() if weight.acute and f != "elder_abuse"]
    ),
)
def test_an_acute_form_raises_any_household_to_the_high_band_on_its_own(
    history: list[SignalFactV2], form: str
) -> None:
    acute = _fact(0, "vt_advice_request", (form,), (), "veilig_thuis", "low")
    assessment = assess_v2([*history, acute], MODEL, NOW)
    assert assessment.band is Band.HIGH
    assert any(
        r.rule is BandRule.ACUTE_FORM and acute.signal_id in r.signal_ids
        for r in assessment.reasons
    )
    alone = assess_v2([acute], MODEL, NOW)
    assert alone.band is Band.HIGH and alone.score < Decimal(str(MODEL.thresholds.alert_score))
    a_year_later = assess_v2([acute], MODEL, NOW + timedelta(days=MODEL.acute.window_days + 1))
    assert a_year_later.band is Band.LOW


def test_partner_violence_escalates_on_the_third_incident_within_twelve_months() -> None:
    first, second, third = (_fact(days, severity="low") for days in (300, 150, 1))
    two = assess_v2([first, second], MODEL, NOW)
    assert BandRule.PARTNER_VIOLENCE not in {r.rule for r in two.reasons}
    assert all(c.partner == 1.0 for c in two.contributions)
    three = assess_v2([first, second, third], MODEL, NOW)
    partner = {c.signal_id: c.partner for c in three.contributions}
    assert partner == {first.signal_id: 1.0, second.signal_id: 1.0, third.signal_id: 1.5}
    assert three.band is Band.HIGH
    assert three.score < Decimal(str(MODEL.thresholds.alert_score))  # high by the rule alone
    spread = [_fact(days, severity="low") for days in (500, 250, 1)]  # three in 16 months
    assert BandRule.PARTNER_VIOLENCE not in {r.rule for r in assess_v2(spread, MODEL, NOW).reasons}
    victim = PersonFact("p.k1." + "c3" * 16, ("victim",))
    strangers = [_fact(days, persons=(victim,)) for days in (300, 150, 1)]  # no (ex-)partner
    assert BandRule.PARTNER_VIOLENCE not in {
        r.rule for r in assess_v2(strangers, MODEL, NOW).reasons
    }


def test_the_number_of_partner_incidents_is_configurable() -> None:
    rule = MODEL.partner_violence.model_copy(update={"incidents": 2})
    two = MODEL.model_copy(update={"partner_violence": rule})
    facts = [_fact(150, severity="low"), _fact(1, severity="low")]
    assert assess_v2(facts, two, NOW).band is Band.HIGH
    assert assess_v2(facts, MODEL, NOW).band is not Band.HIGH


def test_marac_any_new_incident_within_a_year_of_a_high_risk_alert_raises_a_repeat() -> None:
    alert = NOW - timedelta(days=330)
    minor = _fact(0, "school_absence", persons=(), sector="education", severity="low")
    incident = _fact(0, "client_disclosure", persons=(), sector="youth_care", severity="low")
    by_form = _fact(0, "local_team_concern", ("neglect",), (), "municipality", "low")
    assert repeat_due(incident, [alert], MODEL) == alert
    assert repeat_due(by_form, [alert], MODEL) == alert
    assert repeat_due(minor, [alert], MODEL) is None  # not an incident
    assert repeat_due(incident, [NOW - timedelta(days=400)], MODEL) is None  # over a year
    assert repeat_due(incident, [NOW + timedelta(days=1)], MODEL) is None  # before the alert
    assessment = assess_v2([incident, minor], MODEL, NOW, high_risk_alerts=[alert])
    assert [r.signal_id for r in assessment.repeats] == [incident.signal_id]
    alone = assess_v2([incident], MODEL, NOW, high_risk_alerts=[alert])
    assert alone.band is Band.LOW and alone.repeats  # whatever the score


def test_elder_abuse_counts_for_a_person_of_65_or_older() -> None:
    def form_factor(age: int | None) -> float:
        person = PersonFact("p.k1." + "e5" * 16, ("victim",), age)
        fact = _fact(0, "elder_abuse_concern", ("elder_abuse",), (person,), "home_care")
        [contribution] = assess_v2([fact], MODEL, NOW).contributions
        return contribution.form

    assert form_factor(65) == form_factor(88) == MODEL.forms_of_violence["elder_abuse"].factor
    assert form_factor(64) == form_factor(None) == 1.0


def test_the_model_file_is_complete_and_keeps_model_1() -> None:
    assert MODEL.keeps_v1(MODEL_V1)
    with MODEL_V2_FILE.open("rb") as handle:
        content = tomllib.load(handle)
    del content["forms_of_violence"]["neglect"]
    with pytest.raises(ValidationError, match="forms_of_violence lacks"):
        RiskModelV2.model_validate(content)
    content = tomllib.loads(MODEL_V2_FILE.read_text(encoding="utf-8"))
    content["signal_types"]["zorgmelding"]["weight"] = 3.5
    assert not RiskModelV2.model_validate(content).keeps_v1(MODEL_V1)
