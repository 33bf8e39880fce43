"""The guard on reputation: the email complaint rate of the last 7 days.

Above WARN the report and `herald status` warn; at PAUSE (the large mailbox providers'
limit) every SMTP channel flags itself "needs attention" and sends nothing more until
`herald channels resume NAME`. A resumed channel is paused again only by a complaint
that arrives after the resume.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.config import HeraldConfig
from scheduler.models import ChannelHealth, DeliveryEvent
from scheduler.reporting.metrics import E, build

WINDOW = timedelta(days=7)
WARN = 0.001
PAUSE = 0.003
RESUMED = "resumed by the operator"
PAUSED = "paused:"


@dataclass(frozen=True)
class Reputation:
    complained: int
    sent: int
    rate: float

    @property
    def level(self) -> str:
        return "pause" if self.rate >= PAUSE else "warn" if self.rate > WARN else "ok"

    def warning(self) -> str | None:
        if self.level == "ok":
            return None
        return (f"complaint rate over the last 7 days is {self.rate:.2%} "
                f"({self.complained} of {self.sent} sent; warn above {WARN:.1%}, "
                f"email channels pause at {PAUSE:.1%})")


def measure(session: Session, now: datetime) -> Reputation:
    """The last 7 days' email complaints over email deliveries sent (the report's SQL)."""
    totals = build(session, since=now - WINDOW, until=now + timedelta(seconds=1),
                   where=[E.medium == "email"]).totals
    rate = totals["complaint_rate"] or 0.0
    return Reputation(int(totals["complained"]), int(totals["sent"]), float(rate))


def email_channels(config: HeraldConfig) -> list[str]:
    return [name for name, ch in config.channels.items() if ch.type == "smtp"]


def guard(session: Session, config: HeraldConfig, now: datetime) -> list[str]:
    """Pause the email channels when the rate reached PAUSE; the email channels that
    stand paused for complaints (now or earlier)."""
    from scheduler.dispatch import channel_config_hash

    rep = measure(session, now)
    if rep.level != "pause":
        return paused_channels(session, config)
    last_complaint = session.scalar(select(func.max(DeliveryEvent.at))
                                    .where(DeliveryEvent.type == "complained"))
    for name in email_channels(config):
        h = session.get(ChannelHealth, name)
        if h is not None and h.needs_attention:
            continue
        if (h is not None and h.reason == RESUMED and last_complaint is not None
                and last_complaint <= h.updated_at):
            continue
        if h is None:
            h = ChannelHealth(channel=name)
            session.add(h)
        h.needs_attention = True
        h.reason = f"{PAUSED} {rep.warning()}; resume with `herald channels resume {name}`"
        h.config_hash = channel_config_hash(config, name)
        h.updated_at = now
    session.flush()
    return paused_channels(session, config)


def paused_channels(session: Session, config: HeraldConfig) -> list[str]:
    """Email channels flagged by this guard and not resumed."""
    return [name for name in email_channels(config)
            if (h := session.get(ChannelHealth, name)) is not None and h.needs_attention
            and h.reason.startswith(PAUSED)]


def resume(session: Session, config: HeraldConfig, name: str, now: datetime) -> bool:
    """Lift a channel's flag (a pause, or refused credentials); False if it had none."""
    h = session.get(ChannelHealth, name)
    if h is None or not h.needs_attention:
        return False
    h.needs_attention = False
    h.reason = RESUMED
    h.updated_at = now
    return True
