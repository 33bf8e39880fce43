"""The report's totals against what a loopback SMTP sink received and refused at send time
and what the bounce mailbox (a real IMAP server) reported later, bundled emails included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from imap_tools import MailBoxUnencrypted
from sqlalchemy import func, select

from scheduler.models import Delivery, DeliveryEvent, Suppression
from tests.bounces import samples
from tests.bounces.imap_server import PASSWORD, USER, DovecotServer
from tests.bounces.test_intake import LATER, _settings, _with_return_path
from tests.channels.smtp_server import SmtpTestServer
from tests.conftest import Project
from tests.dispatch.test_dispatch_smtp import NOW, PEOPLE, configure

# ana gets A1 alone (she reads Spanish; A2 is in English); everyone else gets A1 and A2 in
# one email (cadence bundles).
MORE = ("bo@example.org,Bo,en,Kenya,Africa/Nairobi,,,,,immediate,2026-01-01\n"
        "cy@example.org,Cy,en,Kenya,Africa/Nairobi,,,,,immediate,2026-01-01\n")


def _count_refusals(server: SmtpTestServer) -> list[str]:
    """The recipients the sink refused (RCPT answered 5xx), in order."""
    refused: list[str] = []
    handler = server.handler
    original = handler.handle_RCPT

    async def handle_rcpt(smtp: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        reply = await original(smtp, session, envelope, address, options)
        if reply.startswith("5"):
            refused.append(address)
        return reply

    handler.handle_RCPT = handle_rcpt  # type: ignore[method-assign,assignment]
    return refused


def _totals(project: Project) -> dict[str, Any]:
    r = project.run("report", "--json", now=LATER)
    assert r.code == 0, r.err
    doc = r.json()
    assert isinstance(doc, dict)
    return dict(doc["totals"])


def test_totals_agree_with_the_sink_its_refusals_and_the_reports_of_bundled_emails(
    project: Project, tmp_path: Path, imap: DovecotServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HERALD_IMAP_PASSWORD", PASSWORD)
    with SmtpTestServer() as server:
        configure(project, server, tmp_path, people=PEOPLE + MORE)
        _with_return_path(project)
        _settings(project, imap)
        server.reject("gone@example.org", "550 5.1.1 No such user here")
        refused = _count_refusals(server)
        assert project.run("send-now", "--campaign", "announce", now=NOW).code == 0
        received = [m for m in server.received if m.accepted]
    engine = project.engine()
    with engine.connect() as c:
        rows = c.execute(select(Delivery.id, Delivery.provider_id, Delivery.state,
                                Delivery.participant_id)).all()
    # What the sink took in: each email by its Message-ID and VERP envelope sender; the
    # deliveries each carried are the rows that recorded that Message-ID.
    by_id = {str(m.message()["Message-ID"]): m for m in received}
    carried = {mid: [r.id for r in rows if r.provider_id == mid] for mid in by_id}
    assert sorted(len(ids) for ids in carried.values()) == [1, 2, 2, 2]
    verp = {next(p for p in rows if p.provider_id == mid).participant_id: m.mail_from
            for mid, m in by_id.items()}
    refused_rows = [r for r in rows if r.state == "failed"]
    assert refused == ["gone@example.org"] and len(refused_rows) == 2  # one email, A1 + A2

    totals = _totals(project)
    sent = sum(len(ids) for ids in carried.values())
    assert (totals["emails"], totals["sent"]) == (len(received), sent) == (4, 7)
    assert (totals["refused"], totals["bounced"]) == (2, 2)
    assert (totals["attempted"], totals["delivered"]) == (9, 7)  # nothing taken off twice
    assert totals["bounce_rate"] == 2 / 9

    # Later reports: a hard bounce of wei's two-course email (p3), a soft one of ana's
    # (p1), two soft ones of cy's (p5) and a complaint about bo's (p4).
    mails = [samples.dsn(verp[3], "wei@example.org", "5.1.1", "550 5.1.1 User unknown"),
             samples.dsn(verp[1], "ana@example.org", "4.2.2", "452 4.2.2 Mailbox full"),
             samples.dsn(verp[5], "cy@example.org", "4.2.2", "452 4.2.2 Mailbox full"),
             samples.dsn(verp[5], "cy@example.org", "5.2.2", "552 5.2.2 Mailbox full"),
             samples.arf(verp[4])]
    with MailBoxUnencrypted("127.0.0.1", imap.port).login(USER, PASSWORD) as box:
        for raw in mails:
            box.append(raw, "INBOX")
    fetched = project.run("bounces", "fetch", now=LATER)
    assert "bounce_hard: 1  bounce_soft: 3  bounce_policy: 0  complaint: 1" in fetched.out

    totals = _totals(project)
    # Every delivery an email carried bounced with it: wei 2 (hard), ana 1 and cy 2 (soft,
    # cy's second report counted once), bo's 2 complained.
    assert (totals["bounced_hard"], totals["bounced_soft"], totals["bounced_policy"]) == \
        (2, 3, 0)
    assert totals["bounced"] == totals["refused"] + 5 == 7
    assert (totals["sent"], totals["emails"], totals["delivered"]) == (7, 4, 2)
    assert totals["bounce_rate"] == 7 / 9
    assert totals["complained"] == 2 and totals["complaint_rate"] == 2 / 7
    rows_by_course = project.run("report", "--json", "--by", "course", now=LATER).json()
    assert isinstance(rows_by_course, dict)
    by_course = {r["course"]: r for r in rows_by_course["rows"]}
    # A2 went in the four two-course emails less gone's (refused): wei, bo, cy.
    assert (by_course["A2"]["sent"], by_course["A2"]["bounced"],
            by_course["A2"]["complained"]) == (3, 3, 1)

    with engine.connect() as c:
        suppressed = dict(c.execute(select(Suppression.email, Suppression.reason)).all())
        per_report = dict(c.execute(
            select(DeliveryEvent.type, func.sum(DeliveryEvent.messages))
            .where(DeliveryEvent.type.in_(["bounced", "complained"]),
                   DeliveryEvent.category != "refused")
            .group_by(DeliveryEvent.type)).all())
    engine.dispose()
    # Each report acted once: one suppression a person, and cy's two soft reports (four
    # rows) are two of the three that would suppress.
    assert suppressed == {"gone@example.org": "bounce", "wei@example.org": "bounce",
                          "bo@example.org": "complaint"}
    assert per_report == {"bounced": 4, "complained": 1}
