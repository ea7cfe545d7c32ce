"""Enforces a decision's obligations on the data a response is built from.

The response builder passes every record through here; an endpoint never chooses fields or
signals itself. Withheld signals are not counted, hinted at or ordered around.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from privacy.policy import Obligations

MEMBERSHIP_FIELDS = frozenset({"household", "via", "earlier_address"})
"""Where a signal was recorded, through which member a household's timeline shows it, and that
it is from the member's earlier address. They tell who lives where, so they go with `persons`:
a purpose that may not see persons sees none of them."""


def shows(obligations: Obligations, signal: Mapping[str, Any]) -> bool:
    """Whether the obligations allow the signal at all (its sector and period)."""
    if signal["sector"] not in obligations.sectors:
        return False
    return obligations.not_before is None or signal["occurred_at"] >= obligations.not_before


ALWAYS_WITH_THE_SIGNAL = frozenset({"corrected"})
"""Marks shown with every disclosed signal that carries them, whatever the purpose's fields:
values shown without saying that their publisher corrected them would mislead."""


def disclose(
    obligations: Obligations, signals: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The signals the obligations allow, each reduced to the allowed fields."""
    fields = obligations.fields | ALWAYS_WITH_THE_SIGNAL
    if "persons" in fields:
        fields = fields | MEMBERSHIP_FIELDS
    return [
        {k: v for k, v in signal.items() if k in fields}
        for signal in signals
        if shows(obligations, signal)
    ]
