"""The timeline answer made from signals encoded once (services/timelines/answers.py) is, byte
for byte, what FastAPI made from the TimelineView (pydantic, exclude_unset) before: for any
signals, marks (via, earlier address, corrected), purpose fields and withheld counts, also when
the same signals were encoded before under other fields."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from privacy.disclosure import disclose, disclosure
from privacy.policy import Obligations
from privacy.purposes import TIMELINE_FIELDS
from radar.timeline import TimelineEntry
from services.timelines.answers import ShownSignals, timeline_json
from services.timelines.views import SignalView, TimelineView

SECTORS = ("police", "education", "ggz")
FIELDS = tuple(sorted(TIMELINE_FIELDS - {"forms_of_violence"}))  # v1 signals
KEPT = ShownSignals(size=50)  # shared by every example: slots are reused and dropped

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)
pseudonyms = st.builds(lambda n: f"p.k1.{n:032x}", st.integers(0, 2**128 - 1))
entries = st.builds(
    TimelineEntry,
    position=st.integers(1, 10**9),
    household=st.builds(lambda n: f"hh.k1.{n:032x}", st.integers(0, 3)),
    signal_id=st.uuids(),
    organisation=st.sampled_from(["org-a", "org-b"]),
    sector=st.sampled_from(SECTORS),
    signal_type=st.sampled_from(["incident", "concern"]),
    severity=st.sampled_from(["low", "high"]),
    occurred_at=moments,
    reported_at=moments,
    received_at=moments,
    region=st.sampled_from(["vt01", "vt13"]),
    persons=st.lists(
        st.tuples(pseudonyms, st.sampled_from(["child", "parent_or_carer"])), max_size=3
    ).map(tuple),
    corrected=st.booleans(),
)
shown = st.lists(st.tuples(entries, st.one_of(st.none(), pseudonyms), st.booleans()), max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    shown=shown,
    fields=st.frozensets(st.sampled_from(FIELDS)),
    withheld=st.one_of(st.none(), st.integers(1, 5)),
    by_purpose=st.one_of(st.none(), st.integers(1, 5)),
    again=st.frozensets(st.sampled_from(FIELDS)),
)
def test_the_answer_is_pydantics_bytes(
    shown: list[tuple[TimelineEntry, str | None, bool]],
    fields: frozenset[str],
    withheld: int | None,
    by_purpose: int | None,
    again: frozenset[str],
) -> None:
    obligations = Obligations(frozenset(SECTORS), fields, None)
    slots = KEPT.of(shown)
    [slot.json(disclosure(Obligations(frozenset(SECTORS), again, None))) for slot in slots]

    def view() -> TimelineView:
        made = TimelineView(
            household="hh.k1." + "0" * 32,
            purpose="triage",
            access="normal",
            fields=sorted(fields),
            signals=[],
            withheld_rule="count",
        )
        if by_purpose is not None:
            made.withheld_by_purpose = by_purpose
        if withheld is not None:
            made.withheld = withheld
        return made

    ours = timeline_json(view(), [s.json(disclosure(obligations)) for s in KEPT.of(shown)])

    before = view()
    records = []
    for entry, via, earlier in shown:  # as the store's records for disclosure were made
        record = entry.record(via)
        if earlier:
            record["earlier_address"] = True
        records.append(record)
    before.signals = [SignalView.model_validate(r) for r in disclose(obligations, records)]
    expected = TypeAdapter(TimelineView).dump_json(before, exclude_unset=True, by_alias=True)
    assert ours == expected
