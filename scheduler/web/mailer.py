"""The emails `herald serve` sends itself, at once: sign-up confirmations and "your
preferences link". Each is a delivery row (its own dedup key) queued `sending` under this
process's lease in the commit that asked for it, then sent through the configured email
channel and settled by the outbox's `immediate.finish`: no daemon needs to run.

The person is waiting for that email, so a refusal for now (a 4xx, a dropped connection) is
tried again in the background, `RETRY_DELAYS` apart, before the row is left `failed`; a
failed one never blocks a new sign-up, which queues a new confirmation (its own key)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from channels.base import Channel, DeliveryResult, DeliveryStatus, Message
from scheduler import outbox
from scheduler.config.channel_checks import channel_kind
from scheduler.links import confirm_url, preferences_url
from scheduler.models import Delivery, Participant
from scheduler.outbox import immediate
from scheduler.web.pages import transaction

if TYPE_CHECKING:
    from scheduler.app import App

log = logging.getLogger(__name__)

KINDS = {"confirmation": ("confirm", "signup"), "preferences_link": ("prefs", "preferences")}
"""kind → (dedup key prefix, campaign name)."""
RETRY_DELAYS = (2.0, 10.0, 30.0)
"""Seconds to wait before each new attempt at an email refused for now (within the lease)."""


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    message: Message


class Mailer:
    """Queues and sends the serve process's own emails; one per process, thread-safe."""

    def __init__(self, app: App, retry_delays: Sequence[float] = RETRY_DELAYS) -> None:
        self.app = app
        self.retry_delays = tuple(retry_delays)
        self._stopping = threading.Event()
        self._retries: list[threading.Thread] = []
        # The dispatcher's lease-owner form (host:pid:random): a reaper can tell when this
        # process is gone and settle a send it left `sending`.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lock = threading.Lock()
        self._channel: Channel | None = None

    def channel_name(self) -> str | None:
        """The email channel of the first email campaign, else the first enabled channel
        that sends email (an smtp one before a file one)."""
        channels = {n: c for n, c in self.app.config.channels.items() if c.enabled}
        for campaign in self.app.config.campaigns.values():
            if campaign.kind in ("course_email", "digest"):
                for name in campaign.channels:
                    if name in channels and channel_kind(channels[name].type) != "post":
                        return name
        ranked = sorted((channel_kind(c.type) != "email", n) for n, c in channels.items()
                        if channel_kind(c.type) != "post")
        return ranked[0][1] if ranked else None

    def queue(self, session: Session, p: Participant, kind: str, lang: str) -> Outgoing | None:
        """Queue `kind` to `p` in the caller's transaction (sent by `deliver` once it
        commits); None when no email channel is configured."""
        name = self.channel_name()
        if name is None:
            log.warning("no email channel is enabled: %s not sent", kind)
            return None
        prefix, campaign = KINDS[kind]
        now = self.app.clock()
        n = session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.participant_id == p.id, Delivery.kind == kind)) or 0
        key = f"{prefix}:{p.id}:{n + 1}"
        did = outbox.enqueue(session, now=now, dedup_key=key, campaign=campaign, kind=kind,
                             channel=name, template=f"web/email/{kind}", due_at=now,
                             participant_id=p.id, **immediate.sending_values(self.owner, now))
        if did is None:
            return None
        base = self.app.config.settings.base_url
        key_bytes = self.app.signing_key
        link = (confirm_url(base, key_bytes, p.id, p.email, now) if kind == "confirmation"
                else preferences_url(base, key_bytes, p.id, p.email))
        from scheduler.web.pages import labels

        t = labels(lang)
        ctx = {"t": t, "link": link, "name": p.name, "lang": lang,
               "dir": "rtl" if lang == "ar" else "ltr",
               "sender": self.app.config.settings.sender}
        message = Message(
            key=key, to=p.email, to_name=p.name or None, language=lang,
            subject=t[f"mail_{kind}_subject"],
            text=render_template(f"web/email/{kind}.txt", **ctx),
            html=render_template(f"web/email/{kind}.html", **ctx),
            meta={"campaign": campaign})
        return Outgoing(did, message)

    def deliver(self, out: Outgoing) -> bool:
        """Send a queued email now and record its outcome; True when the server took it.
        Refused for now: tried again in the background (`retry_delays`), the row `sending`
        meanwhile, and False."""
        result = self._send(out)
        if (result.status is DeliveryStatus.TRANSIENT and self.retry_delays
                and not self._stopping.is_set()):
            thread = threading.Thread(target=self._retry, args=(out, result), daemon=True,
                                      name=f"herald-mail-retry-{out.delivery_id}")
            self._retries.append(thread)
            thread.start()
            return False
        return self._finish(out, result)

    def _send(self, out: Outgoing) -> DeliveryResult:
        with self._lock:
            try:
                if self._channel is None:
                    name = self.channel_name()
                    assert name is not None
                    self._channel = self.app.config.channels[name].build()
                return self._channel.send(out.message)
            except Exception as exc:
                log.exception("could not send %s", out.message.key)
                return DeliveryResult(DeliveryStatus.UNKNOWN, error=type(exc).__name__)

    def _retry(self, out: Outgoing, result: DeliveryResult) -> None:
        """Attempt again after each delay while the refusal is for now; then settle the row.
        Stopping (`close`) settles it at once with the last refusal."""
        for delay in self.retry_delays:
            if self._stopping.wait(delay):
                break
            with transaction(self.app) as s:
                still_ours = immediate.attempt_again(
                    s, out.delivery_id, self.owner, now=self.app.clock(),
                    error=result.error or result.status.value)
            if not still_ours:
                return
            result = self._send(out)
            if result.status is not DeliveryStatus.TRANSIENT:
                break
        self._finish(out, result)

    def _finish(self, out: Outgoing, result: DeliveryResult) -> bool:
        sent = result.status is DeliveryStatus.SENT
        with transaction(self.app) as s:
            immediate.finish(s, out.delivery_id, self.owner, now=self.app.clock(), sent=sent,
                             error=None if sent else (result.error or result.status.value),
                             provider_id=result.provider_id)
        if not sent:
            log.warning("%s not sent (%s)", out.message.key, result.status.value)
        return sent

    def close(self) -> None:
        """Settle the emails waiting for another attempt, then close the channel."""
        self._stopping.set()
        for thread in self._retries:
            thread.join()
        if self._channel is not None:
            self._channel.close()
