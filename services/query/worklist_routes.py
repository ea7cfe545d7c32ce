"""The regional worklist and alert lifecycle routes (filled in by the radar issue)."""

from __future__ import annotations

from fastapi import APIRouter

from services.query.gate import QueryGate
from services.settings import Settings


def worklist_routers(gate: QueryGate, settings: Settings) -> list[APIRouter]:
    """Routers for analysts' worklists, served by the query API behind the gate."""
    return []
