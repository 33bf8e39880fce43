"""Several SMTP transactions in flight on one thread: each waits for its replies without
holding the thread, which meanwhile starts or finishes the others.

`Multiplexer` runs `channels.smtp_wire` transactions on open smtplib sessions: it writes
what a step writes (a blocking write: commands are small and a message goes into the
socket's buffer), then watches the session's socket and parses its replies itself, as
smtplib would, feeding each to its transaction. Why not a thread per connection: the
sender's own work (building the next message, the outbox's commits) is Python that needs
the GIL, and handing it between threads at every reply cost more than the replies' wait
when the server is near (see bench/README.md).
"""

from __future__ import annotations

import selectors
import smtplib
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from channels.smtp_wire import Reply, Step, Transaction, advance, answered, lost

T = TypeVar("T")
_MAXLINE = 8192  # smtplib's limit on a reply line


class ReplyBuffer:
    """Bytes received on a session, cut into whole replies the way smtplib's `getreply` does."""

    def __init__(self) -> None:
        self._data = b""
        self._lines: list[bytes] = []

    def __bool__(self) -> bool:
        return bool(self._data or self._lines)

    def feed(self, data: bytes) -> None:
        self._data += data

    def reply(self) -> Reply | None:
        """The next whole reply, or None until more bytes come; ValueError on a runaway line."""
        while True:
            end = self._data.find(b"\n")
            if end < 0:
                if len(self._data) > _MAXLINE:
                    raise ValueError("Line too long.")
                return None
            line, self._data = self._data[: end + 1], self._data[end + 1 :]
            if len(line) > _MAXLINE:
                raise ValueError("Line too long.")
            self._lines.append(line[4:].strip(b" \t\r\n"))
            try:
                code = int(line[:3])
            except ValueError:
                code = -1  # smtplib's answer to a reply it cannot read
            if code == -1 or line[3:4] != b"-":
                text, self._lines = b"\n".join(self._lines), []
                return code, text


@dataclass(eq=False)
class _Entry(Generic[T]):
    tag: T
    smtp: smtplib.SMTP
    steps: Transaction
    step: Step
    fd: int
    deadline: float
    tls: bool
    """A TLS socket may hold decrypted bytes its descriptor will not signal again."""
    replies: ReplyBuffer = field(default_factory=ReplyBuffer)


Done = tuple[T, "str | Exception"]
"""A transaction over: its tag, and its final reply or what ended it (an SmtpFailure)."""


