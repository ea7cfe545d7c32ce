"""Enforces a decision's obligations on the data a response is built from.

The response builder passes every record through here; an endpoint never chooses fields or
signals itself. Withheld signals are not counted, hinted at or ordered around.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


ALWAYS_WITH_THE_SIGNAL = frozenset({"corrected", "unfounded"})
"""Marks shown with every disclosed signal that carries them, whatever the purpose's fields:
values shown without saying that their publisher corrected them, or a signal shown without
saying that Veilig Thuis found it unfounded (so it no longer counts), would mislead."""


PERSON_ALWAYS = frozenset({"pseudonym", "role"})
"""What every disclosed person carries: who (the pseudonym) and v1's household role."""


@dataclass(frozen=True)
class Disclosure:
    """What a decision lets through of each signal it shows, apart from which signals it shows
    (sectors, period): the same for every signal, and hashable, so a view may keep a signal's
    disclosed form per disclosure (services/timelines/answers.py)."""

    fields: frozenset[str]
    person_fields: frozenset[str]
    forms_shown: bool
    hidden_forms: frozenset[str]
    hidden_roles: frozenset[str]

    def of(self, signal: Mapping[str, Any]) -> dict[str, Any]:
        """One signal the obligations show, reduced to what they let through."""
        record = {k: v for k, v in signal.items() if k in self.fields and k not in PERSON_FIELDS}
        if "forms_of_violence" in record:
            record["forms_of_violence"] = _forms(
                self.forms_shown, self.hidden_forms, record["forms_of_violence"]
            )
        if "persons" in record:
            record["persons"] = [_person(self, person) for person in record["persons"]]
        return record


def disclosure(obligations: Obligations) -> Disclosure:
    """The obligations' disclosure of each shown signal."""
    fields = obligations.fields | ALWAYS_WITH_THE_SIGNAL
    if "persons" in fields:
        fields = fields | MEMBERSHIP_FIELDS
    return Disclosure(
        fields=fields,
        person_fields=PERSON_ALWAYS | (obligations.fields & PERSON_FIELDS),
        forms_shown="forms_of_violence" in obligations.fields,
        hidden_forms=obligations.hidden_forms,
        hidden_roles=obligations.hidden_roles,
    )


def disclose(
    obligations: Obligations, signals: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The signals the obligations allow, each reduced to the allowed fields."""
    reduce = disclosure(obligations).of
    return [reduce(signal) for signal in signals if shows(obligations, signal)]


def visible_forms(obligations: Obligations, forms: Iterable[str]) -> list[str]:
    """The forms of violence the obligations let a view name (a signal's, or an explanation
    line's: a score's explanation must not name a form its signal's view leaves out)."""
    return _forms("forms_of_violence" in obligations.fields, obligations.hidden_forms, forms)


def _forms(shown: bool, hidden: frozenset[str], forms: Iterable[str]) -> list[str]:
    return [form for form in forms if form not in hidden] if shown else []


def _person(disclosure: Disclosure, person: Mapping[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in person.items() if k in disclosure.person_fields}
    if "roles" in shown:
        shown["roles"] = [role for role in shown["roles"] if role not in disclosure.hidden_roles]
    return shown
