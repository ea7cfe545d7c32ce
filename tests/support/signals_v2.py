"""signal.v2 signals for the read-side tests (timelines, the query API): an elder-abuse
incident, a signal naming female genital mutilation, an unborn child in a shelter placement.
Every person is a synthetic pseudonym; nothing here was ever a BSN, name or address."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from contracts.signal_v2 import SignalEventV2


def pseudonym(kind: str) -> str:
    """A new pseudonym of a kind (hh, hs, p, pl), random, key version k1."""
    return f"{kind}.k1.{uuid.uuid4().hex}"


def person(who: str, *roles: str, **facts: Any) -> dict[str, Any]:
    """A person as signal.v2 names them: roles, and perhaps age, unborn_child_of,
    local_pseudonym."""
    return {"pseudonym": who, "roles": list(roles), **facts}


def signal_v2(
    kind: str,
    occurred_at: datetime,
    household: str,
    persons: Sequence[dict[str, Any]],
    forms: Sequence[str] = (),
    *,
    sector: str = "police",
    organisation: str = "politie-midden-nederland",
    region: str = "VT09",
    severity: str = "high",
) -> SignalEventV2:
    """A v2 signal as the ingest service would publish it, received an hour after it happened."""
    return SignalEventV2.model_validate(
        {
            "event_id": uuid.uuid4(),
            "organisation": organisation,
            "sector": sector,
            "signal_type": kind,
            "severity": severity,
            "forms_of_violence": list(forms),
            "occurred_at": occurred_at,
            "reported_at": occurred_at,
            "received_at": occurred_at + timedelta(hours=1),
            "region": region,
            "household": household,
            "persons": list(persons),
            "pseudonym_key_id": "k1",
        }
    )
