"""The audit room's own settings (RADAR_AUDIT_*), next to the radar's Settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.settings import Settings

CHECKPOINTS_TOPIC_DEFAULT = "radar.audit.checkpoints.v1"


class AuditSettings(BaseSettings):
    """How often the sealer signs a checkpoint and where checkpoints are published."""

    model_config = SettingsConfigDict(env_prefix="RADAR_AUDIT_", frozen=True)

    checkpoints_topic: str = CHECKPOINTS_TOPIC_DEFAULT
    checkpoints_retention_days: int = Field(default=3650, ge=1)
    checkpoint_every_records: int = Field(default=1000, ge=1)
    checkpoint_idle_seconds: float = Field(
        default=10.0, ge=0, description="An idle sealer signs what is unsigned this often."
    )
    seal_batch_records: int = Field(default=1000, ge=1)
    publish_timeout_seconds: float = Field(default=10.0, gt=0)
    verify_connect_timeout_seconds: float = Field(
        default=3.0, gt=0, description="`verify` gives up on an unreachable Kafka this soon."
    )


def audit_dir(settings: Settings) -> Path:
    """Where audit runs keep their work files and throw-away databases."""
    return settings.data_dir / "audit"


def checkpoint_key_path(settings: Settings) -> Path:
    return settings.keys_dir / "audit-checkpoint-signing.pem"
