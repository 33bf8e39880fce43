"""The session pool's fresh sessions (a stale session's retry): never more open than its size."""

from __future__ import annotations

from channels.smtp_pool import SessionPool, SessionSettings, open_session
from tests.channels.smtp_server import SmtpTestServer, wait_until


def test_a_fresh_session_ends_an_idle_one_only_to_stay_within_the_size() -> None:
    with SmtpTestServer() as server:
        settings = SessionSettings(host=server.host, port=server.port, security="none",
                                   timeout=5)
        pool = SessionPool(lambda: open_session(settings), 2)
        a, b = pool.acquire(), pool.acquire()
        pool.release(a, reuse=True)
        # One in use, one idle: a fresh one would make three open, so the idle one goes.
        c = pool.acquire(fresh=True)
        assert c.smtp is not a.smtp and c.smtp is not b.smtp
        wait_until(lambda: server.quits == 1)
        assert server.connections == 3
        assert pool.idle == 0
        pool.release(b, reuse=False)  # as a failed send's session: ended
        wait_until(lambda: server.quits == 2)
        # One in use, none idle: a fresh one ends nothing.
        d = pool.acquire(fresh=True)
        assert server.connections == 4 and server.quits == 2
        pool.release(c, reuse=True)
        pool.release(d, reuse=True)
        assert pool.idle == 2
        # Not fresh: an idle one, reused.
        e = pool.acquire()
        assert e.smtp is d.smtp and server.connections == 4
        pool.release(e, reuse=True)
        pool.close()
        wait_until(lambda: server.quits == 4)
