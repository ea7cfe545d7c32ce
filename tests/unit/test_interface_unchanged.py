"""What operators and clients depend on stays as it was before the restructure: both OpenAPI
documents, the `radar` command tree with its options, and the names of the settings
(environment variables), compared with copies written by the earlier layout
(tests/fixtures/interface-v0)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer.main

from services import bootstrap
from services.audit.settings import AuditSettings
from services.cli import app
from services.settings import Settings

BEFORE = Path(__file__).parent.parent / "fixtures" / "interface-v0"


def _before(name: str) -> Any:
    return json.loads((BEFORE / name).read_text())


@pytest.mark.parametrize("api", ["ingest", "query"])
def test_the_openapi_documents_are_unchanged(api: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    build = bootstrap.ingest_app if api == "ingest" else bootstrap.query_app
    document = json.loads(json.dumps(build(settings).openapi(), sort_keys=True))
    assert document == _before(f"openapi-{api}.json")


def _commands(command: Any, prefix: str = "") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if hasattr(command, "commands"):  # a group (typer's own click types)
        for name, sub in sorted(command.commands.items()):
            found.append(
                {"command": f"{prefix}{name}", "params": sorted(p.name or "" for p in sub.params)}
            )
            found += _commands(sub, f"{prefix}{name} ")
    return found


def test_the_cli_commands_and_their_options_are_unchanged() -> None:
    assert _commands(typer.main.get_command(app)) == _before("cli-commands.json")


def test_the_settings_keep_their_environment_variables() -> None:
    assert {
        "RADAR_": sorted(Settings.model_fields),
        "RADAR_AUDIT_": sorted(AuditSettings.model_fields),
    } == _before("settings.json")
