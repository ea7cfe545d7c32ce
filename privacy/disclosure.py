"""Enforces a decision's obligations on the data a response is built from.

The response builder passes every record through here; an endpoint never chooses fields or
signals itself. Withheld signals are not counted, hinted at or ordered around.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from privacy.policy import Obligations

ALWAYS_WITH_THE_SIGNAL = frozenset({"corrected"})
"""Marks shown with every disclosed signal that carries them, whatever the purpose's fields:
values shown without saying that their publisher corrected them would mislead."""


def disclose(
    obligations: Obligations, signals: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The signals the obligations allow, each reduced to the allowed fields."""
    shown = []
    for signal in signals:
        if signal["sector"] not in obligations.sectors:
            continue
        if obligations.not_before is not None and signal["occurred_at"] < obligations.not_before:
            continue
        shown.append(
            {
                k: v
                for k, v in signal.items()
                if k in obligations.fields or k in ALWAYS_WITH_THE_SIGNAL
            }
        )
    return shown
