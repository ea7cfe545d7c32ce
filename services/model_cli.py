"""`radar model ...`: the risk model's versions (filled in by the radar issue)."""

from __future__ import annotations

import typer

model_cli = typer.Typer(help="The risk model: versions and their effect on scores.")
