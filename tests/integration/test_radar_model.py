"""The risk model as a versioned file: complete and validated; `radar model diff` shows how a
new version would change current scores; adopting it is an event, and scores made before keep
the version they were made with."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from radar.alerts import StaffRef
from radar.household import Household
from radar.model_diff import parameter_changes
from radar.model_history import ModelChangeError, RiskModelHistory
from radar.risk_model import DEFAULT_MODEL_FILE, RiskModel, default_model
from services.casework.cli import model_cli
from services.database import Database
from tests.support.radar_fixtures import FAMILY, NOW, OTHER_FAMILY, Radar, days_ago, signal

OWNER = StaffRef("m.visser", "vt-nederland", "model_owner", "national")


def _model_file(tmp_path: Path, **changes: object) -> Path:
    """A copy of the shipped model file with some top-level sections changed."""
    with DEFAULT_MODEL_FILE.open("rb") as handle:
        content = tomllib.load(handle)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = content
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    path = tmp_path / "model.toml"
    path.write_text(_toml(content), encoding="utf-8")
    return path


def _toml(content: dict[str, object]) -> str:
    """Enough TOML for a model file: scalars, then one table per section."""
    lines = [f"{k} = {_value(v)}" for k, v in content.items() if not isinstance(v, dict)]
    for key, section in content.items():
        if isinstance(section, dict):
            lines += [f"[{key}]", *(f"{k} = {_value(v)}" for k, v in section.items())]
    return "\n".join(lines) + "\n"


def _value(value: object) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value)


@pytest.fixture
def radar(database: Database) -> Iterator[Radar]:
    radar = Radar(database)
    yield radar
    radar.close()


def test_the_shipped_model_is_complete_and_its_fingerprint_stable(tmp_path: Path) -> None:
    model = default_model()
    assert model.version == 1
    assert model.fingerprint() == RiskModel.load(_model_file(tmp_path)).fingerprint()
    with pytest.raises(ValidationError, match="signal_types lacks"):
        RiskModel.load(
            _model_file(
                tmp_path, signal_types={"zorgmelding": {"weight": 1.0, "half_life_days": 9}}
            )
        )
    with pytest.raises(ValidationError):
        RiskModel.load(_model_file(tmp_path, convergence__max_factor=0.5))  # would lower scores


def test_parameter_changes_name_each_changed_number(tmp_path: Path) -> None:
    new = RiskModel.load(
        _model_file(tmp_path, version=2, thresholds__alert_score=10.0, severity__acute=3.0)
    )
    assert parameter_changes(default_model(), new) == [
        "severity.acute: 2.5 -> 3.0",
        "thresholds.alert_score: 12.0 -> 10.0",
        "version: 1 -> 2",
    ]


def test_a_model_change_keeps_old_versions_in_the_history(radar: Radar, tmp_path: Path) -> None:
    radar.record(signal("domestic_incident", days_ago(100)))
    radar.record(signal("zorgmelding", days_ago(20), household=OTHER_FAMILY))
    radar.record(signal("domestic_incident", days_ago(10)))
    before = radar.ledger.household(FAMILY).latest_assessment()
    assert before is not None

    heavier = RiskModel.load(
        _model_file(
            tmp_path,
            version=2,
            signal_types__domestic_incident={"weight": 7.0, "half_life_days": 270},
        )
    )
    assert radar.ledger.adopt_model(heavier, OWNER, "Call-outs under-weighted", NOW) == 2
    with pytest.raises(ModelChangeError, match="not newer"):
        radar.ledger.adopt_model(heavier, OWNER, "again", NOW)
    radar.record(signal("school_absence", days_ago(1)))

    scores = [e for e in radar.events(Household.ScoreChanged) if e.household == FAMILY]
    assert [(e.model_version, e.cause) for e in scores] == [
        (1, "signals"),
        (1, "signals"),
        (2, "model_adopted"),
        (2, "signals"),
    ]
    assert scores[1].score == before.score, "the score made under version 1 is kept as it was"
    assert scores[2].as_of == NOW and scores[2].score > before.score
    adopted = radar.events(RiskModelHistory.ModelAdopted)
    assert [(e.version, e.reason) for e in adopted] == [
        (1, "the model shipped with the radar, adopted at first use"),
        (2, "Call-outs under-weighted"),
    ]
    assert adopted[1].content == heavier.content() and adopted[1].by["subject"] == "m.visser"
    radar.project()
    assert [v["version"] for v in radar.worklist.model_versions()] == [1, 2]
    assert radar.worklist.model_in_force() == heavier
    assert radar.worklist.household_score(FAMILY)["model_version"] == 2


def test_radar_model_diff_shows_how_current_scores_would_change(
    radar: Radar, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    radar.record(signal("huisverbod", days_ago(30), severity="moderate", children=()))
    radar.record(signal("school_absence", days_ago(3), household=OTHER_FAMILY))
    monkeypatch.setenv("RADAR_DATABASE_URL", radar.database.url)
    monkeypatch.setenv("RADAR_DATA_DIR", str(tmp_path / "data"))
    new = _model_file(
        tmp_path, version=2, signal_types__huisverbod={"weight": 16.0, "half_life_days": 365}
    )

    result = CliRunner().invoke(model_cli, ["diff", str(new), "--at", NOW.isoformat()])
    assert result.exit_code == 0, result.output
    assert "signal_types.huisverbod.weight: 8.0 -> 16.0" in result.output
    assert "for 2 households: 1 higher, 0 lower, 1 unchanged" in result.output
    assert "1 would newly reach the alert score" in result.output
    assert f"{FAMILY}  VT09" in result.output and "now reaches the alert score" in result.output

    history = CliRunner().invoke(model_cli, ["history"])
    assert "version 1" in history.output and "adopted at first use" in history.output
    broken = CliRunner().invoke(model_cli, ["diff", str(DEFAULT_MODEL_FILE.with_name("none"))])
    assert broken.exit_code != 0
