"""`radar --help` and `radar admin token` answer at once (issue 22: every command took 1-2 s,
importing every slice): in a fresh process neither loads the database, web or Kafka libraries,
which is where the start-up time went. Checked by what is imported, not by a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HEAVY = ("sqlalchemy", "fastapi", "starlette", "uvicorn", "kafka", "eventsourcing", "psycopg")
REPOSITORY = Path(__file__).parents[2]

# Runs the command as the `radar` script does, then reports on stderr's last line what it loaded.
_RADAR = f"""
import json, sys
from services.cli import app
code = None
if len(sys.argv) > 1:
    try:
        app(sys.argv[1:], prog_name="radar")
    except SystemExit as stop:
        code = stop.code
loaded = sorted(name for name in sys.modules if name.split(".")[0] in {HEAVY!r})
print(json.dumps({{"exit": code, "loaded": loaded}}), file=sys.stderr)
"""


def _radar(tmp_path: Path, *arguments: str) -> tuple[dict[str, Any], str]:
    """`radar <arguments>` in a fresh interpreter: its report, and what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADAR_")}
    env["RADAR_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", _RADAR, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        cwd=REPOSITORY,
    )
    return json.loads(done.stderr.strip().splitlines()[-1]), done.stdout


def test_importing_the_cli_loads_no_database_web_or_kafka_library(tmp_path: Path) -> None:
    assert _radar(tmp_path) == ({"exit": None, "loaded": []}, "")


PUBLISHER = ["--subject", "sys-politie", "--organisation", "politie-utrecht", "--sector", "police"]
ANALYST = ["--subject", "a.jansen", "--organisation", "vt-utrecht", "--role", "triage"]


@pytest.mark.parametrize(
    "arguments",
    [
        ["--help"],
        ["admin", "--help"],
        ["admin", "token", "--help"],
        ["admin", "token", "publisher", *PUBLISHER],
        ["admin", "token", "analyst", *ANALYST, "--region", "VT09"],
    ],
)
def test_help_and_minting_a_token_load_none_of_them(tmp_path: Path, arguments: list[str]) -> None:
    report, printed = _radar(tmp_path, *arguments)
    assert report == {"exit": 0, "loaded": []}
    if "--help" in arguments:
        assert "Usage: radar" in printed
    else:
        assert printed.startswith("eyJ") and printed.count(".") == 2


def test_a_command_that_needs_the_database_still_finds_it(tmp_path: Path) -> None:
    report, printed = _radar(tmp_path, "admin", "revoke", "some-jti", "--reason", "lost laptop")
    assert report["exit"] == 0 and "sqlalchemy" in report["loaded"]
    assert printed == "revoked some-jti\n"
