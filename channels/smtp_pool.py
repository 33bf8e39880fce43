"""SMTP plumbing for `channels.smtp`: opening sessions, and a pool that reuses them.

Every SMTP problem leaves this module as an `SmtpFailure` that says at which stage it happened,
what the server replied, whether the connection died, and whether the session is still usable.
The stage matters: a connection lost before the end of the data means "not sent"; lost after
it, the message may have been delivered. One transaction on a session: `channels.smtp_wire`.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Stage = Literal["connect", "tls", "auth", "mail", "rcpt", "data", "data-end"]
_LABELS: dict[str, str] = {
    "connect": "connection",
    "tls": "TLS",
    "auth": "AUTH",
    "mail": "MAIL FROM",
    "rcpt": "RCPT TO",
    "data": "DATA",
    "data-end": "end of data",
}


class SmtpFailure(Exception):
    """One failed step: `code` is the server's reply code (None when there was no reply)."""

    def __init__(
        self,
        stage: Stage,
        text: str,
        code: int | None = None,
        *,
        disconnected: bool = False,
        reusable: bool = False,
        config_fault: bool = False,
    ) -> None:
        label = _LABELS[stage]
        super().__init__(f"{label}: {code} {text}" if code else f"{label}: {text}")
        self.stage: Stage = stage
        self.code = code
        self.text = text
        self.disconnected = disconnected
        self.reusable = reusable
        """The session was reset (RSET answered 250) and may carry the next message."""
        self.config_fault = config_fault
        """Only the configuration can fix it (a certificate that fails verification)."""


@dataclass(frozen=True)
class SessionSettings:
    """How to open one authenticated session."""

    host: str
    port: int
    security: Literal["none", "starttls", "ssl"]
    timeout: float
    username: str | None = None
    password: str | None = None
    local_hostname: str | None = None
    verify_tls: bool = True
    ca_file: str | None = None

    def __repr__(self) -> str:
        # The credentials must never reach a log line through a repr.
        return f"SessionSettings({self.host}:{self.port}, security={self.security})"


def reply_text(reply: bytes | str) -> str:
    """A server reply as one line of text."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


@lru_cache(maxsize=32)
def tls_context(verify: bool, ca_file: str | None = None) -> ssl.SSLContext:
    """The TLS client context, built once per process and kind (loading the system's CA
    certificates costs tens of milliseconds, and a channel reconnects every
    `max_messages_per_connection` messages). Thread-safe for wrapping sockets.

    `ca_file` (PEM) adds a private CA to the system's trusted ones."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def verification_failure(exc: ssl.SSLCertVerificationError) -> SmtpFailure:
    """A server certificate that fails verification: a configuration fault, not bad luck
    (retrying per message would fail the same way and leave the channel looking healthy)."""
    reason = exc.verify_message or exc.reason or str(exc)
    return SmtpFailure("tls", f"certificate verification failed: {reason} (fix the server's "
                       "certificate, or trust its CA with ca_file)", disconnected=True,
                       config_fault=True)


