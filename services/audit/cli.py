"""`radar audit ...`: commands for auditors (filled in by the audit issue)."""

from __future__ import annotations

import typer

audit_cli = typer.Typer(help="Replay, verify and check the logs (auditors).")
