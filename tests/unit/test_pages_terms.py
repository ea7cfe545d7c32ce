"""The domain values the pages show (figures, definitions, the safety assessment instrument,
alert kinds, statuses, triage outcomes, sectors, signal types, severities) read in Dutch on a
Dutch page and in English on an English one. The values are enumerated from the domain modules
themselves, so a new figure or decision without a Dutch entry in the catalogue fails here."""

from __future__ import annotations

from contracts.signal_types_v2 import SignalTypeV2
from contracts.vocabulary import Sector, Severity, SignalType
from contracts.vocabulary_v2 import SectorV2
from radar.alerts import AlertKind, AlertStatus, TriageOutcome
from radar.effect_monitor import DEFINITIONS as FIGURES
from radar.safety_assessment import INSTRUMENTS, SafetyDecision
from services.casework.lead_time_views import DEFINITIONS as LEAD_TIMES
from services.pages.i18n import term, translations

ACCESS = ("normal", "cross_region", "break_glass")
"""How a household was opened, and the kind of a notice to its region (services.gate: strings
there, not an enum)."""


def shown_terms() -> set[tuple[str, str]]:
    """Every (kind, value) a template passes to `term`."""
    terms = {("figure", name) for name in FIGURES} | {("lead_time", name) for name in LEAD_TIMES}
    for instrument in INSTRUMENTS.values():
        terms |= {(q.key, str(v)) for q in instrument.questions for v in q.values}
        terms |= {("decision", str(d)) for d in instrument.decisions}
    terms |= {("alert_kind", str(k)) for k in AlertKind}
    terms |= {("alert_status", str(s)) for s in AlertStatus}
    terms |= {("triage_outcome", str(o)) for o in TriageOutcome}
    terms |= {("sector", str(s)) for s in (*Sector, *SectorV2)}
    terms |= {("signal_type", str(t)) for t in (*SignalType, *SignalTypeV2)}
    terms |= {("severity", str(s)) for s in Severity}
    terms |= {("access", a) for a in ACCESS}
    return terms


def shown_texts() -> set[str]:
    """Every English text of the domain a template passes to `_`."""
    texts = set(FIGURES.values()) | set(LEAD_TIMES.values())
    for instrument in INSTRUMENTS.values():
        texts |= set(instrument.rules)
    return texts


def test_every_domain_value_a_page_shows_has_its_dutch_translation() -> None:
    dutch = translations("nl")
    missing = sorted(
        f"{kind}:{value}"
        for kind, value in shown_terms()
        if dutch.gettext(f"{kind}:{value}") == f"{kind}:{value}"
    )
    assert not missing, missing


def test_every_domain_text_a_page_shows_has_its_dutch_translation() -> None:
    dutch = translations("nl")
    assert not sorted(t for t in shown_texts() if dutch.gettext(t) == t)


def test_a_decision_reads_as_veilig_thuis_writes_it_in_dutch_and_as_words_in_english() -> None:
    decision = str(SafetyDecision.CHILD_PROTECTION_BOARD)
    assert (
        term(translations("nl"), "decision", decision)
        == "Verzoek tot onderzoek Raad voor de Kinderbescherming"
    )
    assert term(translations("en"), "decision", decision) == "Child protection board"
    assert term(translations("en"), "figure", "households_in_view") == "Households in view"
