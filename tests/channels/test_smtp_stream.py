"""Many emails in one `send_stream`: several in flight from one thread, each result once."""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from channels.base import DeliveryStatus, Message, Sent
from channels.smtp import SmtpChannel
from channels.smtp_stream import ReplyBuffer
from tests.channels.smtp_server import SmtpTestServer
from tests.channels.test_smtp import channel, email


def stream(ch: SmtpChannel, messages: list[Message]) -> dict[int, Sent[int]]:
    """Every message through one stream; results by index, each index exactly once."""
    results: dict[int, Sent[int]] = {}
    for sent in ch.send_stream(enumerate(messages)):
        assert sent.key not in results
        results[sent.key] = sent
    assert sorted(results) == list(range(len(messages)))
    return results


def test_forty_emails_over_two_connections_from_one_thread(smtp_server: SmtpTestServer) -> None:
    pulled_ahead: list[int] = []
    done = 0

    def items() -> Iterator[tuple[int, Message]]:
        for n in range(40):
            pulled_ahead.append(n + 1 - done)  # pulled (this one too), not yet answered
            yield n, email(n)

    with channel(smtp_server, connections=2) as ch:
        threads_before = threading.active_count()
        for sent in ch.send_stream(items()):
            assert sent.result.status is DeliveryStatus.SENT, sent.result.error
            assert sent.seconds >= 0
            done += 1
            assert threading.active_count() == threads_before
    assert done == 40
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(
        f"user{n}@example.org" for n in range(40))
    assert smtp_server.connections == 2
    # The next message is built only when a connection is free: never more than two ahead.
    assert max(pulled_ahead) == 2


