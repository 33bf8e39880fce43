"""DSN and ARF samples through a real IMAP server map to deliveries and suppressions."""

from __future__ import annotations

from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted
from sqlalchemy import select

from scheduler.models import ChannelHealth, Delivery, Suppression
from tests.bounces import samples
from tests.bounces.imap_server import PASSWORD, USER, DovecotServer
from tests.channels.smtp_server import SmtpTestServer
from tests.conftest import Project
from tests.dispatch.test_dispatch_smtp import COURSES, NOW, configure

LATER = "2027-01-12T09:00:00Z"
RESUMED = "2027-01-12T10:00:00Z"
A3 = ("A3,Numbering plans,AFRALTI,Kenya,Africa,spectrum management,en;zh,online_instructor,"
      "Online,2027-05-01,2027-05-05,2027-04-15,0,https://example.org/a3\n")


def _settings(project: Project, imap: DovecotServer) -> None:
    text = (project.config / "settings.yaml").read_text()
    project.write_config("settings.yaml", text + f"""
bounces:
  host: 127.0.0.1
  port: {imap.port}
  security: none
  username: {USER}
  password: ${{HERALD_IMAP_PASSWORD}}
  folder: INBOX
  processed_folder: Processed
  unparsed_folder: Unparsed
  every: 5m
""")


def _with_return_path(project: Project) -> None:
    text = (project.config / "channels.yaml").read_text()
    extra = "    return_path: bounces@example.org\n"
    project.write_config("channels.yaml",
                         text.replace("    max_attempts: 3\n", "    max_attempts: 3\n" + extra))


def _folder_sizes(imap: DovecotServer) -> dict[str, int]:
    with MailBoxUnencrypted("127.0.0.1", imap.port).login(USER, PASSWORD) as box:
        sizes = {}
        for name in ("INBOX", "Processed", "Unparsed"):
            box.folder.set(name)
            sizes[name] = len(list(box.uids()))
        return sizes


