"""Operator actions on channels: validating the configuration, sending one test message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from channels.base import Channel, DeliveryResult, DeliveryStatus, Message
from scheduler.errors import InputError
from scheduler.models import ChannelHealth

if TYPE_CHECKING:
    from scheduler.app import App


def validate(app: App) -> str:
    """A one-line summary of a valid configuration; InputError listing every problem."""
    from scheduler.rendering import Renderer

    cfg = app.config  # raises ConfigError with every problem
    renderer = Renderer()
    errors: list[str] = []
    for c in cfg.campaigns.values():
        errors += [f"config/campaigns.yaml: campaigns.{c.name}.template: {e}"
                   for e in renderer.check(c.template)]
    if errors:
        raise InputError(errors)
    return (f"ok: {len(cfg.channels)} channels, {len(cfg.campaigns)} campaigns, "
            f"{len(cfg.sources)} sources")


@dataclass
class TestSend:
    """A test message built for a channel, and the channel to send it through."""

    channel: Channel
    message: Message


def build_test(app: App, name: str, to: str | None) -> TestSend:
    """The test message for channel `name` (an email to `to` or the sender, else a post)."""
    cfg = app.config
    if name not in cfg.channels:
        raise InputError([f"channels test: no channel named '{name}' "
                          f"(known: {', '.join(cfg.channels)})"])
    channel = cfg.channels[name].build()
    now = app.clock()
    key = f"test:{name}:{now.strftime('%Y%m%dT%H%M%S')}"
    if channel.kind == "email" or to:
        msg = Message(key=key, to=to or cfg.settings.sender.email,
                      subject="CoE Herald test message",
                      text="This is a test message from CoE Herald.", html=None)
    else:
        msg = Message(key=key, text=f"CoE Herald test post ({now:%Y-%m-%d %H:%M} UTC)",
                      link=cfg.settings.base_url)
    return TestSend(channel, msg)


def send_test(app: App, test: TestSend) -> DeliveryResult:
    """Send the test message; a success clears the channel's `needs attention` flag."""
    try:
        result = test.channel.send(test.message)
    finally:
        test.channel.close()
    if result.status is DeliveryStatus.SENT:
        with app.sessions() as s, s.begin():
            h = s.get(ChannelHealth, test.channel.name)
            if h is not None:
                h.needs_attention = False
                h.reason = ""
    if result.error:
        result = DeliveryResult(result.status, result.provider_id, result.retry_after,
                                app.config.redact(result.error))
    return result
