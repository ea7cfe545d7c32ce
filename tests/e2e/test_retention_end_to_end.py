"""The expiry stories end to end, on the real broker and both databases: a police zorgmelding
and a school's absence report about one child raise a cross-sector alert in Utrecht. Where
nobody touches it, retention enforced 800 days later erases both signals and the alert leaves
the worklist; where an analyst acknowledged it, the household is kept as a case (twenty years).
The dry run counts exactly what the run then erases. Enforcement runs on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.credentials import Audience, TokenAuthority
from services.database import Database
from services.retention.cli import enforce_once
from services.settings import Settings
from testkit.processes import run_radar, running_radar
from tests.support.ingest import bearer_for, family_signal
from tests.support.inspection import database_bytes, wait_for

Family = tuple[dict[str, Any], tuple[str, str]]  # address, (parent's BSN, child's BSN)
UNTOUCHED: Family = ({"postcode": "3512 JE", "house_number": 7}, ("111222333", "123456782"))
WORKED: Family = ({"postcode": "3512 JE", "house_number": 9}, ("999999990", "908301662"))
PUBLISHERS = {  # signal type -> who publishes it
    "zorgmelding": Publisher("sys-politie", "politie-midden-nederland", Sector.POLICE),
    "school_absence": Publisher("sys-school", "obs-de-regenboog", Sector.EDUCATION),
}


def _signal(kind: str, days_ago: int, family: Family) -> dict[str, Any]:
    address, (parent, child) = family
    return family_signal(kind, days_ago, address, parent, child)


def _counts(report: Any) -> tuple[Any, ...]:
    return (
        report.checked,
        dict(report.expired),
        report.events_erased,
        report.rows_purged,
        report.identities_purged,
    )


def test_an_untouched_alert_is_erased_at_two_years_and_an_acknowledged_one_kept_as_a_case(
    settings: Settings, database: Database
) -> None:
    authority = TokenAuthority(settings.keys_dir)
    utrecht = bearer_for(
        authority,
        Analyst("a.jansen", "vt-utrecht", AnalystRole.TRIAGE, "VT09"),  # type: ignore[arg-type]
        Audience.QUERY,
    )
    signal_ids: dict[int, list[str]] = {}
    with running_radar(settings) as radar:

        def worklist() -> list[dict[str, Any]]:
            answer = httpx.get(
                f"{radar.query_url}/v1/worklist", params={"purpose": "triage"}, headers=utrecht
            )
            assert answer.status_code == 200, answer.text
            alerts: list[dict[str, Any]] = answer.json()["alerts"]
            return alerts

        for number, family in enumerate((UNTOUCHED, WORKED)):
            for kind, days in (("zorgmelding", 30), ("school_absence", 16)):
                body = _signal(kind, days, family)
                answer = httpx.post(
                    f"{radar.ingest_url}/v1/signals",
                    json=body,
                    headers=bearer_for(authority, PUBLISHERS[kind], Audience.INGEST),
                )
                assert answer.status_code == 202, answer.text
                signal_ids.setdefault(number, []).append(body["event_id"])
            wait_for(lambda n=number: len(worklist()) == n + 1, 60, "the cross-sector alert")
        untouched, worked = sorted(worklist(), key=lambda a: a["raised_at"])
        assert {untouched["kind"], worked["kind"]} == {"cross_sector"}
        acknowledged = httpx.post(
            f"{radar.query_url}/v1/alerts/{worked['alert_id']}/acknowledge",
            json={"purpose": "triage"},
            headers=utrecht,
        )
        assert acknowledged.status_code == 200, acknowledged.text

        def shown() -> dict[str, dict[str, Any]]:
            return {a["alert_id"]: a for a in worklist()}

        wait_for(lambda: shown()[worked["alert_id"]]["status"] == "acknowledged", 30, "the ack")
        # before it happens: the untouched alert says when it goes; the case does not expire
        assert shown()[untouched["alert_id"]]["expires_in_days"] in (729, 730)
        assert "expires_in_days" not in shown()[worked["alert_id"]]

        today = run_radar(settings, "retention", "enforce", "--dry-run")
        assert today.returncode == 0, today.stderr
        assert "checked 2 households; expired: none; would erase 0 events" in today.stdout

        later = datetime.now(UTC) + timedelta(days=800)
        dry = enforce_once(settings, True, lambda: later)
        assert len(shown()) == 2, "a dry run erases nothing"
        run = enforce_once(settings, False, lambda: later)
        assert _counts(dry) == _counts(run), "the dry run counts what the run erases"
        assert dict(run.expired) == {"signals_without_case": 1}
        assert run.events_erased >= 4 and run.rows_purged >= 4 and run.identities_purged >= 3

        assert list(shown()) == [worked["alert_id"]], "the untouched alert went with it"
        raw = database_bytes(database)
        assert all(i.encode() not in raw for i in signal_ids[0])

        # twenty years after the acknowledgement the case goes too
        still = enforce_once(settings, True, lambda: later + timedelta(days=365))
        assert dict(still.expired) == {}
        gone = enforce_once(settings, False, lambda: later + timedelta(days=7305))
        assert dict(gone.expired) == {"case_data": 1}
        assert shown() == {}
