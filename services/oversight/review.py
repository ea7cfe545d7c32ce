"""The privacy officer's proactive review of the access log (NEN 7513:2018; issue 24 item 9): a
log nobody reads detects nothing, so this looks for the patterns of curious access, in a window,
with the thresholds of privacy/access_review.toml:

- an analyst opening many households that never had an alert on the worklist;
- access at odd hours (22:00-06:00 Europe/Amsterdam by default);
- repeated break-glass by one user;
- one household or person looked up by users of several VT regions.

The report names users and subjects (it is for the privacy officer, and reading it is itself an
entry in the log); what it finds is a reason to ask, not a verdict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from contracts.pseudonyms import HOUSEHOLD_PREFIX
from privacy.access_review import ReviewPolicy
from privacy.storage.access_log import EntryKind, LogEntry
from services.gate import responsible_of

OnWorklist = Callable[[str], bool]
"""Whether a household has (or had) an alert on the worklist."""

ODD_HOURS = "odd_hours"
OUTSIDE_WORKLIST = "outside_worklist"
BREAK_GLASS = "break_glass"
ACROSS_REGIONS = "across_regions"
HEADINGS = {
    OUTSIDE_WORKLIST: "Veel huishoudens buiten de werklijst",
    ODD_HOURS: "Toegang op ongebruikelijke tijden",
    BREAK_GLASS: "Herhaald break-glass",
    ACROSS_REGIONS: "Dezelfde persoon of hetzelfde huishouden in meerdere regio's opgezocht",
}


@dataclass(frozen=True)
class Finding:
    """One unusual pattern: who (or about whom), how often, from which threshold, where."""

    pattern: str
    count: int
    threshold: int
    text: str  # one Dutch sentence for the privacy officer
    user: dict[str, Any] | None = None
    subjects: list[str] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)


@dataclass
class ReviewReport:
    since: datetime | None
    until: datetime | None
    policy_version: int
    accesses_reviewed: int = 0
    users: int = 0
    unreadable: int = 0  # entries past the log's retention: whom they were about is gone
    findings: list[Finding] = field(default_factory=list)

    def flagged_users(self) -> set[str]:
        return {f.user["subject"] for f in self.findings if f.user is not None}

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "policy_version": self.policy_version,
            "accesses_reviewed": self.accesses_reviewed,
            "users": self.users,
            "unreadable": self.unreadable,
            "findings": [asdict(f) for f in self.findings],
        }

    def text(self) -> str:
        """The report in Dutch, for reading."""
        window = f"{_day(self.since, 'het begin')} t/m {_day(self.until, 'nu')}"
        lines = [
            "Proactieve controle van het toegangslog (NEN 7513)",
            f"Periode: {window}; drempels versie {self.policy_version}",
            f"Beoordeeld: {self.accesses_reviewed} toegangen door {self.users} gebruikers",
        ]
        if self.unreadable:
            lines.append(f"{self.unreadable} toegangen zijn na de bewaartermijn onleesbaar")
        if not self.findings:
            return "\n".join([*lines, "", "Geen ongebruikelijke toegang gevonden."])
        for pattern, heading in HEADINGS.items():
            found = [f for f in self.findings if f.pattern == pattern]
            if found:
                lines += ["", f"{heading} ({len(found)}):"]
                lines += [f"- {f.text} Logregels: {_seqs(f.seqs)}." for f in found]
        return "\n".join(lines)


@dataclass
class _User:
    who: dict[str, Any]
    outside: dict[str, int] = field(default_factory=dict)  # household -> first seq
    odd: list[int] = field(default_factory=list)
    break_glass: list[int] = field(default_factory=list)


def review(
    entries: Iterable[LogEntry],
    policy: ReviewPolicy,
    on_worklist: OnWorklist,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ReviewReport:
    """Finds the unusual access among the entries of the window."""
    report = ReviewReport(since, until, policy.version)
    users: dict[tuple[str, str], _User] = {}
    regions: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    seqs_of: dict[str, list[int]] = defaultdict(list)
    worklist: dict[str, bool] = {}
    for entry in entries:
        if entry.kind != EntryKind.ACCESS:
            continue
        if not entry.readable:
            report.unreadable += 1
            continue
        payload, subject = entry.payload, entry.payload.get("subject")
        if subject is None:
            continue
        report.accesses_reviewed += 1
        actor = payload["actor"]
        user = users.setdefault(
            (actor["subject"], actor["organisation"]), _User(_who(actor, payload))
        )
        if policy.odd_hours.covers(entry.recorded_at.astimezone(policy.zone).hour):
            user.odd.append(entry.seq)
        if payload.get("outcome") != "permit":
            continue
        if payload.get("break_glass"):
            user.break_glass.append(entry.seq)
        if subject.startswith(f"{HOUSEHOLD_PREFIX}."):
            if subject not in worklist:
                worklist[subject] = on_worklist(subject)
            if not worklist[subject]:
                user.outside.setdefault(subject, entry.seq)
        regions[subject][actor["region"]].add(actor["subject"])
        seqs_of[subject].append(entry.seq)
    report.users = len(users)
    for user in users.values():
        report.findings += _user_findings(user, policy)
    for subject, by_region in regions.items():
        if len(by_region) >= policy.across_regions.min_regions:
            report.findings.append(_across(subject, by_region, seqs_of[subject], policy))
    return report


def _user_findings(user: _User, policy: ReviewPolicy) -> list[Finding]:
    found = []
    name = _name(user.who)
    if len(user.outside) >= policy.outside_worklist.min_households:
        threshold = policy.outside_worklist.min_households
        found.append(
            Finding(
                OUTSIDE_WORKLIST,
                len(user.outside),
                threshold,
                f"{name} opende {len(user.outside)} huishoudens die nooit een melding op de "
                f"werklijst hadden (drempel {threshold}).",
                user.who,
                sorted(user.outside),
                sorted(user.outside.values()),
            )
        )
    odd = policy.odd_hours
    if len(user.odd) >= odd.min_accesses:
        found.append(
            Finding(
                ODD_HOURS,
                len(user.odd),
                odd.min_accesses,
                f"{name} raadpleegde {len(user.odd)} keer een huishouden of persoon tussen "
                f"{odd.start_hour:02d}:00 en {odd.end_hour:02d}:00 ({policy.timezone}) "
                f"(drempel {odd.min_accesses}).",
                user.who,
                seqs=user.odd,
            )
        )
    if len(user.break_glass) >= policy.break_glass.min_uses:
        threshold = policy.break_glass.min_uses
        found.append(
            Finding(
                BREAK_GLASS,
                len(user.break_glass),
                threshold,
                f"{name} gebruikte {len(user.break_glass)} keer break-glass (drempel {threshold}).",
                user.who,
                seqs=user.break_glass,
            )
        )
    return found


def _across(
    subject: str, by_region: dict[str, set[str]], seqs: list[int], policy: ReviewPolicy
) -> Finding:
    names = sorted({u for users in by_region.values() for u in users})
    threshold = policy.across_regions.min_regions
    return Finding(
        ACROSS_REGIONS,
        len(by_region),
        threshold,
        f"{subject} werd opgezocht vanuit {len(by_region)} regio's "
        f"({', '.join(sorted(by_region))}) door {', '.join(names)} (drempel {threshold}).",
        subjects=[subject],
        seqs=seqs,
    )


def _who(actor: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    keys = ("subject", "organisation", "role", "region")
    return {**{k: actor.get(k) for k in keys}, "responsible": responsible_of(payload)}


def _name(who: dict[str, Any]) -> str:
    behalf = "" if who["responsible"] == who["subject"] else f", namens {who['responsible']}"
    return f"{who['subject']} ({who['organisation']}, {who['role']}, {who['region']}{behalf})"


def _day(moment: datetime | None, otherwise: str) -> str:
    return otherwise if moment is None else moment.isoformat(timespec="minutes")


def _seqs(seqs: list[int]) -> str:
    shown = ", ".join(str(s) for s in seqs[:10])
    return shown + (f" en {len(seqs) - 10} meer" if len(seqs) > 10 else "")