def test_while_both_sessions_wait_the_next_email_is_built_and_composed_once(
    smtp_server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    composed: list[str] = []
    compose = SmtpChannel._compose

    def counting(self: SmtpChannel, message: Message, **kw: Any) -> Any:
        composed.append(message.to or "")
        return compose(self, message, **kw)

    monkeypatch.setattr(SmtpChannel, "_compose", counting)
    waiting = [email(n) for n in range(30)]
    staged: list[Message] = []
    built_ahead = 0
    unanswered = 0
    most_unanswered = 0

    def ahead() -> Message | None:  # the caller's side: build the next one, not start it
        nonlocal built_ahead
        if staged or not waiting:
            return None
        staged.append(waiting.pop(0))
        built_ahead += 1
        return staged[0]

    def items() -> Iterator[tuple[int, Message]]:
        nonlocal unanswered, most_unanswered
        n = 0
        while staged or waiting:
            message = staged.pop() if staged else waiting.pop(0)
            unanswered += 1
            most_unanswered = max(most_unanswered, unanswered + len(staged))
            yield n, message
            n += 1

    with channel(smtp_server, connections=2) as ch:
        results = []
        for sent in ch.send_stream(items(), ahead=ahead):
            unanswered -= 1
            results.append(sent.result.status)
    assert results == [DeliveryStatus.SENT] * 30
    assert built_ahead > 0  # the waits were used
    # Each email composed once: the one composed ahead is the one sent.
    assert sorted(composed) == sorted(f"user{n}@example.org" for n in range(30))
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(composed)
    # Two in flight and at most one built ahead of them.
    assert most_unanswered <= 3


def test_refusals_and_bad_addresses_mid_stream_leave_the_others_sent(
    smtp_server: SmtpTestServer,
) -> None:
    smtp_server.reject("user3@example.org")
    smtp_server.reject("user7@example.org", "550 5.7.1 Rejected by policy")
    smtp_server.fail_next("451 4.3.0 Try later")
    messages = [email(n) for n in range(12)]
    messages[5] = email(5, to="not an address")
    with channel(smtp_server, connections=2) as ch:
        results = stream(ch, messages)
    statuses = {n: sent.result.status for n, sent in results.items()}
    assert statuses.pop(3) is DeliveryStatus.RECIPIENT_REJECTED
    assert statuses.pop(7) is DeliveryStatus.PERMANENT
    assert statuses.pop(5) is DeliveryStatus.PERMANENT
    assert sorted(s.value for s in statuses.values()).count("transient") == 1
    assert sum(s is DeliveryStatus.SENT for s in statuses.values()) == 8
    assert len(smtp_server.received) == 8
    assert smtp_server.connections == 2  # refusals keep the session (RSET)


def test_a_dropped_connection_costs_only_its_own_message(smtp_server: SmtpTestServer) -> None:
    smtp_server.drop_next("rcpt")
    smtp_server.drop_next("data-end")
    with channel(smtp_server, connections=2) as ch:
        results = stream(ch, [email(n) for n in range(20)])
    statuses = sorted(sent.result.status.value for sent in results.values())
    assert statuses.count("sent") == 18
    assert statuses.count("transient") == 1  # lost before the end of the data
    assert statuses.count("unknown") == 1  # lost after it: it may have been delivered
    unknown = next(s for s in results.values() if s.result.status is DeliveryStatus.UNKNOWN)
    assert unknown.result.error is not None and "may have been delivered" in unknown.result.error
    assert len(smtp_server.received) == 18
    assert smtp_server.connections == 4  # each drop cost a new connection, nothing more


def test_sessions_closed_while_idle_are_replaced_without_a_failure(
    smtp_server: SmtpTestServer,
) -> None:
    with channel(smtp_server, connections=2) as ch:
        stream(ch, [email(n) for n in range(4)])
        smtp_server.drop_idle_connections()
        results = stream(ch, [email(n) for n in range(4, 8)])
    assert {s.result.status for s in results.values()} == {DeliveryStatus.SENT}
    assert len(smtp_server.received) == 8
    assert smtp_server.connections == 4


def test_each_session_is_registered_with_the_selector_once_not_once_a_message(
    smtp_server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    registered: list[int] = []
    register = selectors.DefaultSelector.register
    sender = threading.get_ident()  # the test server's event loop registers in its own

    def counting(self: Any, fileobj: Any, events: int, data: Any = None) -> Any:
        if threading.get_ident() == sender:
            registered.append(fileobj)
        return register(self, fileobj, events, data)

    monkeypatch.setattr(selectors.DefaultSelector, "register", counting)
    smtp_server.drop_next("rcpt")  # one session dies mid-stream: its successor registers
    with channel(smtp_server, connections=2) as ch:
        results = stream(ch, [email(n) for n in range(30)])
    assert sorted(s.result.status.value for s in results.values()).count("sent") == 29
    assert len(smtp_server.received) == 29
    assert smtp_server.connections == 3
    assert len(registered) == 3


def test_a_silent_server_times_out_and_the_stream_goes_on() -> None:
    # A server that greets and answers EHLO, then never replies again.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            conn.sendall(b"220 mute.test ESMTP\r\n")
            conn.recv(1024)
            conn.sendall(b"250 mute.test\r\n")

    threading.Thread(target=serve, daemon=True).start()
    options: dict[str, Any] = {"type": "smtp", "host": "127.0.0.1", "port": port,
                               "from": "academy@example.org", "connections": 2,
                               "timeout": 0.3}
    try:
        with SmtpChannel.from_config("email", options) as ch:
            assert isinstance(ch, SmtpChannel)
            results = stream(ch, [email(n) for n in range(3)])
    finally:
        listener.close()
        for conn in held:
            conn.close()
    for sent in results.values():
        assert sent.result.status is DeliveryStatus.TRANSIENT
        assert sent.result.error == "MAIL FROM: timed out"


def test_a_stream_left_early_gives_its_sessions_back(smtp_server: SmtpTestServer) -> None:
    with channel(smtp_server, connections=1) as ch:
        first = ch.send_stream((n, email(n)) for n in range(5))
        assert next(first).result.status is DeliveryStatus.SENT
        first.close()  # the caller stops listening with a send in flight
        # The only session went back to the pool: a new stream does not wait for it.
        results = stream(ch, [email(n) for n in range(10, 13)])
    assert {s.result.status for s in results.values()} == {DeliveryStatus.SENT}


def test_an_error_in_the_callers_items_ends_the_stream_after_releasing_sessions(
    smtp_server: SmtpTestServer,
) -> None:
    def items() -> Iterator[tuple[int, Message]]:
        yield 0, email(0)
        raise RuntimeError("the outbox went away")

    with channel(smtp_server, connections=2) as ch:
        with pytest.raises(RuntimeError, match="outbox went away"):
            list(ch.send_stream(items()))
        assert ch.send(email(1)).status is DeliveryStatus.SENT


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ([b"250 OK\r\n"], [(250, b"OK")]),
        ([b"250-first\r\n250-second\r\n250 last\r\n"], [(250, b"first\nsecond\nlast")]),
        ([b"25", b"0 2.1.0 O", b"K\r\n354 go\r\n"], [(250, b"2.1.0 OK"), (354, b"go")]),
        ([b"oops\r\n"], [(-1, b"")]),
        ([b"250 no line end yet"], []),
    ],
)
def test_reply_buffer_cuts_replies_as_smtplib_does(
    chunks: list[bytes], expected: list[tuple[int, bytes]]
) -> None:
    buffer = ReplyBuffer()
    got = []
    for chunk in chunks:
        buffer.feed(chunk)
        while (reply := buffer.reply()) is not None:
            got.append(reply)
    assert got == expected


