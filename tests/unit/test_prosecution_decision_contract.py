"""signal.v2's `prosecution` (the OM's decision on a referral): said only by a
prosecution_decision, an outcome of the OM's three, and optional, so every v2 signal published
before it reads unchanged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.signal_v2 import SignalEventV2
from radar.household_upcasts import SignalRecordedUpcasts

WHEN = datetime(2026, 11, 30, 10, tzinfo=UTC)


def _decision(kind: str = "prosecution_decision", **changes: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "organisation": "om-midden-nederland",
        "sector": "public_prosecution",
        "signal_type": kind,
        "severity": "high",
        "occurred_at": WHEN,
        "reported_at": WHEN,
        "received_at": WHEN,
        "region": "VT09",
        "household": "hh.k1." + "f" * 32,
        "pseudonym_key_id": "k1",
        **changes,
    }


def test_the_om_says_how_it_decided_and_which_referral() -> None:
    referral = str(uuid.uuid4())
    said = {"outcome": "dismissal", "referral_id": referral}
    signal = SignalEventV2.model_validate(_decision(prosecution=said))
    assert signal.prosecution is not None
    assert (str(signal.prosecution.outcome), str(signal.prosecution.referral_id)) == (
        "dismissal",
        referral,
    )
    assert SignalEventV2.model_validate(_decision()).prosecution is None, "optional"


@pytest.mark.parametrize(
    "changes",
    [
        {"signal_type": "suspect_released", "prosecution": {"outcome": "prosecution"}},
        {"prosecution": {"outcome": "acquittal"}},  # a court's, not the OM's
        {"prosecution": {"outcome": "dismissal", "name": "J. Jansen"}},  # nothing else
    ],
)
def test_a_decision_the_contract_does_not_allow_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="prosecution"):
        SignalEventV2.model_validate(_decision(**changes))


def test_a_signal_recorded_before_version_4_reads_as_no_decision_said() -> None:
    stored: dict[str, Any] = {"reported_by": None}
    SignalRecordedUpcasts.upcast_v3_v4(stored)
    assert stored == {"reported_by": None, "prosecution": None}
