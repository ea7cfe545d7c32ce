"""Readable HTML reports for auditors: plain templates, every value escaped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

import orjson

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}h3{font-size:1rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.85rem}
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eee}.bad{color:#a00;font-weight:bold}.good{color:#060;font-weight:bold}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:bold}
"""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping | list | tuple):
        return orjson.dumps(value, default=str).decode()
    return str(value)


LOG_ACCESS_COLUMNS = (
    *("seq", "recorded_at", "operator", "command", "read"),
    *("since", "until", "as_of", "household", "region", "purpose"),
)


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "<p>None.</p>"
    names = list(columns or rows[0].keys())
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_text(row.get(n)))}</td>" for n in names) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _facts(facts: Iterable[tuple[str, Any]]) -> str:
    return (
        "<dl>"
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(_text(v))}</dd>" for k, v in facts)
        + "</dl>"
    )


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )


def _person_list(persons: Any) -> str:
    if not isinstance(persons, list):
        return _text(persons)
    return ", ".join(f"{p.get('role')}: {p.get('pseudonym')}" for p in persons)


def replay_html(report: Mapping[str, Any]) -> str:
    """The radar as it was at a moment: each household's timeline and the other read models."""
    selection = report["selection"]
    parts = [
        _facts(
            [
                ("as of", report["as_of"]),
                ("generated at", report["generated_at"]),
                ("selection", selection.get("household") or selection.get("region") or "all"),
                ("as seen under purpose", report.get("purpose_view") or "(everything recorded)"),
                ("last notification read", report["event_store"]["last_notification_id"]),
                ("events applied", report["event_store"]["events_applied"]),
            ]
        ),
        f"<h2>Household timelines ({len(report['households'])})</h2>",
    ]
    for household in report["households"]:
        signals = [
            {**s, "persons": _person_list(s.get("persons"))} if "persons" in s else s
            for s in household["signals"]
        ]
        parts.append(
            f"<h3>{escape(household['household'])} (region {escape(_text(household['region']))},"
            f" {len(signals)} signals)</h3>{_table(signals)}"
        )
    for name, rows in report["read_models"].items():
        parts.append(f"<h2>Read model: {escape(name)} ({len(rows)} rows)</h2>{_table(rows)}")
    return _page(f"Audit replay as of {_text(report['as_of'])}", "".join(parts))


LISTING = [
    "seq",
    "recorded_at",
    "category",
    "actor",
    "actor_verified",
    "responsible",
    "purpose",
    "subject",
    "endpoint",
    "reason",
    "client",
    "suppressed",
]
"""The columns of `radar audit access`'s listing (services/audit/listing.py)."""


def access_html(report: Mapping[str, Any]) -> str:
    """Every access re-decided under the register of its time."""
    verdict = (
        "<p class='good'>Every access was allowed by the policy then in force; "
        "the log is intact.</p>"
        if report["lawful"]
        else "<p class='bad'>Findings below need attention.</p>"
    )
    columns = [
        "seq",
        "recorded_at",
        "actor",
        "resource",
        "purpose",
        "subject",
        "subject_region",
        "register_version",
        "finding",
    ]
    review_columns = [
        "seq",
        "recorded_at",
        "actor",
        "purpose",
        "subject",
        "subject_region",
        "justification",
        "review",
    ]
    body = [
        verdict,
        _facts(
            [
                ("from", report["since"] or "(start)"),
                ("to", report["until"] or "(end)"),
                ("accesses checked", report["accesses_checked"]),
            ]
        ),
        "<h2>Register versions adopted in the period</h2>",
        _table(report["registers"]),
        f"<h2>Accesses the policy of the time would not have allowed "
        f"({len(report['unlawful'])})</h2>",
        _table(report["unlawful"], columns),
        f"<h2>Break-glass uses ({len(report['break_glass'])})</h2>",
        _table(report["break_glass"], review_columns),
        f"<h2>Accesses across regions, bovenregionaal ({len(report['cross_region'])})</h2>",
        _table(report["cross_region"], [*columns[:-1], "justification"]),
        f"<h2>Extracts for external recipients ({len(report['exports'])})</h2>",
        _table(report["exports"]),
        f"<h2>Readings of the logs on the command line ({len(report['log_accesses'])})</h2>",
        _table(report["log_accesses"], LOG_ACCESS_COLUMNS),
        f"<h2>Refused although the policy allowed ({len(report['refused_though_allowed'])})</h2>",
        _table(report["refused_though_allowed"], columns),
        f"<h2>Notes ({len(report['notes'])})</h2>",
        _table(report["notes"], columns),
        f"<h2>Access-log integrity ({len(report['integrity'])} faults)</h2>",
        _table(report["integrity"]),
    ]
    if "entries" in report:  # radar audit access: the listing, as filtered
        listed = report["entries"]
        body += [f"<h2>Every entry in the period ({len(listed)})</h2>", _table(listed, LISTING)]
    return _page("Access compliance report", "".join(body))


def verify_html(report: Mapping[str, Any]) -> str:
    """Integrity of the event store and the access log."""
    verdict = (
        "<p class='good'>Both logs verify: nothing changed, removed, inserted or reordered "
        f"({escape(str(report.get('verdict', 'intact')))}).</p>"
        if report["intact"]
        else f"<p class='bad'>{len(report['faults'])} faults found.</p>"
    ) + f"<p>{escape(str(report.get('cannot_see', '')))}</p>"
    verdict += "".join(f"<p>{escape(r['notice'])}</p>" for r in report.get("restores", []))
    facts = _facts([*report["event_store"].items(), *report["access_log"].items()])
    return _page(
        "Integrity verification", verdict + facts + "<h2>Faults</h2>" + _table(report["faults"])
    )
