"""Sends that start as one group (several sessions free at once) when one of the group's
sessions is dead or dies: only that email is touched, and never sent twice."""

from __future__ import annotations

import threading
import time
from collections import Counter

from channels.base import DeliveryStatus, Message, Sent
from channels.smtp import SmtpChannel
from channels.smtp_pool import SessionSettings, open_session
from channels.smtp_stream import Multiplexer
from channels.smtp_wire import begin
from tests.channels.smtp_server import SmtpTestServer
from tests.channels.test_smtp import channel, email
from tests.channels.test_smtp_stream import GroupSource


def busy_ahead() -> Message | None:
    """The caller is busy while the sessions are answered: their replies land together."""
    threading.Event().wait(0.05)
    return None


def run(ch: SmtpChannel, source: GroupSource) -> dict[int, Sent[int]]:
    results: dict[int, Sent[int]] = {}
    for sent in ch.send_stream(source, ahead=busy_ahead):
        source.unanswered -= 1
        assert sent.key not in results  # each result once
        results[sent.key] = sent
    return results


def open_sessions(ch: SmtpChannel, server: SmtpTestServer, n: int) -> None:
    """`n` sessions open and idle, each having carried one email (user0..)."""
    server.handler.delay = 0.3  # every session is busy when the next email is asked for
    first = run(ch, GroupSource([email(k) for k in range(n)]))
    server.handler.delay = 0.0
    assert {s.result.status for s in first.values()} == {DeliveryStatus.SENT}
    assert server.connections == n


def delivered(server: SmtpTestServer) -> Counter[str]:
    return Counter(r.rcpt_tos[0] for r in server.received)


def test_a_session_found_dead_as_its_grouped_email_starts_retries_that_email_once(
    smtp_server: SmtpTestServer,
) -> None:
    with channel(smtp_server, connections=4) as ch:
        open_sessions(ch, smtp_server, 4)
        # Each session carried one message; the server closes one of them as it accepts
        # the next message on it (as an idle timeout would, unseen by the client).
        smtp_server.close_after_data()
        source = GroupSource([email(n) for n in range(4, 16)])
        results = run(ch, source)
    assert {s.result.status for s in results.values()} == {DeliveryStatus.SENT}
    assert len(results) == 12
    # The four idle sessions were asked for as one group: the closed one is among them
    # at the second group, whose email found it dead at MAIL FROM and went on a new one.
    assert source.asked[0] == (4, 0)
    assert max(n for n, _ in source.asked[1:]) > 1
    counts = delivered(smtp_server)
    assert counts == Counter(f"user{n}@example.org" for n in range(16))  # each exactly once
    assert smtp_server.connections == 5  # one new session, for the one retry


def test_every_session_of_a_group_found_dead_each_email_retried_once(
    smtp_server: SmtpTestServer,
) -> None:
    with channel(smtp_server, connections=3) as ch:
        open_sessions(ch, smtp_server, 3)
        smtp_server.drop_idle_connections()  # 421, then closed: all three at once
        source = GroupSource([email(n) for n in range(3, 9)])
        results = run(ch, source)
    assert source.asked[0] == (3, 0)
    assert {s.result.status for s in results.values()} == {DeliveryStatus.SENT}
    assert delivered(smtp_server) == Counter(f"user{n}@example.org" for n in range(9))
    assert smtp_server.connections == 6


def test_a_session_lost_after_its_grouped_data_leaves_only_that_email_unknown(
    smtp_server: SmtpTestServer,
) -> None:
    with channel(smtp_server, connections=4) as ch:
        open_sessions(ch, smtp_server, 4)
        # The second message of the group that follows: its data arrives whole, then the
        # connection drops without a reply.
        smtp_server.drop_next("data-end", after=1)
        source = GroupSource([email(n) for n in range(4, 12)])
        results = run(ch, source)
    assert source.asked[0] == (4, 0)
    statuses = Counter(s.result.status for s in results.values())
    assert statuses == {DeliveryStatus.SENT: 7, DeliveryStatus.UNKNOWN: 1}
    key = next(n for n, s in results.items() if s.result.status is DeliveryStatus.UNKNOWN)
    assert key in range(4)  # one of the group's four (keys count from 0, emails from 4)
    lost = key + 4
    error = results[key].result.error
    assert error is not None and "may have been delivered" in error
    counts = delivered(smtp_server)
    assert f"user{lost}@example.org" not in counts  # the server never said it took it
    assert counts == Counter(f"user{n}@example.org" for n in range(12) if n != lost)
    assert smtp_server.connections <= 5  # not retried: at most its session replaced


def test_a_session_lost_mid_envelope_in_a_group_is_transient_and_not_retried(
    smtp_server: SmtpTestServer,
) -> None:
    with channel(smtp_server, connections=4) as ch:
        open_sessions(ch, smtp_server, 4)
        smtp_server.drop_next("rcpt", after=2)
        results = run(ch, GroupSource([email(n) for n in range(4, 12)]))
    statuses = Counter(s.result.status for s in results.values())
    assert statuses == {DeliveryStatus.SENT: 7, DeliveryStatus.TRANSIENT: 1}
    assert len(smtp_server.received) == 11
    assert smtp_server.connections == 5


def test_a_reset_session_fails_as_its_grouped_email_starts_and_goes_after_the_group(
    smtp_server: SmtpTestServer,
) -> None:
    with channel(smtp_server, connections=4) as ch:
        open_sessions(ch, smtp_server, 4)
        # One idle session reset by the server: the MAIL FROM written on it fails at once,
        # so its email is started again on a new session after the rest of its group.
        smtp_server.drop_idle_connections(count=1, reset=True)
        threading.Event().wait(0.05)  # the reset reaches the client
        source = GroupSource([email(n) for n in range(4, 12)])
        results = run(ch, source)
    assert source.asked[0] == (4, 0)
    assert {s.result.status for s in results.values()} == {DeliveryStatus.SENT}
    assert delivered(smtp_server) == Counter(f"user{n}@example.org" for n in range(12))
    assert smtp_server.connections == 5


def test_poll_hands_back_a_transaction_once_answered_and_never_waits() -> None:
    with SmtpTestServer(pipelining=True) as server:
        smtp = open_session(SessionSettings(server.host, server.port, "none", timeout=5))
        mux: Multiplexer[str] = Multiplexer(timeout=5)
        assert mux.poll() == []
        server.handler.delay = 0.3  # the server holds its reply to the end of data
        mux.start("one", smtp, begin(smtp, "a@example.org", "s@example.org",
                                     b"Subject: x\r\n\r\nbody\r\n", eight_bit=False))
        started = time.monotonic()
        polls = 0
        done: list[tuple[str, object]] = []
        while not done:  # each poll moves the transaction on as far as its replies go
            before = time.monotonic()
            done = mux.poll()
            assert time.monotonic() - before < 0.1  # never waits for the server
            polls += 1
            time.sleep(0.01)
        assert time.monotonic() - started >= 0.3
        assert polls > 5
        assert done[0][0] == "one"
        assert isinstance(done[0][1], str) and done[0][1].startswith("250")
        assert len(mux) == 0 and len(server.received) == 1
        mux.close()
        smtp.close()
