"""The explicit registry: channel `type` name → class. No directory scanning."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from channels.base import Channel

# type name -> "module:Class"; imported lazily so one broken optional dependency
# cannot stop the others from loading.
CHANNEL_TYPES: dict[str, str] = {
    "file": "channels.file:FileChannel",
    "smtp": "channels.smtp:SmtpChannel",
    "x": "channels.x:XChannel",
    "linkedin": "channels.linkedin:LinkedInChannel",
    "facebook": "channels.facebook:FacebookChannel",
    "mastodon": "channels.mastodon:MastodonChannel",
    "bluesky": "channels.bluesky:BlueskyChannel",
    "telegram": "channels.telegram:TelegramChannel",
    "webhook": "channels.webhook:WebhookChannel",
}


def channel_class(type_name: str) -> type[Channel]:
    """Return the class registered for `type_name`; KeyError when there is none."""
    from channels.base import Channel

    target = CHANNEL_TYPES[type_name]
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Channel)):
        raise TypeError(f"{target} is not a Channel")
    return cls
