"""Enforces a decision's obligations on the data a response is built from.

The response builder passes every record through here; an endpoint never chooses fields or
signals itself. Withheld signals are not counted, hinted at or ordered around.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from privacy.policy import Obligations
from privacy.purposes import PERSON_FIELDS

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


PERSON_ALWAYS = frozenset({"pseudonym", "role"})
"""What every disclosed person carries: who (the pseudonym) and v1's household role."""


def disclose(
    obligations: Obligations, signals: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The signals the obligations allow, each reduced to the allowed fields."""
    fields = obligations.fields | ALWAYS_WITH_THE_SIGNAL
    if "persons" in fields:
        fields = fields | MEMBERSHIP_FIELDS
    person_fields = PERSON_ALWAYS | (obligations.fields & PERSON_FIELDS)
    disclosed = []
    for signal in signals:
        if not shows(obligations, signal):
            continue
        record = {k: v for k, v in signal.items() if k in fields and k not in PERSON_FIELDS}
        if "forms_of_violence" in record:
            record["forms_of_violence"] = visible_forms(obligations, record["forms_of_violence"])
        if "persons" in record:
            record["persons"] = [
                _person(obligations, person, person_fields) for person in record["persons"]
            ]
        disclosed.append(record)
    return disclosed


def visible_forms(obligations: Obligations, forms: Iterable[str]) -> list[str]:
    """The forms of violence the obligations let a view name (a signal's, or an explanation
    line's: a score's explanation must not name a form its signal's view leaves out)."""
    if "forms_of_violence" not in obligations.fields:
        return []
    return [form for form in forms if form not in obligations.hidden_forms]


def _person(
    obligations: Obligations, person: Mapping[str, Any], fields: frozenset[str]
) -> dict[str, Any]:
    shown = {k: v for k, v in person.items() if k in fields}
    if "roles" in shown:
        shown["roles"] = [role for role in shown["roles"] if role not in obligations.hidden_roles]
    return shown
