"""A complete sample context: `check()` renders every template with it to catch typos early.

It has the shape the dispatcher passes (see `Renderer.render_email`), with both `course` and
`courses`, so one context serves course emails, digests and posts alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

SAMPLE_BASE_URL = "https://herald.example.org"


def sample_course(n: int = 1) -> dict[str, Any]:
    """A course record as `scheduler.messages.course_context` builds it."""
    return {
        "id": f"COE-2027-{n:03d}",
        "title": f"Spectrum Management Fundamentals {n}",
        "coe": "African Advanced Level Telecommunications Institute (AFRALTI)",
        "centre": "African Advanced Level Telecommunications Institute (AFRALTI)",
        "country": "Kenya",
        "region": "Africa",
        "topics": ["spectrum management", "policy and regulation"],
        "languages": ["en", "fr"],
        "mode": "blended" if n % 2 else "online_instructor",
        "location": "Nairobi, Kenya" if n % 2 else "Online",
        "start_date": date(2027, 2, 1) + timedelta(days=n - 1),
        "end_date": date(2027, 2, 21) + timedelta(days=n - 1),
        "registration_deadline": date(2027, 1, 11) + timedelta(days=n - 1),
        "fee_usd": 400.0 if n % 2 else 0.0,
        "url": f"https://academy.itu.int/training-courses/full-catalogue/sample-{n}",
        "description": "A practical introduction to national spectrum management.",
    }


def sample_context(count: int = 2) -> dict[str, Any]:
    """A context with one `course` and `count` digest `courses`, and every link."""
    courses = [sample_course(n) for n in range(1, count + 1)]
    return {
        "course": courses[0],
        "courses": courses,
        "participant": {"name": "Amina Diallo", "email": "amina@example.org", "language": "en"},
        "links": {
            "unsubscribe": f"{SAMPLE_BASE_URL}/u/sample-unsubscribe-token",
            "preferences": f"{SAMPLE_BASE_URL}/p/sample-preferences-token",
            "course": f"{SAMPLE_BASE_URL}/c/sample-click-token-1",
            "courses": [f"{SAMPLE_BASE_URL}/c/sample-click-token-{n}" for n in range(1, count + 1)],
            "submit": f"{SAMPLE_BASE_URL}/s/sample-submission-token",
        },
        "sender": {"name": "ITU Academy", "email": "academy@example.org"},
        "campaign": {"name": "sample"},
        "period": {
            "start": datetime(2027, 1, 4, 8, 0, tzinfo=UTC),
            "end": datetime(2027, 1, 11, 8, 0, tzinfo=UTC),
        },
        "hashtags": ["SpectrumManagement", "ITUAcademy"],
        # catalogue_email and coe_email (scheduler/admin_messages.py)
        "contact": {"name": "Grace Wanjiru", "email": "hr@example.org", "language": "en",
                    "organisation": "Ministry of ICT"},
        "reminder": False,
        "count": count,
        "horizon_end": datetime(2028, 1, 4, 8, 0, tzinfo=UTC),
        "months": [{"month": c["start_date"].replace(day=1), "label": "February 2027",
                    "courses": [{**c, "link": f"{SAMPLE_BASE_URL}/c/sample-click-token",
                                 "interest_url": f"{SAMPLE_BASE_URL}/i/sample-token",
                                 "interest": [
                                     {"label": label, "url": f"{SAMPLE_BASE_URL}/i/sample-token"}
                                     for label in ("1", "2–5", "6–10", "more")]}]}
                   for c in courses],
        "centre": {"name": courses[0]["coe"], "focal_point_name": "Amina Odhiambo",
                   "website": "https://afralti.example.org/", "region": "Africa"},
        "text": "A sample post submitted by a Training Centre.",
    }
