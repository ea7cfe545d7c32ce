"""Read models of the radar's risk model: the regional worklist (alerts, scores, model versions)
and the monitoring of safety conditions; and the follower that raises reminders for missed
check dates."""

from __future__ import annotations

from services.casework.monitoring_store import SafetyStore
from services.casework.reminders import CheckReminders
from services.casework.store import WorklistStore
from services.database import Database
from services.projections.projector import Follower
from services.projections.read_model import ReadModel
from services.settings import Settings


def radar_read_models(db: Database) -> list[ReadModel]:
    engine = db.engine()
    return [WorklistStore(engine), SafetyStore(engine)]


def radar_followers(settings: Settings) -> list[Follower]:
    """Followers of the radar room for the projector process: the check-date reminders."""
    return [CheckReminders.for_settings(settings)]
