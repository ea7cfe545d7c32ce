"""Inzage (AVG art. 15): what the radar holds about one person, for that person.

Starting from the BSN, the person's pseudonyms under every key version are computed and the
identity vault says which one the radar first knew them by. The export lists every signal naming
them (with its source), the households those signals belong to, and every access-log entry about
those households or the person: who (organisation, role, region), for which purpose (with its
legal basis as registered then), the outcome and the fields. A corrected signal is marked so,
with the reasons the publisher gave; a signal the publisher retracted is listed as withdrawn
("ingetrokken door de melder", see services/rights/rectifications.py for what is shown of it).
A signal Veilig Thuis found unfounded is marked so. A reporter Veilig Thuis protects is named
nowhere in the export, which says that a source was withheld and on what ground
(services/rights/protection.py).
The BSN is written into the export, which goes to the data subject, and nowhere else: the access
log records the export with the person's pseudonym, the counts, the reason and who ran it.
"""

from __future__ import annotations

import html
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from contracts.bsn import passes_elfproef
from contracts.leak_guard import contains_identifier
from privacy.actors import Operator
from privacy.pseudonyms import Pseudonymiser
from privacy.storage.access_log import AccessLog, EntryKind, LogEntry
from privacy.storage.vault import IdentityVault
from radar.timeline import TimelineEntry
from services.audit.compliance import RegisterHistory
from services.ledger.notifications import NotificationLog
from services.rights.protection import protections
from services.rights.rectifications import Rectifications, rectifications
from services.timelines.store import TimelineStore

JSON_NAME = "inzage.json"
HTML_NAME = "inzage.html"

Columns = list[tuple[str, Callable[[dict[str, Any]], Any]]]


def _columns(*pairs: tuple[str, str]) -> Columns:
    return [(heading, itemgetter(key)) for heading, key in pairs]


