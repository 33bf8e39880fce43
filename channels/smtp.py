"""The SMTP channel: emails through a relay, over a small pool of reused connections.

Reply codes become delivery statuses (RFC 5321 basic codes refined by RFC 3463 enhanced codes):

==========================================  ===================
4xx (421 included), x.2.2 mailbox full      TRANSIENT
a certificate that fails verification      AUTH (a configuration fault: halt)
any other failure to connect, greet or TLS  TRANSIENT
connection lost before the end of the data  TRANSIENT
connection lost after the end of the data   UNKNOWN
530, 534, 535 and 5xx during AUTH           AUTH
5.1.x, 5.2.1, or 550/551/553 to RCPT        RECIPIENT_REJECTED
other 5xx (552, 554, 5.7.x policy, ...)     PERMANENT
==========================================  ===================
"""

from __future__ import annotations

import re
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from channels.base import (
    Channel,
    ChannelConfigError,
    ChannelOptions,
    DeliveryResult,
    DeliveryStatus,
    Message,
    Sent,
    Source,
    taker,
)
from channels.email_message import (
    ComposedEmail,
    InvalidEmail,
    check_address,
    compose_email,
    envelope_sender,
    parse_mailbox,
)
from channels.pacing import Pacer, parse_rate
from channels.secrets import Scrubber
from channels.smtp_pool import (
    PooledSession,
    SessionPool,
    SessionSettings,
    SmtpFailure,
    open_session,
)
from channels.smtp_stream import Multiplexer
from channels.smtp_wire import Transaction, begin, run_blocking

K = TypeVar("K")
_DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})\b")


