"""Inzage (AVG art. 15) on SQLite and PostgreSQL: `radar inzage` for a synthetic person lists
exactly the signals naming them and exactly the accesses to their households, in JSON and HTML;
the access log records the export once and without the BSN; no log line holds the BSN."""

from __future__ import annotations

import dataclasses
import getpass
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from contracts.correction_v1 import CorrectedValues, CorrectionKind, SignalCorrectionV1
from contracts.signal_v1 import SignalEventV1
from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole
from privacy.addresses import HomeAddress
from privacy.credentials import Audience, TokenAuthority
from privacy.pseudonyms import PseudonymKeyring
from privacy.storage.access_log import AccessLog, EntryKind
from privacy.storage.vault import Identity
from services import bootstrap
from services.cli import app
from services.database import Database
from services.settings import Settings
from services.timelines.store import TimelineStore
from tests.support.privacy_fixtures import HOME_REGION, OTHER_REGION, entry
from tests.support.radar_fixtures import FAMILY, NOW, Radar, days_ago, signal

SUBJECT, PARENT, OTHER = "111222333", "123456782", "908301662"  # synthetic, pass the elfproef
UNKNOWN = "100000009"  # passes the elfproef; nobody in the scenario
HOME = HomeAddress.normalised("3511 AB", 12, "bis")
ELSEWHERE = HomeAddress.normalised("9711 CD", 3)
THIRD = HomeAddress.normalised("1011 EF", 7)


@dataclasses.dataclass
class Scenario:
    settings: Settings
    access_log: AccessLog
    signals: set[str]  # the ids of the signals naming SUBJECT
    accesses: list[int]  # the access-log seqs of the accesses to SUBJECT's households
    subject: str  # SUBJECT's first-known pseudonym


