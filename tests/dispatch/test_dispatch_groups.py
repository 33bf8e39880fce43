"""The streaming worker's groups (several deliveries marked `sending` in one commit as
several sessions free up together) over a real SMTP server: a dead session, a lost one,
and a row refused at its begin touch only their own delivery."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from channels.base import Message
from channels.smtp import SmtpChannel
from channels.smtp_stream import Multiplexer
from scheduler.models import Delivery, Participant, Suppression
from scheduler.outbox.sending import SendPath, Start
from tests.channels.smtp_server import SmtpTestServer
from tests.conftest import Project
from tests.dispatch.test_dispatch_smtp import NOW, configure

PEOPLE = ("email,name,language,country,timezone,topics,regions,languages,modes,frequency,"
          "consent\n" + "".join(
              f"p{n}@example.org,P{n},en,Kenya,Africa/Nairobi,,,,,immediate,2026-01-01\n"
              for n in range(12)))


class Groups:
    """Records each `begin_sends` (the addresses of a group, and which began)."""

    def __init__(self, before: Callable[[Sequence[Start]], None] = lambda s: None) -> None:
        self.groups: list[list[tuple[str, bool]]] = []
        self.before = before
        """Called with each group just before its commit."""

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        begin_sends = SendPath.begin_sends

        def recording(path: SendPath, starts: Sequence[Start], *args: Any) -> list[bool]:
            self.before(starts)
            began = begin_sends(path, starts, *args)
            self.groups.append([(s.email, ok) for s, ok in zip(starts, began, strict=True)])
            return began

        monkeypatch.setattr(SendPath, "begin_sends", recording)

    def largest(self) -> int:
        return max(len(g) for g in self.groups)


def busy_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each email built ahead takes 50 ms: the sessions' replies land together, so their
    next emails begin as groups."""
    compose_ahead = SmtpChannel._compose_ahead

    def slowed(self: SmtpChannel, ahead: Callable[[], Message | None],
               mux: Multiplexer[Any]) -> Callable[[], bool]:
        def slow() -> Message | None:
            message = ahead()
            threading.Event().wait(0.05)
            return message
        return compose_ahead(self, slow, mux)

    monkeypatch.setattr(SmtpChannel, "_compose_ahead", slowed)


def rows(project: Project) -> dict[str, tuple[str, int]]:
    """Each participant's email address: (its rows' one state, attempts)."""
    engine = project.engine()
    with engine.connect() as c:
        found = c.execute(select(Participant.email, Delivery.state, Delivery.attempts)
                          .join(Participant, Participant.id == Delivery.participant_id)).all()
    engine.dispose()
    by_address: dict[str, set[tuple[str, int]]] = {}
    for address, state, attempts in found:
        by_address.setdefault(address, set()).add((state, attempts))
    assert all(len(s) == 1 for s in by_address.values()), by_address
    return {address: s.pop() for address, s in by_address.items()}


def received(server: SmtpTestServer) -> Counter[str]:
    return Counter(r.rcpt_tos[0] for r in server.received)


EVERYONE = {f"p{n}@example.org" for n in range(12)}


def test_a_session_dead_when_its_grouped_email_starts_is_replaced_and_the_row_sent_once(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    groups = Groups()
    groups.patch(monkeypatch)
    busy_builder(monkeypatch)
    with SmtpTestServer() as server:
        configure(project, server, tmp_path, connections=4, people=PEOPLE)
        server.handler.delay = 0.2  # the first four emails each open a session
        server.close_after_data()  # the first session dies right after its first email
        assert project.run("send-now", now=NOW).code == 0
        assert groups.largest() > 1
        assert rows(project) == {a: ("sent", 1) for a in EVERYONE}
        assert received(server) == Counter(EVERYONE)  # each once: the dead one retried once
        assert server.connections == 5


def test_a_session_lost_after_its_grouped_data_leaves_that_row_unknown_the_others_sent(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    chosen: list[str] = []
    servers: list[SmtpTestServer] = []

    def lose_one(starts: Sequence[Start]) -> None:
        # The second email of the first group: its data arrives whole, then its
        # connection drops without a reply.
        if not chosen and len(starts) > 1:
            chosen.append(starts[1].email)
            servers[0].drop_data_for(starts[1].email)

    groups = Groups(lose_one)
    groups.patch(monkeypatch)
    busy_builder(monkeypatch)
    with SmtpTestServer() as server:
        servers.append(server)
        configure(project, server, tmp_path, connections=4, people=PEOPLE)
        server.handler.delay = 0.05
        assert project.run("send-now", now=NOW).code == 0
        states = rows(project)
        lost = [a for a, (state, _) in states.items() if state == "unknown"]
        assert len(chosen) == 1 and lost == chosen
        assert {a: s for a, s in states.items() if a not in lost} == {
            a: ("sent", 1) for a in EVERYONE - set(lost)}
        assert received(server) == Counter(EVERYONE - set(lost))
        # Never sent again: the operator decides.
        assert project.run("send-now", now=NOW).code == 0
        assert rows(project)[lost[0]][0] == "unknown"
        assert received(server) == Counter(EVERYONE - set(lost))


def test_a_row_suppressed_after_it_was_built_is_refused_in_its_group_the_others_go(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    target: list[str] = []

    def suppress_one(starts: Sequence[Start]) -> None:
        # The second email of the first group: its address is suppressed (a bounce, an
        # unsubscribe) after it was built, just before its group is marked `sending`.
        if not target and len(starts) > 1:
            target.append(starts[1].email)
            engine = project.engine()
            with engine.begin() as c:
                c.execute(insert(Suppression).values(
                    email=target[0], reason="unsubscribe", detail="",
                    created_at=datetime.now(UTC)))
            engine.dispose()

    groups = Groups(suppress_one)
    groups.patch(monkeypatch)
    busy_builder(monkeypatch)
    with SmtpTestServer() as server:
        configure(project, server, tmp_path, connections=4, people=PEOPLE)
        server.handler.delay = 0.05
        assert project.run("send-now", now=NOW).code == 0
        refused = [g for g in groups.groups if (target[0], False) in g]
        assert len(refused) == 1
        # Its group went on without it.
        assert len(refused[0]) > 1 and all(ok for a, ok in refused[0] if a != target[0])
        assert received(server) == Counter(EVERYONE - set(target))
        states = rows(project)
        assert states[target[0]][0] != "sent"
        assert {a: s for a, s in states.items() if a != target[0]} == {
            a: ("sent", 1) for a in EVERYONE - set(target)}
        assert project.run("send-now", now=NOW).code == 0
        assert rows(project)[target[0]][0] in ("suppressed", "cancelled")
        assert target[0] not in received(server)
