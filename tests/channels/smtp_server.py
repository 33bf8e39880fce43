"""A real SMTP server on loopback for tests: aiosmtpd, scriptable, counting connections.

Reusable by any test package::

    from tests.channels.smtp_server import SmtpTestServer

    with SmtpTestServer() as server:
        server.fail_next("451 4.3.0 Try again later")      # next end-of-data gets a 451
        server.reject("bad@example.org")                    # 550 5.1.1 for this recipient
        server.drop_next("rcpt")                            # close the connection at next RCPT
        server.drop_next("data-end", after=4)               # ... at the 5th end of data
        server.close_after_data(after=1)                    # 250 to the 2nd message, then close
        ... send to server.host / server.port ...
        server.received[0].message()["Subject"], server.connections
"""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote_plus

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

Stage = Literal["mail", "rcpt", "data-end"]
"""Where a scripted reply or drop applies: MAIL FROM, RCPT TO, or the end of the data."""


@dataclass(frozen=True)
class Received:
    """One message the server accepted (or took in before dropping the connection)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    accepted: bool = True
    """False when the connection was dropped instead of replying to the end of data."""
    tls: bool = False
    """The message came over TLS (STARTTLS or implicit)."""
    mail_options: tuple[str, ...] = ()
    """The parameters of MAIL FROM, upper-cased (SIZE=…, BODY=8BITMIME)."""

    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class ScriptedHandler:
    """aiosmtpd handler: stores every message; answers as scripted; counts connections."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.connections = 0
        self.quits = 0
        self.require_auth = False
        self.pipelining = False
        self.eight_bit_mime = True
        self.pipelined = 0
        self.delay = 0.0
        """Seconds each end of data waits for its reply."""
        """MAIL commands that arrived with the RCPT and DATA behind them (RFC 2920)."""
        self.live: list[SMTP] = []
        self._replies: dict[Stage, deque[str]] = {s: deque() for s in ("mail", "rcpt", "data-end")}
        self._drops: dict[Stage, int] = {"mail": 0, "rcpt": 0, "data-end": 0}
        self._drop_after: dict[Stage, int] = {"mail": 0, "rcpt": 0, "data-end": 0}
        self._closes = 0
        self._lose_data_for: set[str] = set()
        self._close_after = 0
        self._rejected: dict[str, str] = {}

    # -- scripting ---------------------------------------------------------------------------

    def fail_next(self, reply: str, count: int = 1, stage: Stage = "data-end") -> None:
        with self.lock:
            self._replies[stage].extend([reply] * count)

    def reject(self, address: str, reply: str = "550 5.1.1 No such user here") -> None:
        with self.lock:
            self._rejected[address.lower()] = reply

    def drop_next(self, stage: Stage, count: int = 1, after: int = 0) -> None:
        with self.lock:
            self._drops[stage] += count
            self._drop_after[stage] = after

    def drop_data_for(self, address: str) -> None:
        with self.lock:
            self._lose_data_for.add(address.lower())

    def close_after_data(self, count: int = 1, after: int = 0) -> None:
        with self.lock:
            self._closes += count
            self._close_after = after

    def _closing(self) -> bool:
        """Whether this end of data is answered 250 and then its connection closed."""
        with self.lock:
            if not self._closes:
                return False
            if self._close_after:
                self._close_after -= 1
                return False
            self._closes -= 1
            return True

    def _scripted(self, server: SMTP, stage: Stage) -> str | None:
        """A scripted answer for this command, "" to drop the connection, or None."""
        with self.lock:
            if self._drops[stage] and self._drop_after[stage]:
                self._drop_after[stage] -= 1
            elif self._drops[stage]:
                self._drops[stage] -= 1
                if server.transport is not None:
                    server.transport.close()
                return ""
            if self._replies[stage]:
                return self._replies[stage].popleft()
        return None

    # -- aiosmtpd hooks ----------------------------------------------------------------------

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        with self.lock:
            if not getattr(server, "_herald_counted", False):
                server._herald_counted = True  # type: ignore[attr-defined]
                self.connections += 1
                self.live.append(server)
        if self.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        if not self.eight_bit_mime:
            responses = [line for line in responses if line[4:].upper() != "8BITMIME"]
        return responses

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.quits += 1
        return "221 2.0.0 Bye"

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        waiting = bytes(getattr(server._reader, "_buffer", b""))
        if waiting.upper().startswith(b"RCPT") and b"DATA\r\n" in waiting.upper():
            with self.lock:
                self.pipelined += 1
        scripted = self._scripted(server, "mail")
        if scripted is not None:
            return scripted
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        scripted = self._scripted(server, "rcpt")
        if scripted is not None:
            return scripted
        with self.lock:
            rejected = self._rejected.get(address.lower())
        if rejected:
            return rejected
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        data = envelope.original_content or b""
        assert isinstance(data, bytes)
        transport = server.transport
        tls = session.ssl is not None or (
            transport is not None and transport.get_extra_info("ssl_object") is not None
        )
        scripted = self._scripted(server, "data-end")
        with self.lock:
            lost = self._lose_data_for.intersection(a.lower() for a in envelope.rcpt_tos)
            self._lose_data_for -= lost
        if lost and transport is not None:
            transport.close()
            scripted = ""
        if scripted is None and transport is not None and self._closing():
            # Accepted, then the connection closed, as a server's idle timeout does later:
            # the client keeps a dead session for its next message.
            transport.write(b"250 2.0.0 OK: queued\r\n")
            transport.close()
            with self.lock:
                self.received.append(Received(str(envelope.mail_from),
                                              tuple(envelope.rcpt_tos), data, tls=tls,
                                              mail_options=tuple(envelope.mail_options)))
            return ""
        if scripted in ("", None):
            # Dropped ("") after the data arrived: the message may well have been delivered.
            rcpt_tos = tuple(envelope.rcpt_tos)
            accepted = scripted is None
            got = Received(str(envelope.mail_from), rcpt_tos, data, accepted=accepted, tls=tls,
                           mail_options=tuple(envelope.mail_options))
            with self.lock:
                self.received.append(got)
        return scripted if scripted is not None else "250 2.0.0 OK: queued"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (openssl CLI): (cert, key)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class SmtpTestServer:
    """An aiosmtpd server on 127.0.0.1 and a free port, with a `ScriptedHandler`.

    With `auth=(user, password)`, AUTH is required before MAIL (over plain text too: it is
    loopback) and only that pair is accepted. With `certificate=(cert, key)` the server offers
    STARTTLS, or with `implicit_tls=True` speaks TLS from the first byte (port 465 style).
    With `pipelining=True` it offers PIPELINING (RFC 2920) and counts the MAIL commands
    that came pipelined (`pipelined`); with `eight_bit_mime=False` it does not offer
    8BITMIME (RFC 6152). With `echo_auth=True`, a refused AUTH is answered with a 535 that
    quotes what the client sent, in base64 and URL-encoded, as careless servers do.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        certificate: tuple[Path, Path] | None = None,
        implicit_tls: bool = False,
        pipelining: bool = False,
        eight_bit_mime: bool = True,
        echo_auth: bool = False,
    ) -> None:
        self.handler = ScriptedHandler()
        self.echo_auth = echo_auth
        self.handler.pipelining = pipelining
        self.handler.eight_bit_mime = eight_bit_mime
        self.auth = auth
        self.port = free_port(self.host)
        kwargs: dict[str, Any] = {}
        if certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*certificate)
            kwargs["ssl_context" if implicit_tls else "tls_context"] = context
        if auth is not None:
            # Required by the handler at MAIL rather than with `auth_required`, which warns
            # when not paired with TLS: plain text is fine on loopback.
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
            self.handler.require_auth = True
        self.controller = Controller(self.handler, hostname=self.host, port=self.port, **kwargs)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.auth is not None
            and (data.login, data.password) == tuple(s.encode() for s in self.auth)
        )
        if ok or not self.echo_auth or not isinstance(data, LoginPassword):
            return AuthResult(success=ok, handled=False)
        user, password = data.login, data.password
        plain = b"\0" + user + b"\0" + password

        def b64(raw: bytes) -> str:
            return base64.b64encode(raw).decode()

        return AuthResult(success=False, handled=False, message=(
            f"535 5.7.8 {mechanism} refused for {b64(user)} with password {b64(password)}"
            f" (AUTH PLAIN {b64(plain)}, form password={quote_plus(password)})"))

    def start(self) -> SmtpTestServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- shortcuts to the handler --------------------------------------------------------------

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return [r for r in self.handler.received if r.accepted]

    @property
    def connections(self) -> int:
        """Connections that got as far as EHLO (aiosmtpd's own readiness probe is not one)."""
        with self.handler.lock:
            return self.handler.connections

    @property
    def pipelined(self) -> int:
        """MAIL commands that arrived with RCPT and DATA behind them."""
        with self.handler.lock:
            return self.handler.pipelined

    @property
    def quits(self) -> int:
        """Connections the client ended politely with QUIT."""
        with self.handler.lock:
            return self.handler.quits

    def fail_next(self, reply: str, count: int = 1, stage: Stage = "data-end") -> None:
        self.handler.fail_next(reply, count, stage)

    def reject(self, address: str, reply: str = "550 5.1.1 No such user here") -> None:
        self.handler.reject(address, reply)

    def drop_next(self, stage: Stage, count: int = 1, after: int = 0) -> None:
        """Close the connection at the next `count` commands of `stage`, the first `after`
        of them answered as usual."""
        self.handler.drop_next(stage, count, after)

    def drop_data_for(self, address: str) -> None:
        """Close the connection at the end of data of the next message to `address`
        (its data arrived whole; no reply)."""
        self.handler.drop_data_for(address)

    def close_after_data(self, count: int = 1, after: int = 0) -> None:
        """Accept the next `count` messages (after `after` others), closing each one's
        connection right after its 250: its session is dead when the client reuses it."""
        self.handler.close_after_data(count, after)

    def drop_idle_connections(self, reply: str | None = "421 4.4.2 Idle timeout",
                              count: int | None = None, reset: bool = False) -> None:
        """Close every open connection (or the first `count`), as a server's idle timeout
        would (421 first); with `reset`, abort each with a TCP reset instead (no reply):
        the client's next write on it fails at once."""
        loop = self.controller.loop
        with self.handler.lock:
            live = self.handler.live[:count]
            self.handler.live = self.handler.live[len(live):]

        def close(server: SMTP) -> None:
            transport = server.transport
            if isinstance(transport, asyncio.Transport) and not transport.is_closing():
                if reset:
                    sock = transport.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                    transport.abort()
                    return
                if reply:
                    transport.write(reply.encode() + b"\r\n")
                transport.close()

        for server in live:
            loop.call_soon_threadsafe(close, server)
        wait_until(lambda: all(s.transport is None or s.transport.is_closing() for s in live))

    def channel_options(self, **overrides: Any) -> dict[str, Any]:
        """Raw options of an `smtp` channel pointing here (as channels.yaml would give them)."""
        options: dict[str, Any] = {
            "type": "smtp",
            "host": self.host,
            "port": self.port,
            "from": "ITU Academy <academy@example.org>",
            "connections": 1,
            "timeout": 5,
        }
        if self.auth is not None:
            options.update(username=self.auth[0], password=self.auth[1])
        options.update(overrides)
        return options


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `condition` until true; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


class LineServer:
    """A one-connection SMTP server that answers every command with the next scripted line.

    For replies no real server library gives (a 354 after every RCPT was refused). It
    greets, answers EHLO with PIPELINING, then takes `replies` in order, one per command
    line; data lines (after a 354, up to the dot) get no reply. Records every line read.
    """

    def __init__(self, replies: list[str]) -> None:
        self._replies = deque(replies)
        self.lines: list[str] = []
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn, conn.makefile("rb") as reader:
                conn.sendall(b"220 line.test ESMTP\r\n")
                in_data = False
                for raw in reader:
                    line = raw.decode().rstrip("\r\n")
                    self.lines.append(line)
                    if in_data:
                        in_data = line != "."
                        if in_data:
                            continue
                    elif line.upper().startswith("EHLO"):
                        conn.sendall(b"250-line.test\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n")
                        continue
                    reply = self._replies.popleft() if self._replies else "250 OK"
                    conn.sendall(reply.encode() + b"\r\n")
                    in_data = reply.startswith("354")
                    if line.upper() == "QUIT":
                        break

    def __enter__(self) -> LineServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()
        self._thread.join(timeout=5)