def test_reply_buffer_refuses_a_runaway_line() -> None:
    buffer = ReplyBuffer()
    buffer.feed(b"250 " + b"x" * 9000)
    with pytest.raises(ValueError, match="Line too long"):
        buffer.reply()


class GroupSource:
    """A `Source` that records each `take(n)` and the sends unanswered when it is asked."""

    def __init__(self, messages: list[Message]) -> None:
        self.waiting = list(enumerate(messages))
        self.asked: list[tuple[int, int]] = []  # (n, sends unanswered when asked)
        self.given: list[int] = []
        self.unanswered = 0

    def take(self, n: int) -> list[tuple[int, Message]]:
        self.asked.append((n, self.unanswered))
        group, self.waiting = self.waiting[:n], self.waiting[n:]
        self.given.append(len(group))
        self.unanswered += len(group)
        return group


def test_sessions_freed_together_start_their_next_emails_as_one_group(
    smtp_server: SmtpTestServer,
) -> None:
    source = GroupSource([email(n) for n in range(24)])
    smtp_server.handler.delay = 0.02  # each session is still busy as the next one opens

    def ahead() -> Message | None:  # the caller is busy while every session is answered
        threading.Event().wait(0.05)
        return None

    with channel(smtp_server, connections=4) as ch:
        results = []
        for sent in ch.send_stream(source, ahead=ahead):
            source.unanswered -= 1
            results.append(sent.result.status)
            threading.Event().wait(0.03)  # recording each outcome: the others end meanwhile
    assert results == [DeliveryStatus.SENT] * 24
    assert smtp_server.connections == 4
    # Never more asked for than sessions free, and never more than four sends in flight.
    assert all(n + unanswered <= 4 for n, unanswered in source.asked)
    # The first four each open their session (taken alone); then sessions answered while
    # the caller was busy (building, or recording an outcome) end together: their next
    # emails are asked for together.
    assert source.asked[:4] == [(1, 0), (1, 1), (1, 2), (1, 3)]
    assert max(n for n, _ in source.asked) > 1
    assert sum(source.given) == 24 and source.given[-1] == 0


def test_a_paced_channel_takes_one_email_at_a_time(smtp_server: SmtpTestServer) -> None:
    # Each paced email waits for its slot as it starts: a group's last one would wait for
    # all the others' slots after its `sending` commit.
    source = GroupSource([email(n) for n in range(12)])

    def ahead() -> Message | None:  # busy while the sends are answered (groups would form)
        threading.Event().wait(0.05)
        return None

    with channel(smtp_server, connections=3, rate="200/s") as ch:
        for _sent in ch.send_stream(source, ahead=ahead):
            source.unanswered -= 1
    assert {n for n, _ in source.asked} == {1}
    assert len(smtp_server.received) == 12


def test_lines_starting_with_a_dot_arrive_intact(smtp_server: SmtpTestServer) -> None:
    # Dot-stuffing (RFC 5321 4.5.2): a lone "." line would otherwise end the data early.
    text = ".first line starts with a dot\n.\nafter a lone dot\n..two dots"
    messages = [email(0, text=text), email(1), email(2, text=text)]
    with channel(smtp_server, connections=2) as ch:
        results = stream(ch, messages)
    assert {s.result.status for s in results.values()} == {DeliveryStatus.SENT}
    got = {r.rcpt_tos[0]: r.message() for r in smtp_server.received}
    for n in (0, 2):
        plain = got[f"user{n}@example.org"].get_body(("plain",))
        assert plain is not None
        assert plain.get_content().replace("\r\n", "\n").rstrip("\n") == text