class Multiplexer(Generic[T]):
    """Transactions in flight, each on its own session, tagged by the caller."""

    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._timeout = timeout
        self._clock = clock
        self._selector = selectors.DefaultSelector()
        self._entries: dict[int, _Entry[T]] = {}
        # Sockets stay registered between their transactions (a session sends one message
        # after another): registering and unregistering each time cost a system call each.
        self._watched: dict[int, socket.socket] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def start(self, tag: T, smtp: smtplib.SMTP, steps: Transaction) -> None:
        """Begin `steps` on `smtp` (its first write happens now; SmtpFailure if it fails)."""
        step = advance(smtp, steps, None)
        if isinstance(step, str):  # pragma: no cover - a transaction always reads a reply
            raise AssertionError("a transaction ended without a reply")
        sock = smtp.sock
        assert sock is not None
        entry = _Entry(tag, smtp, steps, step, sock.fileno(), self._clock() + self._timeout,
                       hasattr(sock, "pending"))
        if self._watched.get(entry.fd) is not sock:
            self._unwatch(entry.fd)  # a closed session's number, now another socket's
            self._selector.register(entry.fd, selectors.EVENT_READ)
            self._watched[entry.fd] = sock
            _blocking(sock, self._timeout)
        self._entries[entry.fd] = entry

    def wait(self, idle: Callable[[], object] | None = None) -> list[Done[T]]:
        """Wait until at least one transaction is over (or timed out); those that are.

        `idle` is called when nothing has come yet: work for the thread while the server
        answers (its replies are read as soon as it returns). It is called again while
        nothing has come and it returns true (more work to do), never once something has.
        """
        done: list[Done[T]] = []
        while self._entries and not done:
            ready = [e for e in self._entries.values() if e.tls and _pending(e.smtp)]
            if not ready:
                events = self._selector.select(0) if idle is not None else []
                while not events and idle is not None:
                    if not idle():
                        idle = None
                    else:
                        events = self._selector.select(0)
                if not events:
                    delay = min(e.deadline for e in self._entries.values()) - self._clock()
                    events = self._selector.select(max(delay, 0.0))
                ready = self._in_flight(events)
            for entry in ready:
                outcome = self._receive(entry)
                if outcome is not None:
                    done.append(self._end(entry, outcome))
            now = self._clock()
            for entry in [e for e in self._entries.values() if e.deadline <= now]:
                done.append(self._end(entry, self._fail(entry, TimeoutError("timed out"))))
        return done

    def poll(self) -> list[Done[T]]:
        """The transactions over by now, without waiting (their replies have come)."""
        done: list[Done[T]] = []
        if self._entries:
            ready = [e for e in self._entries.values() if e.tls and _pending(e.smtp)]
            for entry in ready or self._in_flight(self._selector.select(0)):
                outcome = self._receive(entry)
                if outcome is not None:
                    done.append(self._end(entry, outcome))
        return done

    def abandon(self) -> list[T]:
        """Stop watching every transaction still in flight; their tags (sessions untouched)."""
        tags = [entry.tag for entry in self._entries.values()]
        for fd in list(self._watched):
            self._unwatch(fd)
        self._entries.clear()
        return tags

    def close(self) -> None:
        self.abandon()
        self._selector.close()

    def _in_flight(self, events: list[tuple[selectors.SelectorKey, int]]) -> list[_Entry[T]]:
        """The entries of the sockets `events` name; an idle session's socket that has
        something to say (the server closed it) is no longer watched, so it cannot keep
        waking the loop: the next transaction on it registers it again, or fails."""
        ready = []
        for key, _ in events:
            entry = self._entries.get(key.fd)
            if entry is None:
                self._unwatch(key.fd)
            else:
                ready.append(entry)
        return ready

    def _unwatch(self, fd: int) -> None:
        sock = self._watched.pop(fd, None)
        if sock is not None:
            self._selector.unregister(fd)
            if sock.fileno() != -1:  # still open: smtplib's own timeout again
                sock.settimeout(self._timeout)

    def _receive(self, entry: _Entry[T]) -> str | Exception | None:
        """Read what came; the transaction's end, or None while it still waits."""
        sock = entry.smtp.sock
        if sock is None:  # pragma: no cover - closed only by this module, which then ends it
            return self._fail(entry, smtplib.SMTPServerDisconnected("Connection closed"))
        try:
            data = sock.recv(65536)
            while entry.tls and _pending(entry.smtp):
                data += sock.recv(65536)
        except OSError as exc:
            return self._fail(entry, exc)
        if not data:
            return self._fail(entry,
                              smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))
        entry.replies.feed(data)
        try:
            while (reply := entry.replies.reply()) is not None:
                step = advance(entry.smtp, entry.steps, answered(entry.smtp, entry.step, reply))
                if isinstance(step, str):
                    if entry.replies:  # more than the server was asked for: not to be reused
                        entry.smtp.close()
                    return step
                entry.step = step
                entry.deadline = self._clock() + self._timeout
        except ValueError as exc:  # a runaway reply line
            return self._fail(entry, smtplib.SMTPResponseException(500, str(exc)))
        except Exception as exc:  # an SmtpFailure, or a bug: either way this one is over
            return exc
        return None

    def _fail(self, entry: _Entry[T], exc: BaseException) -> Exception:
        """The connection failed during the entry's step: what its transaction makes of it."""
        try:
            step = advance(entry.smtp, entry.steps, lost(entry.smtp, entry.step, exc))
        except Exception as failure:
            return failure
        if isinstance(step, str):  # pragma: no cover - a lenient step never ends a message
            return AssertionError("a transaction ended without its final reply")
        # A lenient step went unanswered and the transaction wants more of a dead session.
        return self._fail(entry, exc)

    def _end(self, entry: _Entry[T], outcome: str | Exception) -> Done[T]:
        del self._entries[entry.fd]
        if entry.smtp.sock is None:  # closed: its number may come back as another socket
            self._unwatch(entry.fd)
        return entry.tag, outcome


def _blocking(sock: socket.socket, timeout: float) -> None:
    """A watched socket blocks, bounded by the kernel's own send and receive timeouts.

    With a Python-level timeout, every send and receive is preceded by a poll() system
    call; the multiplexer reads only what its selector says has come, and its writes go
    into the socket's buffer, so that poll is pure cost. A server that stops reading still
    cannot hold a write for longer than `timeout` (SO_SNDTIMEO).
    """
    seconds = int(timeout)
    interval = struct.pack("ll", seconds, int((timeout - seconds) * 1e6))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, interval)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, interval)
    sock.settimeout(None)


def _pending(smtp: smtplib.SMTP) -> bool:
    """True when TLS already holds decrypted bytes the socket will not signal again."""
    pending = getattr(smtp.sock, "pending", None)
    return bool(pending is not None and pending())

