"""What the upgrade test compares: an answer of the previous release against the same question
asked of this one, the old answer a subset of the new.

A key the old answer has must be in the new one with an equal value (an object may have gained
keys; a list must hold the same items). Two kinds of difference are not failures, each because
the same release would give it too when asked later:

- the values decayed to the moment of the question (the score now, its lines' points and decay,
  an alert's urgency and days open, the days until retention, when the worklist was made):
  the store holds the score recorded and the moment it was, which must be equal;
- the order of a region's alerts and of an explanation's lines, which follows those values
  (most urgent first, the largest points first); their items are matched by id instead;
- an explanation's line that has decayed below a cent since (`faded`): it adds nothing and is
  left out.

And what a later issue changed on purpose, which `since_the_release` writes into the old
answers before they are compared (each rule says which change, so that anything else still
fails).
"""

from __future__ import annotations

import copy
from typing import Any

from privacy.purposes import PERSON_FIELDS, PurposeRegister

CLOCK_DEPENDENT = frozenset(
    {"score_now", "points", "decay", "urgency", "days_open", "expires_in_days", "generated_at"}
)
ORDERED_BY_CLOCK = frozenset({"alerts", "explanation"})
FADED_POINTS = 0.02
IDENTITIES = ("alert_id", "plan_id", "signal_id", "restriction_id", "seq")


def differences(old: Any, new: Any, where: str = "", days: float = 0.0) -> list[str]:
    """Where `new` is not a superset of `old`, one line per place (empty: as before); `days`
    have passed since `old` was answered."""
    if isinstance(old, dict):
        if not isinstance(new, dict):
            return [f"{where}: was an object, now {new!r}"]
        found: list[str] = []
        for key, value in old.items():
            if key in CLOCK_DEPENDENT:
                continue
            if key not in new:
                found.append(f"{where}.{key}: gone (was {value!r})")
                continue
            found += _within(key, value, new[key], f"{where}.{key}", days)
        return found
    if old != new:
        return [f"{where}: was {old!r}, now {new!r}"]
    return []


def _within(key: str, old: Any, new: Any, where: str, days: float) -> list[str]:
    if not isinstance(old, list):
        return differences(old, new, where, days)
    if not isinstance(new, list):
        return [f"{where}: was a list, now {new!r}"]
    if key in ORDERED_BY_CLOCK:
        return _by_identity(old, new, where, days)
    if len(new) != len(old):
        return [f"{where}: {len(old)} items, now {len(new)}"]
    found: list[str] = []
    for index, (was, now) in enumerate(zip(old, new, strict=True)):
        found += differences(was, now, f"{where}[{index}]", days)
    return found


def identity(item: Any) -> Any:
    """What names an item of a list: its id, or for an explanation's withheld line, that."""
    if isinstance(item, dict):
        for key in IDENTITIES:
            if item.get(key) is not None:
                return (key, item[key])
        if item.get("withheld"):
            return ("withheld", True)
    return repr(item)


def faded(line: Any, days: float) -> bool:
    """Whether an explanation's line has decayed below a cent in `days` (with a cent to spare
    for the rounding of its points): the radar leaves such lines out."""
    if not isinstance(line, dict) or "half_life_days" not in line.get("factors", {}):
        return False
    half_life = float(line["factors"]["half_life_days"])
    return float(line["points"]) * 0.5 ** (days / half_life) < FADED_POINTS


def _by_identity(old: list[Any], new: list[Any], where: str, days: float) -> list[str]:
    now = {identity(item): item for item in new}
    before = {identity(item) for item in old}
    found = [f"{where}[{name}]: new" for name in now if name not in before]
    for was in old:
        name = identity(was)
        if name in now:
            found += differences(was, now[name], f"{where}[{name}]", days)
        elif not faded(was, days):
            found.append(f"{where}[{name}]: gone")
    return found


def explanation_adds_up(answer: dict[str, Any]) -> bool:
    """An explanation decayed to now still adds up to the score now (to the cent)."""
    lines = answer.get("explanation")
    if not lines:
        return True
    return abs(sum(float(line["points"]) for line in lines) - float(answer["score_now"])) < 0.011


def since_the_release(answers: dict[str, Any]) -> dict[str, Any]:
    """The old answers with what issue 22's withheld rule (commit 307964d, after e4fd62e)
    changed on purpose, computed from the old answers themselves:

    - an alert's `sector_count` counts only the sectors the purpose sees: its `sectors`;
    - an explanation that withholds a line assesses its shown lines over the signals the purpose
      sees, so their convergence (sectors) and repetition factors are of those signals alone;
    - a household's risk is `recorded_at` the moment the last signal the purpose sees was
      received (the old answer gave the last rescoring, a correction's too): the latest
      `reported_at` on the household's timeline for that purpose;

    and what issue 16's purpose register version 5 changed: a timeline's `fields` (the fields
    the purpose may disclose, sorted) also names the signal.v2 fields the purpose is granted
    (forms of violence; a person's roles, age, unborn child), which no stored v1 signal has;
    and a v1 signal shown to a purpose granted them names no form of violence (`[]`) and each
    person with their one role (`roles`: [role]), as signal.v2's upcast of it would.
    """
    changed = copy.deepcopy(answers)
    for key, asked in changed.items():
        body = asked["body"]
        if asked["status"] != 200:
            continue
        for alert in body.get("alerts", []):
            if "sector_count" in alert:
                alert["sector_count"] = len(alert.get("sectors", []))
        for view in [body, *body.get("alerts", [])]:
            lines = view.get("explanation") or []
            if any(line.get("withheld") for line in lines):
                for line in lines:
                    for factor in ("convergence", "repetition"):
                        line.get("factors", {}).pop(factor, None)
        kind, household, purpose = [*key.split(), "", "", ""][:3]
        timeline = answers.get(f"timeline {household} {purpose}")
        if kind == "risk" and body.get("recorded_at") and timeline and timeline["status"] == 200:
            received = [s["reported_at"] for s in timeline["body"]["signals"] if "reported_at" in s]
            body["recorded_at"] = max(received) if received else None
        if kind == "timeline" and isinstance(body.get("fields"), list):
            granted = _v2_fields_granted(purpose)
            body["fields"] = sorted({*body["fields"], *granted})
            for signal in body.get("signals", []):
                _as_upcast(signal, granted)
    return changed


def _as_upcast(signal: dict[str, Any], granted: frozenset[str]) -> None:
    """A v1 signal's view with what signal.v2's upcast adds for a purpose granted it."""
    if "forms_of_violence" in granted:
        signal["forms_of_violence"] = []
    if "roles" in granted:
        for person in signal.get("persons", []):
            person["roles"] = [person["role"]]


def _v2_fields_granted(purpose: str) -> frozenset[str]:
    granted = PurposeRegister.load().purposes[purpose].fields
    return granted & (PERSON_FIELDS | {"forms_of_violence"})
