"""What a message is built from, shared by email and social posts: the course as templates
see it, and `Skip`, the verdict that a delivery must not be sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scheduler.batch import AnyCourse
from scheduler.models import DeliveryState


@dataclass(frozen=True)
class Skip:
    """The delivery must not be sent: it ends in `state` for `reason`."""

    state: DeliveryState
    reason: str


def course_context(course: AnyCourse) -> dict[str, Any]:
    """A course as templates see it (`course.*`)."""
    return {
        "id": course.id,
        "title": course.title,
        "coe": course.coe,
        "centre": course.coe,
        "country": course.country,
        "region": course.region,
        "topics": list(course.topics),
        "languages": list(course.languages),
        "mode": course.mode,
        "location": course.location,
        "start_date": course.start_date,
        "end_date": course.end_date,
        "registration_deadline": course.registration_deadline,
        "fee_usd": course.fee_usd,
        "url": course.url,
        "description": course.description or "",
    }