def test_samples_through_imap_map_to_deliveries_and_suppressions(
    project: Project, tmp_path: Path, imap: DovecotServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HERALD_IMAP_PASSWORD", PASSWORD)
    with SmtpTestServer() as server:
        configure(project, server, tmp_path)
        _with_return_path(project)
        _settings(project, imap)
        assert project.run("send-now", "--campaign", "announce", now=NOW).code == 0
        envelope = [m.mail_from for m in server.received if m.accepted]
    engine = project.engine()
    with engine.connect() as c:
        rows = c.execute(select(Delivery.dedup_key, Delivery.id, Delivery.provider_id)).all()
    ids = {key: i for key, i, _ in rows}
    # Every email went out with its own VERP envelope sender, inside the 64-character limit:
    # one email a person (gone's A1 and A2 in one, wei's too), named by its lead row.
    verps = set(envelope)
    assert len(verps) == len(envelope) == 3
    assert all(m.startswith("bounces+") and m.endswith("@example.org")
               and len(m.split("@")[0]) <= 64 for m in verps)
    by_key = {}
    for m in verps:
        token = m.split("+", 1)[1].split("@")[0]
        by_key[next(k for k, i in ids.items() if token.startswith(f"{i}."))] = m

    # A course announced later leaves a pending email for wei (p3), which a complaint cancels.
    (tmp_path / "c3.csv").write_text(COURSES.splitlines()[0] + "\n" + A3)
    assert project.run("courses", "import", "c3.csv", now=NOW).code == 0
    assert project.run("plan", now=NOW).code == 0

    forged = by_key["announce:A1:p1"].replace(".", ".x", 1)[:-len("@example.org")]
    mails = [
        samples.dsn(by_key["announce:A1:p1"], "ana@example.org", "5.1.1",
                    "550 5.1.1 <ana@example.org>: Recipient address rejected: User unknown"),
        samples.dsn(by_key["announce:A1:p2"], "gone@example.org", "4.2.2",
                    "452 4.2.2 Mailbox full"),
        samples.dsn(by_key["announce:A1:p2"], "gone@example.org", "5.2.2",
                    "552 5.2.2 Mailbox full"),
        samples.dsn(by_key["announce:A1:p3"], "wei@example.org", "5.7.1",
                    "550 5.7.1 Message rejected due to sender reputation"),
        samples.dsn(by_key["announce:A1:p2"], "gone@example.org", "4.4.7",
                    "Delivery time expired", action="delayed"),
        samples.auto_reply(by_key["announce:A1:p3"]),
        samples.arf(by_key["announce:A1:p3"]),
        samples.dsn(forged + "aaaa@example.org", "ana@example.org", "5.1.1", "550 5.1.1 gone"),
    ]
    with MailBoxUnencrypted("127.0.0.1", imap.port).login(USER, PASSWORD) as box:
        for raw in mails:
            box.append(raw, "INBOX")

    r = project.run("bounces", "fetch", now=LATER)
    # One complaint in five emails: far past 0.3%, so the email channel paused itself.
    assert r.code == 3, r.err
    assert "bounce_hard: 1  bounce_soft: 2  bounce_policy: 1  complaint: 1  ignored: 2  " \
           "unparsed: 1" in r.out
    assert _folder_sizes(imap) == {"INBOX": 0, "Processed": 7, "Unparsed": 1}
    with engine.connect() as c:
        suppressed = dict(c.execute(select(Suppression.email, Suppression.reason)).all())
        states = dict(c.execute(select(Delivery.dedup_key, Delivery.state)).all())
        health = c.execute(select(ChannelHealth.needs_attention, ChannelHealth.reason)
                           .where(ChannelHealth.channel == "email")).one()
    # hard → suppressed; two soft bounces are not yet three; policy alone never suppresses;
    # the complaint suppresses wei and cancels the pending A3 email.
    assert suppressed == {"ana@example.org": "bounce", "wei@example.org": "complaint"}
    assert states["announce:A3:p3"] == "cancelled"
    assert health.needs_attention and "complaint rate" in health.reason

    totals = project.run("report", "--json", now=LATER).json()["totals"]  # type: ignore[index]
    # A report about a bundled email counts every delivery it carried: gone's and wei's
    # emails each carried A1 and A2. gone's two soft reports name one email: its two
    # deliveries are counted bounced once each.
    assert (totals["bounced"], totals["bounced_hard"], totals["bounced_soft"],
            totals["bounced_policy"], totals["complained"]) == (5, 1, 2, 2, 2)
    assert (totals["sent"], totals["emails"], totals["delivered"]) == (5, 3, 0)
    status = project.run("status", now=LATER)
    assert "complaint rate" in status.out

    # A third soft report within 15 days suppresses gone@ (reports are counted, not the
    # rows they bounced: two reports of a two-course email are not yet three).
    with MailBoxUnencrypted("127.0.0.1", imap.port).login(USER, PASSWORD) as box:
        box.append(samples.dsn(by_key["announce:A1:p2"], "gone@example.org", "4.2.2",
                               "452 4.2.2 Mailbox full"), "INBOX")
    assert project.run("bounces", "fetch", now=LATER).code == 3  # still paused
    with engine.connect() as c:
        assert c.execute(select(Suppression.reason)
                         .where(Suppression.email == "gone@example.org")).scalar() == "bounce"

    # Resumed by the operator, the channel stays resumed until a new complaint arrives.
    assert project.run("channels", "resume", "email", now=RESUMED).code == 0
    assert project.run("bounces", "fetch", now=RESUMED).code == 0
    with engine.connect() as c:
        assert not c.execute(select(ChannelHealth.needs_attention)
                             .where(ChannelHealth.channel == "email")).scalar()
    engine.dispose()
    assert project.run("channels", "resume", "nope", now=LATER).code == 2


def test_the_daemons_bounce_job_reads_the_mailbox(
    project: Project, tmp_path: Path, imap: DovecotServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scheduler.app import App
    from scheduler.bounces import verp
    from scheduler.daemon import Daemon

    monkeypatch.setenv("HERALD_IMAP_PASSWORD", PASSWORD)
    with SmtpTestServer() as server:
        configure(project, server, tmp_path)
        _settings(project, imap)
        assert project.run("send-now", "--campaign", "announce", now=NOW).code == 0
    app = App(project.config, project.db_url)
    try:
        with app.sessions() as s:
            delivery = s.scalars(select(Delivery).where(
                Delivery.dedup_key == "announce:A1:p1")).one()
        addr = verp.address("bounces@example.org", app.signing_key, delivery.id)
        with MailBoxUnencrypted("127.0.0.1", imap.port).login(USER, PASSWORD) as box:
            box.append(samples.dsn(addr, "ana@example.org", "5.1.1", "550 5.1.1 unknown"),
                       "INBOX")
        Daemon(app, http_port=0).fetch_bounces()
        with app.sessions() as s:
            assert s.scalars(select(Suppression.email)).all() == ["ana@example.org"]
    finally:
        app.close()
    assert _folder_sizes(imap) == {"INBOX": 0, "Processed": 1, "Unparsed": 0}