def _actor(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda access: access["actor"][key]


SIGNAL_COLUMNS = [
    *_columns(("Signaal", "signal_id"), ("Huishouden", "household")),
    ("Organisatie", lambda s: "afgeschermd" if s.get("source_withheld") else s["organisation"]),
    *_columns(
        ("Sector", "sector"),
        ("Soort", "signal_type"),
        ("Ernst", "severity"),
        ("Rol", "role"),
        ("Gebeurd op", "occurred_at"),
        ("Gemeld op", "reported_at"),
    ),
    ("Gecorrigeerd", lambda signal: _correction_text(signal)),
    ("Ongegrond verklaard door Veilig Thuis", lambda s: "ja" if s["unfounded"] else "nee"),
]
WITHDRAWN_COLUMNS = _columns(
    ("Signaal", "signal_id"),
    ("Huishouden", "household"),
    ("Organisatie", "organisation"),
    ("Sector", "sector"),
    ("Gemeld op", "reported_at"),
    ("Ingetrokken op", "withdrawn_at"),
    ("Status", "status"),
)
SOURCE_COLUMNS = _columns(
    ("Organisatie", "organisation"), ("Sector", "sector"), ("Aantal signalen", "signals")
)
PURPOSE_COLUMNS = _columns(
    ("Doel", "purpose"),
    ("Omschrijving", "description"),
    ("Grondslag", "legal_basis"),
    ("Aantal keer", "accesses"),
)
ACCESS_COLUMNS: Columns = [
    ("Tijdstip", itemgetter("recorded_at")),
    ("Organisatie", _actor("organisation")),
    ("Rol", _actor("role")),
    ("Regio", _actor("region")),
    ("Doel", itemgetter("purpose")),
    ("Uitkomst", itemgetter("outcome")),
    ("Velden", lambda access: ", ".join(access["fields"])),
]


class InzageError(ValueError):
    """A request for an export that cannot be produced (invalid BSN, identifier in the reason)."""


@dataclass(frozen=True)
class InzageSources:
    """What an export reads: the vault, the timelines and the access log of one radar, and
    its event store (for the corrections' reasons and the retracted signals; without it, as in
    tests of other rooms, the export lists neither)."""

    vault: IdentityVault
    pseudonymiser: Pseudonymiser
    timelines: TimelineStore
    access_log: AccessLog
    events: NotificationLog | None = None


@dataclass(frozen=True)
class InzageExport:
    """The export as written, and the access-log entry that records it."""

    document: dict[str, Any]
    person: str  # the pseudonym recorded in the access log
    log_seq: int


def check(bsn: str, reason: str) -> None:
    """Refuses a BSN that fails the elfproef and a reason with an identifier (it is logged)."""
    if not passes_elfproef(bsn):
        raise InzageError("--bsn is not a valid BSN (it fails the elfproef)")
    if contains_identifier(reason):
        raise InzageError("--reason must not contain a BSN or other identifier")


def produce(
    sources: InzageSources,
    bsn: str,
    reason: str,
    out: Path,
    now: datetime,
    operator: Operator | None = None,
) -> InzageExport:
    """Collects, records the export in the access log with who ran it (`operator`), then
    writes inzage.json and inzage.html into `out`. Refuses (InzageError) before reading or
    writing anything when the BSN fails the elfproef or the reason carries an identifier (it
    is logged)."""
    check(bsn, reason)
    pseudonymiser = sources.pseudonymiser
    candidates = [pseudonymiser.person(bsn)] + [
        pseudonymiser.person(bsn, version) for version in pseudonymiser.earlier_versions()
    ]
    first_known = sources.vault.first_known_person(candidates)
    person = first_known or candidates[0]
    names = {*candidates, person}
    # the radar records persons under their first-known pseudonym
    signals = sources.timelines.person_signals(person) if first_known else []
    changed = rectifications(sources.events, names) if sources.events else Rectifications()
    households = {s.household for s in signals}
    # reporter protection (services/rights/protection.py): applied to every record below
    shield = protections(sources.events, households | {w.household for w in changed.withdrawn})
    withdrawn = [shield.signal(w.record()) for w in changed.withdrawn]
    listed = [
        shield.signal(_signal(s, names, changed.reasons.get(str(s.signal_id), []))) for s in signals
    ]
    entries = sources.access_log.entries()
    accesses = [
        e
        for e in entries
        if e.kind == EntryKind.ACCESS
        and (e.payload.get("subject") in households or e.payload.get("subject") in names)
    ]
    document = {
        "produced_at": now.isoformat(),
        "bsn": bsn,
        "reason": reason,
        "data_held": bool(signals or accesses or withdrawn),
        "person": first_known,
        "households": sorted(households),
        "signals": listed,
        "withdrawn": withdrawn,
        "sources": _sources(
            s for s in signals if not shield.withholds(s.household, s.organisation)
        ),
        "withheld_sources": shield.withheld([*listed, *withdrawn]),
        "purposes": _purposes(accesses, entries),
        "accesses": [shield.access(_access(e)) for e in accesses],
    }
    # Logged first: a crash in between leaves a logged export that was not delivered, never
    # an export holding the BSN that the access log does not know of.
    entry = sources.access_log.append(
        EntryKind.INZAGE_EXPORT,
        {
            "operator": None if operator is None else operator.as_log(),
            "person": person,
            "known": first_known is not None,
            "signals": len(signals),
            "withdrawn": len(withdrawn),
            "households": len(households),
            "accesses": len(accesses),
            "reason": reason,
        },
    )
    _write(out / JSON_NAME, orjson.dumps(document, option=orjson.OPT_INDENT_2))
    _write(out / HTML_NAME, render_html(document).encode("utf-8"))
    return InzageExport(document, person, entry.seq)


def _signal(entry: TimelineEntry, names: set[str], reasons: list[str]) -> dict[str, Any]:
    return {
        "signal_id": str(entry.signal_id),
        "household": entry.household,
        "organisation": entry.organisation,
        "sector": entry.sector,
        "signal_type": entry.signal_type,
        "severity": entry.severity,
        "occurred_at": entry.occurred_at.isoformat(),
        "reported_at": entry.reported_at.isoformat(),
        "region": entry.region,
        "role": next(role for pseudonym, role in entry.persons if pseudonym in names),
        "corrected": entry.corrected,
        "correction_reasons": reasons if entry.corrected else [],
        "unfounded": entry.unfounded,  # Veilig Thuis found it unfounded: no longer counted
    }


def _correction_text(signal: dict[str, Any]) -> str:
    """'nee', or 'ja' with the publisher's reasons: the values shown are the corrected ones."""
    if not signal["corrected"]:
        return "nee"
    reasons = signal["correction_reasons"]
    return "ja" + (f" (reden: {'; '.join(reasons)})" if reasons else "")


def _sources(signals: Iterable[TimelineEntry]) -> list[dict[str, Any]]:
    counted = Counter((s.organisation, s.sector) for s in signals)
    return [
        {"organisation": organisation, "sector": sector, "signals": count}
        for (organisation, sector), count in sorted(counted.items())
    ]


def _purposes(accesses: list[LogEntry], entries: list[LogEntry]) -> list[dict[str, Any]]:
    """Each purpose the data was disclosed for, with its description and legal basis as in the
    register version in force at the (latest) access."""
    history = RegisterHistory()
    for entry in entries:
        if entry.kind == EntryKind.REGISTER_ADOPTED:
            history.add(entry)
    latest: dict[str, LogEntry] = {}
    counts: Counter[str] = Counter()
    for access in accesses:
        name = access.payload.get("purpose")
        if access.payload.get("outcome") == "permit" and name:
            latest[name] = access
            counts[name] += 1
    described = []
    for name in sorted(latest):
        adopted = history.in_force(latest[name].seq)
        purpose = adopted.register.purposes.get(name) if adopted else None
        described.append(
            {
                "purpose": name,
                "description": purpose.description if purpose else None,
                "legal_basis": purpose.legal_basis if purpose else None,
                "accesses": counts[name],
            }
        )
    return described


def _access(entry: LogEntry) -> dict[str, Any]:
    payload = entry.payload
    actor = payload.get("actor") or {}
    return {
        "seq": entry.seq,
        "recorded_at": entry.recorded_at.isoformat(),
        "subject": payload.get("subject"),
        "resource": payload.get("resource"),
        "purpose": payload.get("purpose"),
        "outcome": payload.get("outcome"),
        "reason": payload.get("reason"),
        "fields": payload.get("fields") or [],
        "records": payload.get("records", 0),
        "actor": {
            "organisation": actor.get("organisation"),
            "role": actor.get("role"),
            "region": actor.get("region"),
        },
        "break_glass": bool(payload.get("break_glass")),
        "cross_region": bool(payload.get("cross_region")),
    }


def _write(path: Path, content: bytes) -> None:
    """Owner-only: the export holds the BSN."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def render_html(document: dict[str, Any]) -> str:
    """The export as a plain, readable HTML page (no scripts); every value escaped."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="nl"><head><meta charset="utf-8">',
        "<title>Inzage in persoonsgegevens (AVG art. 15)</title></head><body>",
        "<h1>Inzage in persoonsgegevens (AVG art. 15)</h1>",
        _paragraph(f"BSN: {document['bsn']}"),
        _paragraph(f"Opgemaakt op: {document['produced_at']}"),
        _paragraph(f"Reden: {document['reason']}"),
    ]
    if not document["data_held"]:
        parts.append(_paragraph("De signaalradar houdt geen gegevens over deze persoon."))
    else:
        parts += [
            "<h2>Signalen over u</h2>",
            _paragraph(
                "Bij een gecorrigeerd signaal staan de verbeterde gegevens, met de reden die de "
                "melder voor de correctie gaf."
            ),
            _table(document["signals"], SIGNAL_COLUMNS),
            "<h2>Ingetrokken signalen</h2>",
            _paragraph(
                "Deze signalen over u zijn door de melder ingetrokken. De signaalradar gebruikt "
                "ze niet meer; de inhoud wordt daarom niet getoond. Wilt u weten wat er gemeld "
                "was, dan kunt u dat vragen aan de organisatie die het signaal deed."
            ),
            _table(document["withdrawn"], WITHDRAWN_COLUMNS),
            "<h2>Bronnen</h2>",
            _table(document["sources"], SOURCE_COLUMNS),
            *_withheld_sources(document.get("withheld_sources")),
            "<h2>Doelen waarvoor de gegevens zijn gebruikt</h2>",
            _table(document["purposes"], PURPOSE_COLUMNS),
            "<h2>Wie de gegevens heeft geraadpleegd</h2>",
            _table(document["accesses"], ACCESS_COLUMNS),
        ]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _withheld_sources(withheld: dict[str, Any] | None) -> list[str]:
    """The section on sources Veilig Thuis protects: that they were withheld, and why."""
    if withheld is None:
        return []
    return [
        "<h2>Afgeschermde bronnen</h2>",
        _paragraph(withheld["explanation"]),
        _paragraph(f"Aantal signalen met een afgeschermde bron: {withheld['signals']}"),
        _paragraph(f"Grond: {withheld['ground']}"),
    ]


def _paragraph(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def _table(rows: list[dict[str, Any]], columns: Columns) -> str:
    if not rows:
        return _paragraph("Geen.")
    head = "".join(f"<th>{html.escape(heading)}</th>" for heading, _ in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(_text(cell(row)))}</td>" for _, cell in columns)
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _text(value: Any) -> str:
    return "" if value is None else str(value)
