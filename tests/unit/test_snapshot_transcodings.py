"""The household's typed state reads back from a snapshot as it was written: signal facts and
factors in today's positional form, and signal facts in the dict form older snapshots hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder

from radar.risk import Factors, SignalFact
from services.ledger.transcodings import register_state_transcodings

MOMENT = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=timezone(timedelta(hours=1)))
FACT = SignalFact(
    "0b7e0c3e-8d0f-4f5e-9a51-2f1f6f4e8a11",
    "police",
    "huisverbod",
    "high",
    MOMENT,
    MOMENT.astimezone(UTC) + timedelta(hours=2),
    "VT09",
    ("p.k1." + "a" * 32, "p.k1." + "b" * 32),
)


def _transcoder(ours: bool = True) -> JSONTranscoder:
    transcoder = JSONTranscoder()
    transcoder.register(DatetimeAsISO())  # as the ledger's, which has the library's too
    if ours:
        register_state_transcodings(transcoder)
    return transcoder


def test_facts_and_factors_read_back_equal_and_small() -> None:
    transcoder = _transcoder()
    factors = Factors(
        FACT.signal_id, "police", "huisverbod", "high", MOMENT, 12.0, 365.0, 1.5, 1.1, 1.25, 1.5, 2
    )
    state = {"facts": [FACT], "explained": {FACT.signal_id: factors}}
    encoded = transcoder.encode(state)
    assert transcoder.decode(encoded) == state
    assert len(encoded) < 600, "one signal's fact and factors in a snapshot"


def test_a_fact_in_the_older_dict_form_still_reads() -> None:
    transcoder = _transcoder()
    old = {"_type_": "radar_signal_fact", "_data_": FACT.record()}
    legacy = _transcoder(ours=False)  # writes the dict as it was, datetimes inside
    assert transcoder.decode(legacy.encode([old])) == [FACT]
