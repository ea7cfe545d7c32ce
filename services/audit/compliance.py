"""`radar audit access`: every access in the log re-decided under the purpose register that was
in force when it happened (the register_adopted entries of the same log), at the time it
happened. A permit the policy of the time would not have given is unlawful; break-glass uses
(with their review) and accesses across regions (bovenregionaal) are listed for review.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from contracts.regions import VtRegion
from privacy.actors import Analyst, AnalystRole
from privacy.policy import AccessRequest, Decision, PolicyDecisionPoint
from privacy.purposes import PurposeRegister, Resource
from privacy.storage.access_log import AccessLog, EntryKind, LogEntry
from privacy.storage.restrictions import RestrictionHistory
from services.audit.faults import Fault
from services.audit.progress import progress_bar
from services.gate import responsible_of

READ_BATCH = 5000
_RECORDS = (
    EntryKind.INZAGE_EXPORT,
    EntryKind.LOG_RETENTION,
    EntryKind.AUTH_REFUSED,
    EntryKind.AUTH_REFUSED_SUPPRESSED,
)
"""Entries that record something done, or a request refused before any actor was known (no
policy decision to redo): nothing to re-decide; `radar audit access` lists them."""
_DISCLOSING = (Resource.HOUSEHOLD_TIMELINE, Resource.PERSON_TIMELINE)
"""Resources whose logged fields must stay within the purpose's fields."""


@dataclass(frozen=True)
class AdoptedRegister:
    """A register version as adopted in the log."""

    seq: int
    recorded_at: datetime
    register: PurposeRegister


@dataclass
class RegisterHistory:
    """The register versions adopted so far, in log order."""

    adopted: list[AdoptedRegister] = field(default_factory=list)

    def add(self, entry: LogEntry) -> Fault | None:
        """Records an adoption; a register whose text does not match its fingerprint is a fault."""
        try:
            register = PurposeRegister.model_validate(entry.payload["register"])
        except (KeyError, ValidationError):
            return Fault("access_log", entry.seq, "register", "adopted register is not valid")
        if register.fingerprint() != entry.payload.get("fingerprint"):
            return Fault(
                "access_log", entry.seq, "register", "register does not match its fingerprint"
            )
        self.adopted.append(AdoptedRegister(entry.seq, entry.recorded_at, register))
        return None

    def in_force(self, seq: int) -> AdoptedRegister | None:
        """The latest version adopted before log entry `seq`."""
        return next((a for a in reversed(self.adopted) if a.seq < seq), None)

    def at(self, moment: datetime) -> PurposeRegister | None:
        """The version in force at a moment (for replaying what a purpose disclosed)."""
        found = next((a for a in reversed(self.adopted) if a.recorded_at <= moment), None)
        return None if found is None else found.register


def log_entries(log: AccessLog, after_seq: int = 0) -> Iterator[LogEntry]:
    """Access-log entries in chain order, read in batches (the log grows with every query);
    their subjects opened when the log has its keys."""
    last = after_seq
    while True:
        entries = log.batch(last, READ_BATCH)
        if not entries:
            return
        yield from entries
        last = entries[-1].seq


def register_history(log: AccessLog) -> RegisterHistory:
    history = RegisterHistory()
    for entry in log_entries(log):
        if entry.kind == EntryKind.REGISTER_ADOPTED:
            history.add(entry)
    return history


def restricted_at(log: AccessLog, moment: datetime) -> frozenset[str]:
    """The households and persons under restriction (AVG art. 18) at `moment`, replayed from
    the access log's placings and liftings."""
    history = RestrictionHistory()
    for entry in log_entries(log):
        if entry.recorded_at > moment:
            break
        history.apply(entry)
    return frozenset(history.active.values())


