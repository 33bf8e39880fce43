"""The errors Herald raises, and what each means for the operator.

::

    Exception
    ├── InputError                  bad input: exit 2, one line per problem, nothing written
    │   └── ConfigError             config/ is invalid: exit 2; never retried (a daemon keeps
    │                               its last good configuration and logs every line)
    │       (raised from channels.base.ChannelConfigError and pydantic errors at load time)
    ├── channels.base.ChannelError  a channel's own faults (`channels/` never imports us)
    │   └── ChannelConfigError      a channel's options are wrong; no retry can fix it
    ├── RenderError                 a template missing, malformed or failing on one context:
    │                               the delivery fails (scheduler/rendering/renderer.py)
    └── anything else               exit 1, the message printed without secrets

    Sending never raises: `Channel.send` returns a `DeliveryResult` whose status the outbox's
    retry policy reads (transient → retrying, permanent → failed and maybe suppressed, auth →
    channel halted and flagged "needs attention", unknown → never resent automatically).
    Channel internals (`SmtpFailure`, `CallFailed`) never leave their channel.

    Value errors of one field (`ingest.fields.FieldError`, `channels.text.TextTooLong`,
    `channels.email_message.InvalidEmail`) are caught where the row or message is known and
    become an InputError line (`file:row: field: reason`) or a delivery's result.

Every message shown or stored passes through `channels.secrets.scrub` first.
"""

from __future__ import annotations

from channels.base import ChannelConfigError, ChannelError

__all__ = ["ChannelConfigError", "ChannelError", "ConfigError", "InputError"]


class InputError(Exception):
    """Bad input or configuration: one line per problem, each naming where and what.

    A line reads `FILE:LINE: FIELD: reason` (or `FILE: reason` when no line applies).
    Raised before anything is written.
    """

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class ConfigError(InputError):
    """The configuration under config/ is invalid; exit 2, and never retried."""
