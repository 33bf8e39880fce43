"""What a planning pass or a dispatch is limited to: one filter type for both."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Filter:
    """Limits a pass to a campaign, a course, a channel and/or given deliveries.

    `delivery_ids` (dispatch only) sends exactly those deliveries when they are due, e.g. a
    sign-up's confirmation email at once. Planning ignores it.
    """

    campaign: str | None = None
    course: str | None = None
    channel: str | None = None
    delivery_ids: frozenset[int] | None = None
