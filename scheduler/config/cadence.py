"""settings.yaml `cadence`: how often one person may receive course emails."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import field_validator as validator

from scheduler.config.parse import parse_duration


class Cadence(BaseModel):
    """Per person, across every course email campaign (digests and tests are outside)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_per_day: int = Field(default=1, ge=1)
    """Course emails a person may receive per day, in their time zone."""
    max_per_week: int = Field(default=4, ge=1)
    """Course emails a person may receive in any seven days."""
    reminder_after: timedelta = timedelta(days=3)
    """No reminder of a course sooner than this after its announcement to the person."""

    @validator("reminder_after", mode="before")
    @classmethod
    def _after(cls, value: Any) -> Any:
        if isinstance(value, timedelta):
            return value
        return parse_duration(value if isinstance(value, str) else repr(value))
