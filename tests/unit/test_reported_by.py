"""signal.v2's `reported_by` (who reported to Veilig Thuis): every sector and the citizens
CBS tells apart, each with a Dutch term; said only of a report or advice request; optional,
so what was sent and stored before stays valid; counted in the CBS tables as the reporter,
`not_known` when not said."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.signal_v2 import SignalEventV2
from contracts.vocabulary_v2 import REPORTERS, Reporter, SectorV2
from radar.cbs_tables import DIMENSIONS, NOT_KNOWN, note_categories
from radar.household_upcasts import SignalRecordedUpcasts
from radar.statistics_history import SignalNote
from services.signals.submission_v2 import SignalSubmissionV2

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CITIZENS = {"self", "relative", "neighbour_or_acquaintance", "anonymous", "other_citizen"}


def _event(signal_type: str = "vt_report", sector: str = "veilig_thuis", **more: Any) -> Any:
    return {
        "event_id": str(uuid.uuid4()),
        "organisation": "vt-utrecht",
        "sector": sector,
        "signal_type": signal_type,
        "severity": "high",
        "occurred_at": (NOW - timedelta(days=1)).isoformat(),
        "reported_at": NOW.isoformat(),
        "received_at": NOW.isoformat(),
        "region": "VT09",
        "household": "hh.k1." + "ab" * 16,
        "pseudonym_key_id": "k1",
        **more,
    }


def test_a_reporter_is_any_sector_or_a_citizen_and_each_has_a_dutch_term() -> None:
    assert {str(s) for s in SectorV2} | CITIZENS <= {str(r) for r in Reporter}
    assert set(REPORTERS) == set(Reporter)
    assert all(t.dutch.strip() and t.meaning.strip() for t in REPORTERS.values())
    assert REPORTERS[Reporter.POLICE].dutch == "Politie"


@pytest.mark.parametrize("kind", ["vt_report", "vt_advice_request"])
def test_a_report_or_advice_request_says_who_reported_or_nothing(kind: str) -> None:
    said = SignalEventV2.model_validate(_event(kind, reported_by="neighbour_or_acquaintance"))
    assert said.reported_by == Reporter.NEIGHBOUR_OR_ACQUAINTANCE
    unsaid = SignalEventV2.model_validate_json(
        SignalEventV2.model_validate(_event(kind)).model_dump_json()
    )
    assert unsaid.reported_by is None


def test_no_other_signal_type_may_say_who_reported() -> None:
    with pytest.raises(ValidationError, match="reported_by: only vt_advice_request and vt_report"):
        SignalEventV2.model_validate(_event("zorgmelding", "police", reported_by="self"))
    submission = {
        "event_id": str(uuid.uuid4()),
        "signal_type": "zorgmelding",
        "reported_by": "self",
        "severity": "high",
        "occurred_at": NOW.isoformat(),
        "region": "VT09",
        "household": {"postcode": "3511AB", "house_number": 14},
    }
    with pytest.raises(ValidationError) as raised:
        SignalSubmissionV2.model_validate(submission)
    assert [e["loc"] for e in raised.value.errors()] == [("reported_by",)]


def _note(reported_by: str | None) -> SignalNote:
    return SignalNote(
        signal_type="vt_report",
        sector="veilig_thuis",
        reported_by=reported_by,
        region="VT09",
        occurred_at=NOW,
        received_at=NOW,
        forms_of_violence=(),
        children=(),
    )


def test_the_cbs_sector_tables_count_the_reporter_and_not_known_when_not_said() -> None:
    sector = next(d for d in DIMENSIONS if d.name == "sector")
    assert note_categories(sector, _note("police")) == ("police",)
    assert note_categories(sector, _note("anonymous")) == ("anonymous",)
    assert note_categories(sector, _note(None)) == (NOT_KNOWN,)
    assert sector.categories[-1] == NOT_KNOWN and set(sector.categories) >= CITIZENS


def test_a_signal_recorded_before_version_3_reads_as_not_said() -> None:
    state: dict[str, Any] = {"forms_of_violence": ["neglect"], "persons": []}
    SignalRecordedUpcasts.upcast_v2_v3(state)
    assert state["reported_by"] is None
