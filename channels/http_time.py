"""Times in HTTP replies: `Retry-After`, rate-limit resets (epoch or delta), ISO stamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# A reset value above this is an epoch timestamp, below it a number of seconds from now.
_EPOCH_THRESHOLD = 10**9


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_retry_after(value: str, now: datetime) -> datetime | None:
    """A `Retry-After` value: delay seconds or an HTTP date."""
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def parse_epoch(value: str) -> datetime | None:
    """Unix epoch seconds."""
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def parse_epoch_or_delta(value: str, now: datetime) -> datetime | None:
    """Seconds from now (draft-polli RateLimit-Reset), or an epoch when the value is large."""
    try:
        number = float(value)
    except ValueError:
        return None
    if number >= _EPOCH_THRESHOLD:
        return parse_epoch(value)
    return now + timedelta(seconds=max(number, 0))


def parse_iso(value: str) -> datetime | None:
    """An ISO-8601 timestamp; naive values are taken as UTC."""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