def open_session(settings: SessionSettings) -> smtplib.SMTP:
    """Connect, greet, STARTTLS and log in as configured; SmtpFailure on any problem."""
    context = (tls_context(settings.verify_tls, settings.ca_file)
               if settings.security != "none" else None)
    smtp: smtplib.SMTP
    try:
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, local_hostname=settings.local_hostname,
                timeout=settings.timeout, context=context,
            )  # fmt: skip
        else:
            smtp = smtplib.SMTP(
                settings.host, settings.port, local_hostname=settings.local_hostname,
                timeout=settings.timeout,
            )  # fmt: skip
    except smtplib.SMTPConnectError as exc:
        raise SmtpFailure("connect", reply_text(exc.smtp_error), exc.smtp_code) from None
    except ssl.SSLCertVerificationError as exc:
        raise verification_failure(exc) from None
    except ssl.SSLError as exc:
        raise SmtpFailure("tls", os_error_text(exc), disconnected=True) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpFailure("connect", os_error_text(exc), disconnected=True) from None
    try:
        _greet_and_login(smtp, settings, context)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _greet_and_login(smtp: smtplib.SMTP, settings: SessionSettings,
                     ctx: ssl.SSLContext | None) -> None:
    stage: Stage = "connect"
    try:
        smtp.ehlo_or_helo_if_needed()
        if settings.security == "starttls":
            stage = "tls"
            if not smtp.has_extn("starttls"):
                raise SmtpFailure("tls", "the server does not offer STARTTLS")
            code, reply = smtp.starttls(context=ctx)
            if code != 220:
                raise SmtpFailure("tls", reply_text(reply), code)
            smtp.ehlo()
        if settings.username is not None:
            stage = "auth"
            smtp.login(settings.username, settings.password or "")
    except smtplib.SMTPResponseException as exc:
        raise SmtpFailure(stage, reply_text(exc.smtp_error), exc.smtp_code) from None
    except smtplib.SMTPServerDisconnected as exc:
        raise SmtpFailure(stage, str(exc), disconnected=True) from None
    except ssl.SSLCertVerificationError as exc:
        raise verification_failure(exc) from None
    except ssl.SSLError as exc:
        raise SmtpFailure("tls", os_error_text(exc), disconnected=True) from None
    except (OSError, smtplib.SMTPException) as exc:
        # SMTPNotSupportedError (no AUTH offered), "no suitable authentication method", ...
        lost = isinstance(exc, OSError)
        raise SmtpFailure(stage, os_error_text(exc), disconnected=lost) from None


def os_error_text(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


@dataclass
class PooledSession:
    smtp: smtplib.SMTP
    generation: int
    transactions: int = 0
    """Messages tried on this session, sent or not."""


class SessionPool:
    """Up to `size` sessions, opened lazily and reused; thread-safe.

    `acquire` blocks while all `size` sessions are in use, so `size` is also the number of
    messages in flight. The most recently used idle session is handed out first, so a light
    load keeps few connections open.
    """

    def __init__(self, opener: Callable[[], smtplib.SMTP], size: int) -> None:
        self._opener = opener
        self._size = size
        self._slots = threading.BoundedSemaphore(size)
        self._in_use = 0
        self._lock = threading.Lock()
        self._idle: list[PooledSession] = []
        self._generation = 0

    @property
    def idle(self) -> int:
        """How many open sessions wait to be reused."""
        return len(self._idle)

    def acquire(self, *, fresh: bool = False) -> PooledSession:
        """An idle session, or a new one (SmtpFailure when it cannot be opened).

        `fresh`: a new one in any case (a message retried because its kept-open session
        had died: the other idle ones are as old). When that would open more than `size`,
        the least recently used idle session is ended to make room.
        """
        self._slots.acquire()
        room: PooledSession | None = None
        with self._lock:
            self._in_use += 1
            if self._idle and not fresh:
                return self._idle.pop()
            if self._idle and self._in_use + len(self._idle) > self._size:
                room = self._idle.pop(0)
            generation = self._generation
        if room is not None:
            quit_session(room.smtp)
        try:
            return PooledSession(self._opener(), generation)
        except BaseException:
            with self._lock:
                self._in_use -= 1
            self._slots.release()
            raise

    def release(self, session: PooledSession, *, reuse: bool) -> None:
        """Give a session back: kept for reuse, or ended (QUIT) when `reuse` is False."""
        try:
            with self._lock:
                self._in_use -= 1
                if reuse and session.generation == self._generation:
                    self._idle.append(session)
                    return
            quit_session(session.smtp)
        finally:
            self._slots.release()

    def close(self) -> None:
        """QUIT every idle session; sessions in use are ended when given back."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for session in idle:
            quit_session(session.smtp)


def quit_session(smtp: smtplib.SMTP) -> None:
    """QUIT politely, close in any case; never raises."""
    try:
        if smtp.sock is not None:
            smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()
