"""Cadence: never flood a person with course emails (DESIGN.md, "Campaigns").

Rooms:
- `rules`: the pure per-person decision (send now as one bundle, hold until, cancel).
- `view`: what cadence holds back, per person, for `herald plan` and `herald status`.

The writes (bundle, hold, cancel) are the outbox's: `scheduler.outbox.cadence`.
"""

from __future__ import annotations

from scheduler.cadence.rules import Decision, Due, History, decide, relevance_key

__all__ = ["Decision", "Due", "History", "decide", "relevance_key"]
