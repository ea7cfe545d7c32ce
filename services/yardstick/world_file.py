"""Reads the synthetic world's parameter file (radar/simulation/world-v1.toml by default)."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

from radar.simulation.parameters import WORLD_FILE, WorldParameters


def load_world(path: Path | None = None) -> WorldParameters:
    """The parameters in `path`, or the shipped world's."""
    text = (
        path.read_text(encoding="utf-8")
        if path is not None
        else files("radar.simulation").joinpath(WORLD_FILE).read_text(encoding="utf-8")
    )
    return WorldParameters.parse(tomllib.loads(text))
