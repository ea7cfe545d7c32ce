"""Read models of the radar's risk model: scores, alerts, worklists (filled in by the radar
issue)."""

from __future__ import annotations

from services.database import Database
from services.read_models.read_model import ReadModel


def radar_read_models(db: Database) -> list[ReadModel]:
    return []
