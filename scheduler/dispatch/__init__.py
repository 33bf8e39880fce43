"""Dispatch: orchestration only. Which channels may send, a drain per channel, its workers.

Rooms:
- `dispatcher`: `Dispatcher` (run_once, dispatch_channel, drains).
- `feed`: the shared feed of claimed deliveries.
- `workers`: the one-at-a-time worker and the streaming worker (`StreamWorker`).
- `steps`: one delivery's steps (build, mark `sending`, record the outcome).
- `holds`: send-time holds (an email's local window, a post's window, cap and gap).

Every write is the outbox's (`scheduler.outbox`).
"""

from __future__ import annotations

from scheduler.config import HeraldConfig
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.filter import Filter


def channel_config_hash(config: HeraldConfig, name: str) -> str:
    """A short fingerprint of a channel's options (`HeraldConfig.channel_hash`)."""
    return config.channel_hash(name)


__all__ = ["Dispatcher", "Filter", "channel_config_hash"]
