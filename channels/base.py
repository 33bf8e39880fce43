"""The channel contract: `Channel.send(message) -> DeliveryResult`, and `close()`.

A channel that can keep several sends in flight on one thread also sets `streams` and
overrides `send_stream`; the dispatcher then feeds it from one thread instead of running
`concurrency()` threads that each call `send`. It feeds it a `Source`, which the channel asks
for as many messages as it can start at once (a group begins with one commit).

Exceptions::

    ChannelError
     └── ChannelConfigError   bad or missing options; never retried
"""

from __future__ import annotations

import builtins
import enum
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, NamedTuple, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict


class ChannelError(Exception):
    """Base of every error a channel raises."""


class ChannelConfigError(ChannelError):
    """The channel's options are wrong; no retry can fix it."""


class DeliveryStatus(enum.Enum):
    """What happened to one send, closed set; the dispatcher's retry policy reads it."""

    SENT = "sent"
    """Accepted by the server or network."""
    TRANSIENT = "transient"
    """Not sent, may succeed later (4xx SMTP, dropped connection, 429, 5xx HTTP, timeout)."""
    PERMANENT = "permanent"
    """Not sent and never will be as it is (the message itself is wrong, a duplicate post)."""
    RECIPIENT_REJECTED = "recipient_rejected"
    """5xx for the recipient address: failed, and the address goes on the suppression list."""
    AUTH = "auth"
    """Credentials refused: the channel needs attention; the delivery stays pending."""
    UNKNOWN = "unknown"
    """The send may or may not have happened (connection died after the data went out)."""


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one `Channel.send`."""

    status: DeliveryStatus
    provider_id: str | None = None
    retry_after: datetime | None = None
    """When a retry may be attempted (from Retry-After or a reset header), timezone-aware UTC."""
    error: str | None = None
    """The server's or network's own words, without any secret."""

    @classmethod
    def sent(cls, provider_id: str | None = None) -> DeliveryResult:
        return cls(DeliveryStatus.SENT, provider_id=provider_id)


@dataclass(frozen=True)
class Message:
    """One message ready to send: an email (`to` set) or a post (`to` is None)."""

    key: str
    """The delivery's dedup key: stable across retries (idempotency keys, file names)."""
    text: str
    """Plain text: the email's text part, or the post's full text."""
    language: str = "en"
    subject: str | None = None
    html: str | None = None
    to: str | None = None
    to_name: str | None = None
    link: str | None = None
    """The main URL of the message (a post's course link)."""
    title: str | None = None
    """A short title for link cards and webhook payloads."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra email headers (List-Unsubscribe, List-Unsubscribe-Post, ...)."""
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Data a channel may use (course id, campaign, hashtags), never required."""
    envelope_from: str | None = None
    """An email's envelope sender (MAIL FROM, the bounces' address: VERP); None: the
    channel's own."""
    date: datetime | None = None
    """When the message was made, on the sender's clock (an email's Date header); None:
    the moment it is composed."""

    @property
    def is_email(self) -> bool:
        return self.to is not None


class ChannelOptions(BaseModel):
    """Options common to every channel; each channel subclasses this with its own."""

    model_config = ConfigDict(extra="forbid")

    type: str
    enabled: bool = True
    language: str = "en"
    rate: str | None = None
    """Sends per period, e.g. `100/s`, `30/m`, `600/h`."""
    window: str | None = None
    """Posting window `HH:MM-HH:MM` in `timezone` (social channels)."""
    timezone: str | None = None
    """Default: settings.yaml `timezone` (the one default lives in scheduler/config)."""
    max_per_day: int | None = None
    min_gap: str | None = None
    max_attempts: int = 8


K = TypeVar("K")
K_co = TypeVar("K_co", covariant=True)


class Sent(NamedTuple, Generic[K]):
    """One message's result from `send_stream`: the caller's key for it, and the seconds
    from the start of its send to its result."""

    key: K
    result: DeliveryResult
    seconds: float


@runtime_checkable
class Source(Protocol[K_co]):
    """What `send_stream` sends: asked for up to `n` messages whenever `n` sends can start
    at once (their sessions are free), so the caller may begin them as a group."""

    def take(self, n: int) -> Sequence[tuple[K_co, Message]]:
        """Up to `n` (key, message) to start now; fewer is fine, none only at the end."""
        ...


def taker(items: Iterable[tuple[K, Message]] | Source[K],
          ) -> Callable[[int], Sequence[tuple[K, Message]]]:
    """`items.take`; for a plain iterable, one item a call (each pulled as it starts)."""
    if isinstance(items, Source):
        return items.take
    source = iter(items)

    def one(_n: int) -> Sequence[tuple[K, Message]]:
        item = next(source, None)
        return () if item is None else (item,)
    return one


class Channel(ABC):
    """A configured channel instance.

    Subclasses set `type`, `Options`, `kind` (`email` or `post`), and, for posts, the text
    limit and how it is counted (see `channels.text`).
    """

    type: ClassVar[str]
    kind: ClassVar[str] = "post"
    Options: ClassVar[builtins.type[ChannelOptions]] = ChannelOptions
    text_limit: ClassVar[int | None] = None
    """Maximum post length in the network's own units, or None when unlimited."""
    streams: ClassVar[bool] = False
    """True when `send_stream` keeps `concurrency()` sends in flight on the calling thread."""

    def __init__(self, name: str, options: ChannelOptions) -> None:
        self.name = name
        self.options = options

    @classmethod
    def from_config(cls, name: str, raw: Mapping[str, Any]) -> Channel:
        """Validate raw options (secrets already resolved) and build the channel."""
        return cls(name, cls.Options.model_validate(dict(raw)))

    @abstractmethod
    def send(self, message: Message) -> DeliveryResult:
        """Send one message. Never raises for delivery problems: they become a result."""

    def send_stream(self, items: Iterable[tuple[K, Message]] | Source[K],
                    ahead: Callable[[], Message | None] | None = None) -> Iterator[Sent[K]]:
        """Send each message as `items` gives it; each one's result, once, as it is known.

        `items` is pulled only when a send can start (a `Source` is asked for as many as
        can start together), so the caller's work for the next message (running inside
        that pull) overlaps the sends in flight. Results come in the order the sends
        finish. `ahead`, when given, is called when the channel is about to wait for its
        sends in flight: the caller may build its next item then (without starting it: a
        later pull gives it) and return that message, else None; it may be called again
        while the wait lasts, at most once for each send in flight.
        The default sends one at a time with `send`, and never waits with sends in flight.
        """
        take = taker(items)
        while group := take(1):
            for key, message in group:
                started = time.monotonic()
                result = self.send(message)
                yield Sent(key, result, time.monotonic() - started)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and sessions."""

    def concurrency(self) -> int:
        """How many sends may run at once on this channel."""
        return 1

    def __enter__(self) -> Channel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
