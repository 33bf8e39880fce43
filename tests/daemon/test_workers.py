"""One worker per channel: a slow, rate-limited email channel never holds the posts up."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from scheduler.models import Delivery
from tests.channels.smtp_server import SmtpTestServer
from tests.conftest import Project
from tests.daemon.conftest import Daemon, import_participants, smtp_channels, wait_for
from tests.smtp_project import ANNOUNCE

CAMPAIGNS = ANNOUNCE + """  social_announce:
    kind: course_post
    channels: [mastodon]
    template: social/announce
    timing: before start_date 400d
"""


def count(project: Project, channel: str, state: str) -> int:
    engine = project.engine()
    with engine.connect() as c:
        n = int(c.execute(select(func.count()).select_from(Delivery).where(
            Delivery.channel == channel, Delivery.state == state)).scalar_one())
    engine.dispose()
    return n


def test_posts_flow_while_a_slow_email_channel_drains(project: Project, daemon: Daemon) -> None:
    with SmtpTestServer() as server:
        project.write_config("channels.yaml", smtp_channels(server.port, rate="2/s") + """
  mastodon:
    type: file
    path: var/outbox/mastodon
    network: mastodon
""")
        project.write_config("campaigns.yaml", CAMPAIGNS)
        assert project.run("courses", "import", "demo/courses.csv").code == 0
        import_participants(project)
        daemon.start()
        wait_for(lambda: count(project, "mastodon", "sent") >= 30, 15, "the posts")
        # The email channel (2 messages a second) is still at work: it held nothing up.
        assert count(project, "email", "pending") > 0
        assert len(server.received) < count(project, "email", "sent") + 5
        assert daemon.stop() == 0
    # Its INFO log says what each tick did, per channel, not one line per delivery nor the
    # scheduler library's own ticks (issue 18.3).
    assert daemon.log_path is not None
    log = daemon.log_path.read_text()
    plans = re.findall(r"plan: [\d,]+ new deliveries: (.*)", log)
    assert any(re.search(r"\bemail [\d,]+ planned", p) for p in plans), log[:2000]
    assert any(re.search(r"\bmastodon [\d,]+ planned", p) for p in plans), log[:2000]
    assert re.search(r"dispatch: mastodon [\d,]+ sent", log), log[:2000]
    assert not re.search(r"delivery \d+ on", log)
    assert "apscheduler" not in log and "Running job" not in log
