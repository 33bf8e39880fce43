"""Delivery trouble a monitor must see after `send-now` (exit code 3), and its reasons.

Trouble is: a channel that needs attention (refused credentials, a failed TLS verification,
a self-paused channel) or a refused durability check (scheduler/send_now_checks.py). A
recipient's own refusal is not trouble.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import select

from scheduler.app import App
from scheduler.models import ChannelHealth

EXIT_TROUBLE = 3


def attention_reasons(app: App, channels: Iterable[str]) -> list[str]:
    """'channel NAME needs attention: REASON' for each of `channels` flagged for this config."""
    from scheduler.dispatch import channel_config_hash

    wanted = set(channels)
    cfg = app.config
    with app.sessions() as s:
        rows = s.scalars(select(ChannelHealth).where(ChannelHealth.needs_attention.is_(True)))
        return [f"channel {h.channel} needs attention: {cfg.redact(h.reason or '')}"
                for h in rows
                if h.channel in wanted and h.channel in cfg.channels
                and h.config_hash == channel_config_hash(cfg, h.channel)]


def send_trouble(app: App, outcome: Counter[tuple[str, str]], only_channel: str | None
                 ) -> list[str]:
    """Every reason a `send-now` run leaves trouble behind (empty: none).

    Today: the channels (of the run's filter) that need attention. DESIGN.md's other case,
    a channel whose due deliveries were all left retrying, belongs to issue 18's exit codes
    and is to be added here.
    """
    del outcome  # for the retrying rule (issue 18)
    enabled = [n for n, c in app.config.channels.items()
               if c.enabled and (only_channel is None or n == only_channel)]
    return attention_reasons(app, enabled)
