"""The tables of the CBS beleidsinformatie (policy information Veilig Thuis delivers each
half-year): advice requests and reports per region, by form of violence and by the reporter's
role (sector): who reported to Veilig Thuis, a professional by sector or a citizen (signal.v2's
`reported_by`, contracts.vocabulary_v2.Reporter; `not_known` when the signal did not say), reports
by the follow-up their safety assessment decided,
and investigations by their conclusion; each a regions x categories frequency table, before
disclosure control (privacy/statistical_disclosure.py). An investigation counts in the period in
which it was closed, in the region that closed it.

A report or advice request counts in the period in which it was made: its `occurred_at`, on the
Dutch calendar (CBS counts by the date of the melding, not by when the radar heard of it), in
the region the signal names. Retracted signals do not count; corrected ones count as corrected.
Every one of the 26 regions is a row, also when it counted nothing, so the layout of the file
never depends on the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from contracts.regions import VtRegion
from contracts.vocabulary import SignalType
from contracts.vocabulary_v2 import FormOfViolence, Reporter
from privacy.statistical_disclosure import TOTAL, Table, table_of
from radar.periods import Period
from radar.safety_assessment import InvestigationOutcome, SafetyDecision
from radar.statistics_history import SignalNote, StatisticsHistory

REGIONS = tuple(str(r) for r in VtRegion)
NOT_NAMED = "not_named"
"""The column of the signals that named no form of violence (every v1 signal)."""
NOT_KNOWN = "not_known"
"""The reporter column of the signals that did not say who reported (every one recorded
before signal.v2 could say it, and every one whose publisher left it out)."""

KINDS: dict[str, str] = {
    "advice_request": str(SignalType.VT_ADVICE_REQUEST),
    "report": str(SignalType.VT_REPORT),
}
"""The file's name for each kind of contact, and the signal type it counts."""


@dataclass(frozen=True)
class Dimension:
    """A way of splitting the contacts: its categories, and those of one signal."""

    name: str
    categories: tuple[str, ...]
    of: Callable[[SignalNote], tuple[str, ...]]
    description: str

    @property
    def single_valued(self) -> bool:
        return self.name != "form_of_violence"


DIMENSIONS = (
    Dimension(
        "form_of_violence",
        (*(str(f) for f in FormOfViolence), NOT_NAMED),
        lambda note: note.forms_of_violence or (NOT_NAMED,),
        "The forms of violence the signal names (contract v2); a contact naming several "
        "counts under each, so a row's cells may add up to more than its total.",
    ),
    Dimension(
        "sector",
        (*(str(r) for r in Reporter), NOT_KNOWN),
        lambda note: (note.reported_by or NOT_KNOWN,),
        "The reporter's role (sector): who reported to Veilig Thuis (reported_by), a "
        "professional by sector or a citizen (self, relative, ...); not_known when not said. "
        "Not the sending organisation, which for these two types is always Veilig Thuis.",
    ),
)


def contacts(history: StatisticsHistory, period: Period, signal_type: str) -> Iterator[SignalNote]:
    """The signals of this type made in the period (by occurred_at), in any household."""
    for household in history.households.values():
        for note in household.signals.values():
            if note.signal_type == signal_type and note.occurred_at in period:
                yield note


def kind_table(history: StatisticsHistory, period: Period) -> Table:
    """Advice requests and reports per region."""
    inner: dict[tuple[str, str], int] = {}
    for kind, signal_type in KINDS.items():
        for note in contacts(history, period, signal_type):
            inner[note.region, kind] = inner.get((note.region, kind), 0) + 1
    table = table_of("contacts", REGIONS, tuple(KINDS), inner)
    shared = {(r, kind): _shared(kind, r) for kind in KINDS for r in (*REGIONS, TOTAL)}
    return replace(table, shared=shared)


def _shared(kind: str, region: str) -> str:
    """The name of 'the contacts of this kind in this region' (or in all: TOTAL), the same
    quantity in the table of contacts and as a row total of that kind's tables."""
    return f"{kind}@{region}"


def dimension_table(
    history: StatisticsHistory, period: Period, kind: str, dimension: Dimension
) -> Table:
    """One kind of contact per region, by one dimension."""
    inner: dict[tuple[str, str], int] = {}
    totals: dict[str, int] = {}
    for note in contacts(history, period, KINDS[kind]):
        totals[note.region] = totals.get(note.region, 0) + 1
        for category in note_categories(dimension, note):
            inner[note.region, category] = inner.get((note.region, category), 0) + 1
    table = table_of(
        f"{kind}_by_{dimension.name}",
        REGIONS,
        dimension.categories,
        inner,
        None if dimension.single_valued else totals,
    )
    return replace(table, shared={(r, TOTAL): _shared(kind, r) for r in (*REGIONS, TOTAL)})


def note_categories(dimension: Dimension, note: SignalNote) -> tuple[str, ...]:
    """A signal's categories in a dimension; one outside the known ones is an error, not a
    silent omission (the vocabulary only grows, and the tables must grow with it)."""
    found = dimension.of(note)
    unknown = set(found) - set(dimension.categories)
    if unknown:
        raise ValueError(f"{dimension.name}: no column for {sorted(unknown)}")
    return found


NOT_ASSESSED = "not_assessed"
"""The follow-up column of the reports without a recorded safety assessment (yet)."""
FOLLOW_UPS = (*(str(d) for d in SafetyDecision), NOT_ASSESSED)


def follow_up_table(history: StatisticsHistory, period: Period) -> Table:
    """The reports made in the period per region, by the decision of their safety assessment
    (radar.safety_assessment.SafetyDecision), as far as it was recorded."""
    inner: dict[tuple[str, str], int] = {}
    for household in history.households.values():
        for report_id, note in household.signals.items():
            if note.signal_type == KINDS["report"] and note.occurred_at in period:
                decided = household.decisions.get(report_id, NOT_ASSESSED)
                inner[note.region, decided] = inner.get((note.region, decided), 0) + 1
    table = table_of("report_by_follow_up", REGIONS, FOLLOW_UPS, inner)
    return replace(table, shared={(r, TOTAL): _shared("report", r) for r in (*REGIONS, TOTAL)})


def investigation_table(history: StatisticsHistory, period: Period) -> Table:
    """The own investigations closed in the period per region, by their conclusion."""
    inner: dict[tuple[str, str], int] = {}
    for household in history.households.values():
        for closed in household.investigations:
            if closed.closed_at in period:
                key = (closed.region, closed.outcome)
                inner[key] = inner.get(key, 0) + 1
    return table_of("investigations", REGIONS, tuple(str(o) for o in InvestigationOutcome), inner)


def cbs_tables(history: StatisticsHistory, period: Period) -> list[Table]:
    """Every table of one delivery, in the file's order."""
    tables = [kind_table(history, period)]
    for kind in KINDS:
        tables += [dimension_table(history, period, kind, d) for d in DIMENSIONS]
    return [*tables, follow_up_table(history, period), investigation_table(history, period)]