class SmtpOptions(ChannelOptions):
    """Options of an `smtp` channel (config/channels.yaml)."""

    # Inputs hold credentials: keep them out of validation messages.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)

    host: str
    port: int | None = Field(default=None, ge=1, le=65535)
    """Default by `security`: 25 (none), 587 (starttls), 465 (ssl)."""
    security: Literal["none", "starttls", "ssl"] = "none"
    username: SecretStr | None = None
    password: SecretStr | None = None
    sender: str = Field(alias="from")
    """The From mailbox, `Name <address>`; its domain names the Message-IDs."""
    connections: int = Field(default=2, ge=1, le=100)
    """SMTP connections kept open and reused; also the number of sends in flight."""
    timeout: float = Field(default=30.0, gt=0)
    max_messages_per_connection: int = Field(default=1000, ge=1)
    helo: str | None = None
    """The name given in EHLO; default the machine's fully qualified name."""
    verify_tls: bool = True
    """Verify the server's certificate (and name); false only for a lab server."""
    ca_file: str | None = None
    """A PEM file of private CA certificates trusted besides the system's."""
    return_path: str | None = None
    """The bounce mailbox, `bounces@domain`: each email's envelope sender becomes
    `bounces+{token}@domain` (VERP), the token naming the message (set by the builder)."""

    @field_validator("ca_file")
    @classmethod
    def _readable_ca_file(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ssl.create_default_context().load_verify_locations(cafile=value)
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(f"cannot load CA certificates from {value!r}: "
                                 f"{getattr(exc, 'strerror', None) or exc}") from None
        return value

    @model_validator(mode="after")
    def _credentials_pair(self) -> SmtpOptions:
        if (self.username is None) != (self.password is None):
            given, missing = (("username", "password") if self.password is None
                              else ("password", "username"))
            raise ValueError(f"{given} is set but {missing} is not: give both (AUTH) or "
                             "neither (no AUTH)")
        return self

    @property
    def resolved_port(self) -> int:
        return self.port or _DEFAULT_PORTS[self.security]

    @field_validator("sender")
    @classmethod
    def _valid_sender(cls, value: str) -> str:
        parse_mailbox(value)  # InvalidEmail is a ValueError: pydantic reports it
        return value

    @field_validator("rate")
    @classmethod
    def _valid_rate(cls, value: str | None) -> str | None:
        if value is not None:
            parse_rate(value)
        return value


@dataclass(eq=False)
class _Flight(Generic[K]):
    """One email on its way: which session carries it (once begun), and which try it is."""

    key: K
    message: Message
    recipient: str
    email: ComposedEmail
    started: float
    attempt: int = 1
    began: bool = False
    session: PooledSession = field(init=False)
    steps: Transaction = field(init=False)


class SmtpChannel(Channel):
    """Sends emails through an SMTP relay: `send` from up to `connections` threads, or
    `send_stream`, which keeps `connections` emails in flight from the calling thread.

    With a `rate`, each send waits for its slot first: sends are spaced evenly.
    """

    type = "smtp"
    kind = "email"
    streams = True
    Options = SmtpOptions
    options: SmtpOptions

    def __init__(self, name: str, options: ChannelOptions) -> None:
        if not isinstance(options, SmtpOptions):
            raise ChannelConfigError(f"channel {name}: expected SmtpOptions")
        if (options.username is None) != (options.password is None):
            raise ChannelConfigError(f"channel {name}: username and password go together")
        super().__init__(name, options)
        mailbox = parse_mailbox(options.sender)
        self._sender = options.sender
        self._envelope_sender = envelope_sender(options.sender)
        self._domain = mailbox.domain
        # A server may echo what it was sent, in any encoding ("535 ... for <base64 user>").
        self._redact = Scrubber(
            (s.get_secret_value() for s in (options.username, options.password) if s is not None),
            min_length=1,
        )
        settings = SessionSettings(
            host=options.host,
            port=options.resolved_port,
            security=options.security,
            timeout=options.timeout,
            username=options.username.get_secret_value() if options.username else None,
            password=options.password.get_secret_value() if options.password else None,
            local_hostname=options.helo,
            verify_tls=options.verify_tls,
            ca_file=options.ca_file,
        )
        self._pool = SessionPool(lambda: open_session(settings), options.connections)
        self._pacer = Pacer.from_rate(options.rate)
        # Whether the server offered 8BITMIME on the last session used: bodies are then
        # composed 8bit (no encoding), and composed again 7-bit for a session without it.
        self._eight_bit = False
        # The next messages of a stream, composed while its sessions waited for the server
        # (in the order they were built: those the caller did not send after all are
        # dropped as a later one starts).
        self._staged: deque[tuple[Message, bool, ComposedEmail | None]] = deque()

    def send(self, message: Message) -> DeliveryResult:
        """Send one email; never raises for a delivery problem."""
        ready = self._ready(message)
        if isinstance(ready, DeliveryResult):
            return ready
        recipient, email = ready
        flight = _Flight(None, message, recipient, email, time.monotonic())
        for attempt in (1, 2):
            flight.attempt = attempt
            try:
                flight = self._begin(recipient, email, message, flight)
            except SmtpFailure as failure:
                return self._failed(failure)
            try:
                run_blocking(flight.session.smtp, flight.steps)
            except SmtpFailure as failure:
                if self._settle(flight, failure) and attempt == 1:
                    continue
                return self._failed(failure)
            except BaseException:
                self._pool.release(flight.session, reuse=False)
                raise
            self._settle(flight, None)
            return DeliveryResult.sent(flight.email.message_id)
        raise AssertionError("unreachable")  # the second attempt returns

    def send_stream(self, items: Iterable[tuple[K, Message]] | Source[K],
                    ahead: Callable[[], Message | None] | None = None) -> Iterator[Sent[K]]:
        """Send over up to `connections` sessions at once, all driven from this thread.

        When several sessions are free at once (several sends ended during one wait), the
        source is asked for that many messages in one `take`, and they all start before
        any result is handed back. A group only spans sessions already open (a session to
        open waits for the server's greeting: its message is taken on its own), and with a
        `rate` every message is taken alone (each waits for its slot). While every
        session waits for the server, the caller builds its next messages (`ahead`, up to
        one for each send in flight) and this channel composes them, so that they start as
        soon as sessions are free.
        """
        mux: Multiplexer[_Flight[K]] = Multiplexer(self.options.timeout)
        take = taker(items)
        more = True
        idle = self._compose_ahead(ahead, mux) if ahead is not None else None
        try:
            while True:
                while more and len(mux) < self.options.connections:
                    if len(mux) and self._pacer is None:
                        # Sends that ended meanwhile: their sessions join this group.
                        for flight, end in mux.poll():
                            if (sent := self._land(mux, flight, end)) is not None:
                                yield sent
                    group = take(self._group_size(len(mux)))
                    more = bool(group)
                    again: list[_Flight[K]] = []  # a stale session's retry: after the group
                    ended = [sent for key, message in group
                             if (sent := self._launch(mux, key, message, again)) is not None]
                    ended += [sent for flight in again
                              if (sent := self._start(mux, flight)) is not None]
                    yield from ended
                if not len(mux):
                    if more:
                        continue
                    return
                for flight, end in mux.wait(idle if more else None):
                    if (sent := self._land(mux, flight, end)) is not None:
                        yield sent
        finally:
            self._staged.clear()
            for flight in mux.abandon():
                self._pool.release(flight.session, reuse=False)
            mux.close()

    def _group_size(self, in_flight: int) -> int:
        """How many messages may start together now: one per free session already open."""
        if self._pacer is not None:
            return 1
        return max(1, min(self.options.connections - in_flight, self._pool.idle))

    def _compose_ahead(self, ahead: Callable[[], Message | None],
                       mux: Multiplexer[_Flight[K]]) -> Callable[[], bool]:
        """What the stream does while it waits: the caller's next message, composed; True
        while there may be more to do (one message ahead for each send in flight)."""
        def idle() -> bool:
            if len(self._staged) >= len(mux):
                return False
            message = ahead()
            if message is None:
                return False
            email: ComposedEmail | None = None
            # One that cannot be composed is composed again as it starts, which says why.
            with suppress(InvalidEmail):
                email = self._compose(message, eight_bit=self._eight_bit)
            self._staged.append((message, self._eight_bit, email))
            return True
        return idle

    def _launch(self, mux: Multiplexer[_Flight[K]], key: K, message: Message,
                again: list[_Flight[K]] | None = None) -> Sent[K] | None:
        """Start one message on a session of its own; its result when it cannot start
        (one to try again on a new session goes into `again`, when given)."""
        started = time.monotonic()
        ready = self._ready(message)
        if isinstance(ready, DeliveryResult):
            return Sent(key, ready, 0.0)
        recipient, email = ready
        return self._start(mux, _Flight(key, message, recipient, email, started), again)

    def _start(self, mux: Multiplexer[_Flight[K]], flight: _Flight[K],
               again: list[_Flight[K]] | None = None) -> Sent[K] | None:
        try:
            self._begin(flight.recipient, flight.email, flight.message, flight)
            mux.start(flight, flight.session.smtp, flight.steps)
        except Exception as exc:  # an SmtpFailure, or a bug
            return self._land(mux, flight, exc, again)
        return None

    def _land(self, mux: Multiplexer[_Flight[K]], flight: _Flight[K],
              end: str | Exception, again: list[_Flight[K]] | None = None) -> Sent[K] | None:
        """A flight is over: its result, or None when it goes again on a new session (now,
        or, with `again`, once the caller has started the rest of its group: opening a
        session waits for the server)."""
        if isinstance(end, str):
            self._settle(flight, None)
            result = DeliveryResult.sent(flight.email.message_id)
        elif isinstance(end, SmtpFailure):
            if flight.began and self._settle(flight, end) and flight.attempt == 1:
                flight.attempt = 2
                if again is not None:
                    again.append(flight)
                    return None
                return self._start(mux, flight)
            result = self._failed(end)
        else:  # a bug: whether the message went out cannot be known
            if flight.began:
                self._pool.release(flight.session, reuse=False)
            result = DeliveryResult(DeliveryStatus.UNKNOWN,
                                    error=self._redact(f"{type(end).__name__}: {end}"))
        return Sent(flight.key, result, time.monotonic() - flight.started)

    def _ready(self, message: Message) -> tuple[str, ComposedEmail] | DeliveryResult:
        """The checked recipient and the composed email, after the pacer's wait; or why not."""
        staged = self._staged
        while staged and staged[0][0] is not message:
            staged.popleft()  # built ahead, then not sent (the outbox refused it)
        composed = staged.popleft() if staged else None
        try:
            if composed is not None and composed[1] == self._eight_bit and composed[2]:
                email = composed[2]
            else:
                email = self._compose(message, eight_bit=self._eight_bit)
            recipient = email.recipient or check_address(message.to or "")
        except InvalidEmail as exc:
            return DeliveryResult(DeliveryStatus.PERMANENT, error=str(exc))
        if self._pacer is not None:
            self._pacer.wait()
        return recipient, email

    def _begin(self, recipient: str, email: ComposedEmail, message: Message,
               flight: _Flight[Any]) -> _Flight[Any]:
        """Take a session (a fresh one for a second try) and set up the transaction (the
        email composed again 7-bit for a session without 8BITMIME); SmtpFailure when no
        session can be opened."""
        flight.began = False
        session = self._pool.acquire(fresh=flight.attempt > 1)
        session.transactions += 1
        try:
            self._eight_bit = session.smtp.has_extn("8bitmime")
            if flight.email.eight_bit and not self._eight_bit:
                flight.email = self._compose(message, eight_bit=False,
                                             message_id=flight.email.message_id)
            flight.steps = begin(session.smtp, message.envelope_from or self._envelope_sender,
                                 recipient,
                                 flight.email.data, eight_bit=flight.email.eight_bit)
        except BaseException:
            self._pool.release(session, reuse=False)
            raise
        flight.session, flight.began = session, True
        return flight

    def _settle(self, flight: _Flight[Any], failure: SmtpFailure | None) -> bool:
        """Give the flight's session back; True when `failure` calls for one more try.

        One more try only when a kept-open session turned out dead at its first command
        (the server timed it out while idle): nothing of the message reached the server.
        """
        session = flight.session
        under_cap = session.transactions < self.options.max_messages_per_connection
        alive = session.smtp.sock is not None
        reuse = under_cap and alive and (failure is None or failure.reusable)
        self._pool.release(session, reuse=reuse)
        if failure is None:
            return False
        stale = failure.stage == "mail" and (failure.disconnected or failure.code == 421)
        return stale and session.transactions > 1

    def _failed(self, failure: SmtpFailure) -> DeliveryResult:
        status = classify(failure)
        error = str(failure)
        if failure.stage in ("connect", "tls"):
            error = f"{self.options.host}:{self.options.resolved_port}: {error}"
        if status is DeliveryStatus.UNKNOWN:
            error += " (after the whole message was sent: it may have been delivered)"
        return DeliveryResult(status, error=self._redact(error))

    def _compose(self, message: Message, *, eight_bit: bool,
                 message_id: str | None = None) -> ComposedEmail:
        return compose_email(message, self._sender, domain=self._domain, eight_bit=eight_bit,
                             message_id=message_id)

    def close(self) -> None:
        """QUIT every open connection; the channel reconnects if used again."""
        self._pool.close()

    def concurrency(self) -> int:
        return self.options.connections

    def describe(self) -> str:
        """A one-line description without secrets."""
        o = self.options
        auth = ", auth" if o.username is not None else ""
        rate = f", rate {o.rate}" if o.rate else ""
        return (
            f"smtp channel {self.name!r}: {o.host}:{o.resolved_port} ({o.security}{auth}), "
            f"{o.connections} connection(s){rate}"
        )

    def __repr__(self) -> str:
        return f"<SmtpChannel {self.name!r} {self.options.host}:{self.options.resolved_port}>"



def classify(failure: SmtpFailure) -> DeliveryStatus:
    """The delivery status of an SMTP failure (see the module's table)."""
    code, stage = failure.code, failure.stage
    if failure.config_fault:
        # A certificate that fails verification: only the configuration can fix it. The
        # channel halts and needs attention, as with refused credentials.
        return DeliveryStatus.AUTH
    if stage in ("connect", "tls"):
        # Refused or lost connection, a 421/554 greeting, a failed TLS handshake: nothing of
        # the message was sent, and the server may well take it later.
        return DeliveryStatus.TRANSIENT
    if code is None or code < 200:
        # No reply at all (lost connection, timeout): unknown only once the data went out.
        if stage == "data-end":
            return DeliveryStatus.UNKNOWN
        return DeliveryStatus.AUTH if stage == "auth" else DeliveryStatus.TRANSIENT
    enhanced = _ENHANCED.match(failure.text)
    subject_detail = (enhanced[2], enhanced[3]) if enhanced else None
    if 400 <= code < 500 or subject_detail == ("2", "2"):
        return DeliveryStatus.TRANSIENT
    if code in (530, 534, 535) or (stage == "auth" and code >= 500):
        return DeliveryStatus.AUTH
    if code < 500:
        # A positive reply where another was expected: the server misbehaved; try again later.
        return DeliveryStatus.TRANSIENT
    if stage in ("rcpt", "data", "data-end") and subject_detail is not None:
        if subject_detail[0] == "1" or subject_detail == ("2", "1"):
            return DeliveryStatus.RECIPIENT_REJECTED
        return DeliveryStatus.PERMANENT
    if stage == "rcpt" and code in (550, 551, 553):
        return DeliveryStatus.RECIPIENT_REJECTED
    return DeliveryStatus.PERMANENT
