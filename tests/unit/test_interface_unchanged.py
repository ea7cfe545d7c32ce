"""What operators and clients depend on stays as it was before the restructure: both OpenAPI
documents, the `radar` command tree with its options, and the names of the settings
(environment variables), compared with copies written by the earlier layout
(tests/fixtures/interface-v0). Additions pass (a new route, schema, command, option or
setting breaks no one); a change to or the loss of anything in the copies fails."""

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
    assert _lost(_before(f"openapi-{api}.json"), document) == []


def _lost(before: Any, now: Any, where: str = "") -> list[str]:
    """Where `now` no longer holds what `before` held: every key of an object (recursively),
    every item of a list in its place, and every value as it was; an `enum` may gain values."""
    if isinstance(before, dict) and isinstance(now, dict):
        return [
            lost
            for key, value in before.items()
            for lost in (
                _lost(value, now[key], f"{where}/{key}") if key in now else [f"{where}/{key}"]
            )
        ]
    if isinstance(before, list) and isinstance(now, list) and where.endswith("/enum"):
        return [f"{where}: {item!r}" for item in before if item not in now]
    return [] if before == now else [f"{where}: {before!r} -> {now!r}"]


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
    now = {c["command"]: set(c["params"]) for c in _commands(typer.main.get_command(app))}
    lost = [
        f"{c['command']} {sorted(set(c['params']) - now.get(c['command'], set()))}"
        for c in _before("cli-commands.json")
        if c["command"] not in now or not set(c["params"]) <= now[c["command"]]
    ]
    assert lost == []


def test_the_settings_keep_their_environment_variables() -> None:
    now = {"RADAR_": set(Settings.model_fields), "RADAR_AUDIT_": set(AuditSettings.model_fields)}
    before = _before("settings.json")
    assert {prefix: sorted(set(before[prefix]) - now[prefix]) for prefix in now} == {
        prefix: [] for prefix in now
    }