@pytest.fixture
def scenario(tmp_path: Path, database: Database) -> Iterator[Scenario]:
    """SUBJECT lives in two households (HOME with PARENT, ELSEWHERE); OTHER in a third. HOME
    has a signal about PARENT alone; analysts open each household, permitted and refused."""
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database.url, vault_url=database.url
    )
    keys = bootstrap.pseudonyms(settings).pseudonymiser()
    homes = {HOME: (SUBJECT, PARENT), ELSEWHERE: (SUBJECT,), THIRD: (OTHER,)}
    bootstrap.identity_vault(settings).deposit(
        [
            Identity(keys.household(a), a, tuple((keys.person(b), b) for b in bsns))
            for a, bsns in homes.items()
        ],
        keys,
    )
    home, elsewhere, third = (keys.household(a) for a in homes)
    subject, parent, other = (keys.person(b) for b in (SUBJECT, PARENT, OTHER))
    signals = [
        _signal(home, HOME_REGION, 1, (subject, "child"), (parent, "parent")),
        _signal(home, HOME_REGION, 2, (parent, "parent")),
        _signal(elsewhere, OTHER_REGION, 3, (subject, "child")),
        _signal(third, HOME_REGION, 4, (other, "child")),
    ]
    engine = database.engine()
    store = TimelineStore(engine, database.row_sealer(engine))
    store.apply(signals, expected=store.position(), new_position=len(signals))
    access_log = database.access_log(engine)
    authority = TokenAuthority(settings.keys_dir)
    with TestClient(bootstrap.query_app(settings)) as client:

        def read(household: str, role: AnalystRole, purpose: str, outcome: int) -> int:
            token = authority.issue(
                Analyst("user-7", "vt-utrecht", role, HOME_REGION),  # type: ignore[arg-type]
                Audience.QUERY,
                timedelta(hours=1),
            )
            response = client.get(
                f"/v1/households/{household}/timeline",
                params={"purpose": purpose},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == outcome, response.text
            return access_log.entries()[-1].seq

        accesses = [
            read(home, AnalystRole.TRIAGE, "triage", 200),
            read(home, AnalystRole.SCHOOL, "triage", 403),
            read(elsewhere, AnalystRole.TRIAGE, "triage", 403),  # another region, unjustified
            read(home, AnalystRole.MONITORING, "monitoring", 200),
        ]
        read(third, AnalystRole.TRIAGE, "triage", 200)  # OTHER's household: not in the export
    PseudonymKeyring.rotate(settings.pseudonym_keyring_path)  # found under the earlier key
    yield Scenario(
        settings,
        access_log,
        {str(signals[0].signal_id), str(signals[2].signal_id)},
        accesses,
        subject,
    )
    engine.dispose()


def _signal(household: str, region: str, position: int, *persons: tuple[str, str]) -> Any:
    base = entry(household, Sector.POLICE, 10 * position, region, position)
    return dataclasses.replace(base, signal_id=uuid.uuid4(), persons=persons)


def _inzage(scenario: Scenario, out: Path, *args: str) -> Any:
    env = {
        "RADAR_DATA_DIR": str(scenario.settings.data_dir),
        "RADAR_DATABASE_URL": str(scenario.settings.database_url),
        "RADAR_VAULT_URL": str(scenario.settings.vault_url),
    }
    return CliRunner().invoke(app, ["inzage", "--out", str(out), *args], env=env)


def test_the_export_lists_exactly_the_signals_and_accesses_of_the_scenario(
    scenario: Scenario, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    result = _inzage(scenario, out, "--bsn", SUBJECT, "--reason", "Verzoek per brief ontvangen")
    assert result.exit_code == 0, result.output
    document = orjson.loads((out / "inzage.json").read_bytes())
    assert document["bsn"] == SUBJECT and document["data_held"]
    assert document["person"] == scenario.subject
    assert {s["signal_id"] for s in document["signals"]} == scenario.signals
    assert [a["seq"] for a in document["accesses"]] == scenario.accesses
    assert [a["outcome"] for a in document["accesses"]] == ["permit", "deny", "deny", "permit"]
    assert {a["actor"]["organisation"] for a in document["accesses"]} == {"vt-utrecht"}
    assert [p["purpose"] for p in document["purposes"]] == ["monitoring", "triage"]
    assert all(p["legal_basis"] for p in document["purposes"])
    assert {s["sector"] for s in document["sources"]} == {"police"}

    page = (out / "inzage.html").read_text()
    assert SUBJECT in page and "<script" not in page
    for signal_id in scenario.signals:
        assert signal_id in page
    for access in document["accesses"]:
        assert access["recorded_at"] in page

    exports = [e for e in scenario.access_log.entries() if e.kind == EntryKind.INZAGE_EXPORT]
    assert len(exports) == 1
    assert exports[0].payload == {
        "operator": {
            "os_user": getpass.getuser(),
            "name": None,
            "role": "privacy_officer",
            "responsible": getpass.getuser(),  # NEN 7513: no name given, so the OS account
        },
        "person": scenario.subject,
        "known": True,
        "signals": 2,
        "withdrawn": 0,
        "households": 2,
        "accesses": 4,
        "reason": "Verzoek per brief ontvangen",
    }
    _assert_no_bsn_outside_the_export(scenario, result.output)


def test_an_unknown_person_gets_an_export_saying_nothing_is_held(
    scenario: Scenario, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    result = _inzage(scenario, out, "--bsn", UNKNOWN)
    assert result.exit_code == 0, result.output
    document = orjson.loads((out / "inzage.json").read_bytes())
    assert not document["data_held"] and document["person"] is None
    assert document["signals"] == [] and document["accesses"] == []
    assert "geen gegevens" in (out / "inzage.html").read_text()
    exports = [e for e in scenario.access_log.entries() if e.kind == EntryKind.INZAGE_EXPORT]
    assert [e.payload["known"] for e in exports] == [False]
    assert UNKNOWN not in str(exports[0].payload)


@pytest.mark.parametrize(
    ("bsn", "reason"),
    [("111222334", "Verzoek"), ("12345", "Verzoek"), (SUBJECT, f"Verzoek van {OTHER}")],
)
def test_an_invalid_bsn_or_a_reason_with_one_writes_nothing(
    scenario: Scenario, tmp_path: Path, bsn: str, reason: str
) -> None:
    count = scenario.access_log.count()
    out = tmp_path / "export"
    result = _inzage(scenario, out, "--bsn", bsn, "--reason", reason)
    assert result.exit_code == 2
    assert "nothing was written" in result.output
    assert not out.exists()
    assert scenario.access_log.count() == count


def _assert_no_bsn_outside_the_export(scenario: Scenario, output: str) -> None:
    log_text = "".join(p.read_text() for p in scenario.settings.logs_dir.glob("*.log"))
    assert "inzage export produced" in log_text
    access_log_text = orjson.dumps([e.payload for e in scenario.access_log.entries()]).decode()
    for bsn in (SUBJECT, PARENT, OTHER):
        assert bsn not in log_text
        assert bsn not in access_log_text
        assert bsn not in output


CORRECTION_REASON = "ernst stond bij het verkeerde incident"
RETRACTION_REASON = "niet onze leerling"


def _rectify(
    original: SignalEventV1, kind: CorrectionKind, reason: str, **values: Any
) -> SignalCorrectionV1:
    return SignalCorrectionV1(
        correction_id=uuid.uuid4(),
        corrects=original.event_id,
        kind=kind,
        values=CorrectedValues(**values) if kind == CorrectionKind.CORRECTION else None,
        reason=reason,
        organisation=original.organisation,
        sector=original.sector,
        received_at=NOW,
        household=original.first_known_household(),
    )


def test_corrected_signals_are_marked_and_a_withdrawn_one_is_listed_without_its_content(
    tmp_path: Path, database: Database
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database.url, vault_url=database.url
    )
    keys = bootstrap.pseudonyms(settings).pseudonymiser()
    child = keys.person(SUBJECT)
    bootstrap.identity_vault(settings).deposit([Identity(FAMILY, HOME, ((child, SUBJECT),))], keys)
    radar = Radar(database)
    kept = signal("zorgmelding", days_ago(30), severity="high", children=(child,))
    wrong = signal("school_absence", days_ago(20), severity="moderate", children=(child,))
    radar.record(kept, wrong)
    radar.record(_rectify(kept, CorrectionKind.CORRECTION, CORRECTION_REASON, severity="low"))
    radar.record(_rectify(wrong, CorrectionKind.RETRACTION, RETRACTION_REASON))
    radar.close()
    scenario = Scenario(settings, database.access_log(database.engine()), set(), [], child)
    out = tmp_path / "export"

    result = _inzage(scenario, out, "--bsn", SUBJECT, "--operator", "F. de Groot")
    assert result.exit_code == 0, result.output
    document = orjson.loads((out / "inzage.json").read_bytes())
    (shown,) = document["signals"]
    assert shown["signal_id"] == str(kept.event_id) and shown["severity"] == "low"
    assert shown["corrected"] is True and shown["correction_reasons"] == [CORRECTION_REASON]
    (withdrawn,) = document["withdrawn"]
    assert withdrawn == {
        "signal_id": str(wrong.event_id),
        "household": FAMILY,
        "organisation": wrong.organisation,
        "sector": "education",
        "reported_at": wrong.reported_at.isoformat(),
        "withdrawn_at": NOW.isoformat(),
        "status": "ingetrokken door de melder",
    }
    page = (out / "inzage.html").read_text()
    assert f"ja (reden: {CORRECTION_REASON})" in page
    assert "Ingetrokken signalen" in page and "ingetrokken door de melder" in page
    # what the withdrawn signal said is not shown: neither its type nor its severity nor why
    for content in ("school_absence", "moderate", RETRACTION_REASON):
        assert content not in page and content not in str(document)

    (export,) = [e for e in scenario.access_log.entries() if e.kind == EntryKind.INZAGE_EXPORT]
    assert export.payload["operator"] == {
        "os_user": getpass.getuser(),
        "name": "F. de Groot",
        "role": "privacy_officer",
        "responsible": "F. de Groot",
    }
    assert (export.payload["signals"], export.payload["withdrawn"]) == (1, 1)


def test_an_operator_name_with_an_identifier_writes_nothing(
    scenario: Scenario, tmp_path: Path
) -> None:
    count = scenario.access_log.count()
    out = tmp_path / "export"
    result = _inzage(scenario, out, "--bsn", SUBJECT, "--operator", f"namens {OTHER}")
    assert result.exit_code == 2 and OTHER not in result.output
    assert not out.exists() and scenario.access_log.count() == count
