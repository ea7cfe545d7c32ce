"""How the audit room plugs into the processes (filled in by the audit issue)."""

from __future__ import annotations

from fastapi import APIRouter

from services.projector import Follower
from services.query.gate import QueryGate
from services.settings import Settings


def audit_routers(gate: QueryGate, settings: Settings) -> list[APIRouter]:
    """Routers of the audit API, served by the query API behind the gate."""
    return []


def audit_followers(settings: Settings) -> list[Follower]:
    """Processes that follow the event store next to the projections (e.g. a sealer)."""
    return []