def redecide(entry: LogEntry, register: PurposeRegister, restricted: bool = False) -> Decision:
    """The decision the policy of `register` gives the logged request, at the logged time;
    `restricted`: whether its subject was under a restriction (AVG art. 18) then."""
    payload = entry.payload
    who = payload["actor"]
    actor = Analyst(
        str(who["subject"]),
        str(who["organisation"]),
        AnalystRole(who["role"]),
        VtRegion(who["region"]),
    )
    request = AccessRequest(
        actor=actor,
        resource=Resource(payload["resource"]),
        purpose=payload.get("purpose"),
        subject=payload.get("subject"),
        subject_region=payload.get("subject_region"),
        justification=payload.get("justification"),
        break_glass=bool(payload.get("break_glass")),
        subject_restricted=restricted,
    )
    return PolicyDecisionPoint(register).decide(request, now=entry.recorded_at)


@dataclass
class ComplianceReport:
    """The outcome of checking one window of the access log."""

    since: datetime | None
    until: datetime | None
    accesses_checked: int = 0
    registers: list[dict[str, Any]] = field(default_factory=list)
    unlawful: list[dict[str, Any]] = field(default_factory=list)
    refused_though_allowed: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    break_glass: list[dict[str, Any]] = field(default_factory=list)
    cross_region: list[dict[str, Any]] = field(default_factory=list)
    exports: list[dict[str, Any]] = field(default_factory=list)
    log_accesses: list[dict[str, Any]] = field(default_factory=list)
    integrity: list[Fault] = field(default_factory=list)

    @property
    def lawful(self) -> bool:
        return not self.unlawful and not self.integrity

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "lawful": self.lawful,
            "accesses_checked": self.accesses_checked,
            "registers": self.registers,
            "unlawful": self.unlawful,
            "refused_though_allowed": self.refused_though_allowed,
            "notes": self.notes,
            "break_glass": self.break_glass,
            "cross_region": self.cross_region,
            "exports": self.exports,
            "log_accesses": self.log_accesses,
            "integrity": [f.as_dict() for f in self.integrity],
        }


def check_access(
    log: AccessLog,
    since: datetime | None = None,
    until: datetime | None = None,
    show_progress: bool = False,
) -> ComplianceReport:
    """Re-decides every access between `since` and `until` and verifies the log's chain."""
    report = ComplianceReport(since, until)
    history = RegisterHistory()
    restrictions = RestrictionHistory()
    reviews: dict[int, LogEntry] = {}
    break_glass: list[LogEntry] = []
    with progress_bar("check accesses", log.count(), "entry", show_progress) as bar:
        for entry in log_entries(log):
            bar.update(1)
            if entry.kind == EntryKind.REGISTER_ADOPTED:
                fault = history.add(entry)
                if fault is not None:
                    report.integrity.append(fault)
                elif _within(entry, since, until):
                    report.registers.append(_register_summary(history.adopted[-1]))
                continue
            if entry.kind == EntryKind.EXPORT:  # a disclosure under the recipient register,
                if _within(entry, since, until):  # not a query: listed, not re-decided
                    report.exports.append(_export_summary(entry))
                continue
            if entry.kind == EntryKind.LOG_ACCESS:  # the logs read on the command line:
                if _within(entry, since, until):  # listed, not re-decided (no purpose)
                    report.log_accesses.append(_log_access_summary(entry))
                continue
            if restrictions.apply(entry) or entry.kind in _RECORDS:
                continue  # records, not accesses: nothing to re-decide
            if entry.kind == EntryKind.BREAK_GLASS_REVIEW and "review" in entry.payload:
                reviews[int(entry.payload["review"]["access_seq"])] = entry
            if not _within(entry, since, until):
                continue
            if not entry.readable:  # past the log's retention: whom it was about is gone
                report.notes.append(_summary(entry, "not re-decided: its period key is destroyed"))
                continue
            report.accesses_checked += 1
            _check_one(entry, history, report, restrictions)
            if entry.kind == EntryKind.ACCESS and _permitted(entry):
                if entry.payload.get("break_glass"):
                    break_glass.append(entry)
                elif entry.payload.get("cross_region"):
                    report.cross_region.append(_summary(entry))
    report.break_glass = [_break_glass(e, reviews.get(e.seq)) for e in break_glass]
    earlier = [a for a in history.adopted if since is not None and a.recorded_at < since]
    if earlier:  # the version already in force when the period began
        report.registers.insert(0, _register_summary(earlier[-1]))
    report.integrity += [Fault("access_log", f.seq, "chain", f.problem) for f in log.verify()]
    return report


