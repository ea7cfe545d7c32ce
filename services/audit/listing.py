"""`radar audit access`'s listing: every access-log entry of a window, filtered by subject, actor,
purpose or kind, each under a category an auditor reads without knowing the code ("toegestaan",
"geweigerd: geen geldig token", "break-glass"), next to the compliance findings (compliance.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from privacy.policy import RESTRICTED_REASON
from privacy.storage.access_log import AccessLog, EntryKind, LogEntry
from services.audit.compliance import log_entries
from services.audit.service import live_database
from services.gate import responsible_of
from services.settings import Settings

REFUSED_AT_LOGIN = "geweigerd: geen geldig token"
_RECORD_CATEGORIES = {
    EntryKind.REGISTER_ADOPTED: "doelregister vastgesteld",
    EntryKind.BREAK_GLASS_REVIEW: "break-glass beoordeeld",
    EntryKind.RESTRICTION_PLACED: "beperking ingesteld (AVG art. 18)",
    EntryKind.RESTRICTION_LIFTED: "beperking opgeheven (AVG art. 18)",
    EntryKind.INZAGE_EXPORT: "inzage verstrekt (AVG art. 15)",
    EntryKind.EXPORT: "verstrekt aan externe ontvanger",
    EntryKind.LOG_ACCESS: "logboek gelezen",
    EntryKind.LOG_RETENTION: "bewaartermijn logboek toegepast",
    EntryKind.AUTH_REFUSED: REFUSED_AT_LOGIN,
    EntryKind.AUTH_REFUSED_SUPPRESSED: f"{REFUSED_AT_LOGIN} (samenvatting van niet gelogde)",
}
_DENIAL_CATEGORIES = (  # the policy's reason (privacy/policy.py), first match wins
    (RESTRICTED_REASON, "geweigerd: verwerking beperkt (AVG art. 18)"),
    ("break", "geweigerd: break-glass niet toegestaan"),
    ("across regions", "geweigerd: bovenregionaal zonder onderbouwing"),
    ("purpose", "geweigerd: doel niet toegestaan"),
    ("publishers", "geweigerd: geen analist"),
)


@dataclass(frozen=True)
class Filters:
    """What the auditor asked for; None matches everything."""

    subject: str | None = None  # a household's or person's pseudonym
    actor: str | None = None  # a user, the responsible user, an operator, or a claimed subject
    purpose: str | None = None
    kind: EntryKind | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "subject": self.subject,
            "actor": self.actor,
            "purpose": self.purpose,
            "kind": None if self.kind is None else str(self.kind),
        }

    def match(self, entry: LogEntry) -> bool:
        payload = entry.payload
        return (
            (self.kind is None or entry.kind == self.kind)
            and (self.purpose is None or payload.get("purpose") == self.purpose)
            and (self.subject is None or self.subject in _subjects(payload))
            and (self.actor is None or self.actor in actors_of(payload))
        )


def category(entry: LogEntry) -> str:
    """The entry in the words of an auditor."""
    if entry.kind != EntryKind.ACCESS:
        return _RECORD_CATEGORIES[entry.kind]
    payload = entry.payload
    if payload.get("outcome") == "permit":
        if payload.get("break_glass"):
            return "break-glass"
        return "toegestaan (bovenregionaal)" if payload.get("cross_region") else "toegestaan"
    reason = str(payload.get("reason") or "")
    return next((c for key, c in _DENIAL_CATEGORIES if key in reason), "geweigerd: door beleid")


def _operator(payload: dict[str, Any]) -> dict[str, Any]:
    """The entry's operator as a record: a disclosure to a recipient (privacy/recipients.py
    `logged_as`) names its operator by name alone, every other entry by Operator.as_log."""
    operator = payload.get("operator") or {}
    return {"name": operator} if isinstance(operator, str) else operator


def actors_of(payload: dict[str, Any]) -> set[str]:
    """Every name under which an entry's actor can be looked up."""
    actor = payload.get("actor") or {}
    operator = _operator(payload)
    names = {
        actor.get("subject"),
        actor.get("on_behalf_of"),
        responsible_of(payload),
        operator.get("name"),
        operator.get("os_user"),
        payload.get("claimed_subject"),
    }
    return {name for name in names if isinstance(name, str)}


def _subjects(payload: dict[str, Any]) -> set[Any]:
    return {payload.get(key) for key in ("subject", "person", "household")} - {None}


def row(entry: LogEntry) -> dict[str, Any]:
    """One entry as the listing shows it."""
    payload = entry.payload
    actor = payload.get("actor") or {}
    operator = _operator(payload)
    unverified = entry.kind in (EntryKind.AUTH_REFUSED, EntryKind.AUTH_REFUSED_SUPPRESSED)
    return {
        "seq": entry.seq,
        "recorded_at": entry.recorded_at,
        "kind": str(entry.kind),
        "category": category(entry),
        "actor": payload.get("claimed_subject") if unverified else actor.get("subject"),
        "actor_verified": not unverified,
        "responsible": None if unverified else responsible_of(payload),
        "operator": operator.get("name") or operator.get("os_user"),
        "organisation": actor.get("organisation"),
        "role": actor.get("role") or operator.get("role"),
        "purpose": payload.get("purpose"),
        "subject": next(iter(sorted(_subjects(payload), key=str)), None),
        "endpoint": payload.get("endpoint") or payload.get("command"),
        "reason": payload.get("reason"),
        "client": payload.get("client"),
        "suppressed": payload.get("suppressed"),
        "readable": entry.readable,
    }


def access_listing(
    settings: Settings, since: datetime | None, until: datetime | None, filters: Filters
) -> list[dict[str, Any]]:
    """The listing read from the live database (subjects opened with the log's keys)."""
    db, engine = live_database(settings)
    try:
        return listing(db.access_log(engine), since, until, filters)
    finally:
        engine.dispose()


def listing(
    log: AccessLog, since: datetime | None, until: datetime | None, filters: Filters
) -> list[dict[str, Any]]:
    """Every entry of the window that matches the filters, in chain order."""
    return [row(e) for e in _window(log_entries(log), since, until) if filters.match(e)]


def _window(
    entries: Iterable[LogEntry], since: datetime | None, until: datetime | None
) -> Iterable[LogEntry]:
    for entry in entries:
        if since is not None and entry.recorded_at < since:
            continue
        if until is not None and entry.recorded_at > until:
            continue  # writers' clocks differ a little: the chain is not strictly in time order
        yield entry


def text_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The listing as lines: seq, time, category, who, purpose, subject, where, why."""
    lines = []
    for r in rows:
        who = r["actor"] or r["operator"] or "-"
        if not r["actor_verified"]:
            who = f"{who} (niet geverifieerd)" if r["actor"] else "onbekend"
        parts = [
            f"#{r['seq']}",
            r["recorded_at"].isoformat(timespec="seconds"),
            r["category"],
            f"wie: {who}",
            f"doel: {r['purpose'] or '-'}",
            f"betrokkene: {r['subject'] or '-'}",
            r["endpoint"] or "-",
        ]
        if r["reason"]:
            parts.append(f"reden: {r['reason']}")
        if r["client"]:
            parts.append(f"adres: {r['client']}")
        if r["suppressed"]:
            parts.append(f"{r['suppressed']} niet afzonderlijk gelogd")
        lines.append("  ".join(parts))
    return lines
