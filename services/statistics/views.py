"""What the effect monitor route answers: each figure with its definition beside it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class FigureView(BaseModel):
    value: int | float | None = Field(description="None when there is nothing to compute it over.")
    definition: str = Field(description="What the figure counts, exactly.")


class RegionFiguresView(BaseModel):
    region: str = Field(description="A VT region code, or `national` for all regions together.")
    figures: dict[str, FigureView]


class EffectMonitorView(BaseModel):
    period: str = Field(description="The period the figures cover (2026H2, 2026Q3, 2026-07, 2026).")
    as_of: datetime = Field(description="The store as it was at this moment (a replay).")
    regions: list[RegionFiguresView]