def _check_one(
    entry: LogEntry,
    history: RegisterHistory,
    report: ComplianceReport,
    restrictions: RestrictionHistory,
) -> None:
    adopted = history.in_force(entry.seq)
    if adopted is None:
        if _permitted(entry):
            report.unlawful.append(
                _summary(entry, "permitted before any purpose register was adopted")
            )
        return
    logged_version = entry.payload.get("register_version")
    if logged_version != adopted.register.version:
        report.notes.append(
            _summary(
                entry,
                f"decided under register version {logged_version} while version "
                f"{adopted.register.version} was in force",
            )
        )
    try:
        restricted = restrictions.restricted(entry.payload.get("subject"))
        decision = redecide(entry, adopted.register, restricted)
    except (KeyError, TypeError, ValueError) as error:
        report.unlawful.append(
            _summary(entry, f"entry cannot be re-decided: {type(error).__name__}")
        )
        return
    if _permitted(entry) and not decision.permitted:
        report.unlawful.append(
            _summary(
                entry, f"register version {adopted.register.version} would deny: {decision.reason}"
            )
        )
    elif _permitted(entry) and decision.obligations is not None:
        disclosed = set(entry.payload.get("fields") or ())
        beyond = disclosed - decision.obligations.fields
        if entry.payload.get("resource") in _DISCLOSING and beyond:
            report.unlawful.append(_summary(entry, f"fields beyond the purpose: {sorted(beyond)}"))
        elif bool(entry.payload.get("cross_region")) != decision.cross_region:
            report.notes.append(_summary(entry, "logged region scope differs from the policy's"))
    elif not _permitted(entry) and decision.permitted:
        report.refused_though_allowed.append(_summary(entry, str(entry.payload.get("reason"))))


def _permitted(entry: LogEntry) -> bool:
    return entry.payload.get("outcome") == "permit"


def _within(entry: LogEntry, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or entry.recorded_at >= since) and (
        until is None or entry.recorded_at <= until
    )


def _summary(entry: LogEntry, finding: str | None = None) -> dict[str, Any]:
    payload = entry.payload
    summary = {
        "seq": entry.seq,
        "recorded_at": entry.recorded_at,
        "kind": str(entry.kind),
        "actor": payload.get("actor"),
        "responsible": responsible_of(payload),
        "resource": payload.get("resource"),
        "purpose": payload.get("purpose"),
        "subject": payload.get("subject"),
        "subject_region": payload.get("subject_region"),
        "outcome": payload.get("outcome"),
        "register_version": payload.get("register_version"),
        "justification": payload.get("justification"),
    }
    if finding is not None:
        summary["finding"] = finding
    return summary


def _export_summary(entry: LogEntry) -> dict[str, Any]:
    keys = ("operator", "recipient", "register_version", "fields", "records", "since", "until")
    return {
        "seq": entry.seq,
        "recorded_at": entry.recorded_at,
        **{key: entry.payload.get(key) for key in keys},
    }


def _log_access_summary(entry: LogEntry) -> dict[str, Any]:
    return {"seq": entry.seq, "recorded_at": entry.recorded_at, **entry.payload}


def _break_glass(entry: LogEntry, review: LogEntry | None) -> dict[str, Any]:
    summary = _summary(entry)
    if review is None:
        summary["review"] = {"state": "open"}
    else:
        summary["review"] = {
            "state": review.payload["review"]["outcome"],
            "note": review.payload["review"]["note"],
            "reviewer": review.payload["actor"]["subject"],
            "review_seq": review.seq,
            "recorded_at": review.recorded_at,
        }
    return summary


def _register_summary(adopted: AdoptedRegister) -> dict[str, Any]:
    return {
        "version": adopted.register.version,
        "adopted_seq": adopted.seq,
        "adopted_at": adopted.recorded_at,
        "fingerprint": adopted.register.fingerprint(),
    }
