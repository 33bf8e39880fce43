"""`herald run` against an SMTP server that refuses and drops for a while, then recovers."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from scheduler.models import Delivery, DeliveryEvent
from tests.channels.smtp_server import SmtpTestServer
from tests.conftest import Project
from tests.daemon.conftest import (
    Daemon,
    announce_demo_courses,
    import_participants,
    states,
    wait_for,
)


def lead_count(project: Project, event: str | None = None) -> int:
    """Sent emails (each bundle's lead row), or the lead rows' events of one type."""
    engine = project.engine()
    lead = Delivery.id == func.coalesce(Delivery.bundle, Delivery.id)
    with engine.connect() as c:
        if event is None:
            q = select(func.count()).where(lead, Delivery.state == "sent")
        else:
            # One event per row of the email: count the (email, moment) pairs.
            pairs = (select(func.coalesce(Delivery.bundle, Delivery.id), DeliveryEvent.at)
                     .join(Delivery, Delivery.id == DeliveryEvent.delivery_id)
                     .where(DeliveryEvent.type == event).distinct().subquery())
            q = select(func.count()).select_from(pairs)
        n = c.execute(q).scalar_one()
    engine.dispose()
    return int(n)

def test_flaky_smtp_then_recovery_delivers_everything_once_and_metrics_tell(
        project: Project, daemon: Daemon) -> None:
    with SmtpTestServer() as server:
        announce_demo_courses(project, server.port, max_attempts=20)
        import_participants(project)
        # The server is unwell from the start: refusals at each stage, dropped connections.
        server.fail_next("421 4.3.2 Service shutting down", count=2, stage="mail")
        server.fail_next("451 4.3.0 Try again later", count=6, stage="data-end")
        server.drop_next("rcpt", count=2)
        daemon.start()
        # (cadence, issue 16: 22 emails, one per person, so the second fault comes early)
        wait_for(lambda: len(server.received) > 5, 20, "some messages through")
        server.drop_idle_connections()  # and once more mid-stream
        server.fail_next("451 4.7.1 Greylisted", count=3, stage="rcpt")

        def settled() -> bool:
            st = states(project)
            return bool(st) and set(st) == {"sent"}

        wait_for(settled, 25, "every delivery sent")
        rows = states(project)["sent"]
        # Cadence (issue 16): an email carries all of a person's due courses; counted per
        # email (its lead row), the outbox's rows per row.
        sent = lead_count(project)
        got = Counter((rcpt, str(r.message()["Subject"]))
                      for r in server.received for rcpt in r.rcpt_tos)
        assert [k for k, n in got.items() if n > 1] == []
        assert sum(got.values()) == sent < rows

        retries = lead_count(project, "retry")
        assert retries >= 2 + 6 + 2 + 3  # every scripted refusal or drop cost one retry
        code, health = daemon.health()
        assert code == 200, health
        assert daemon.metric("herald_retries_total", channel="email") == retries
        assert daemon.metric("herald_outcomes_total", channel="email", state="sent") == sent
        assert daemon.metric("herald_deliveries", channel="email", state="sent") == rows
        assert daemon.metric("herald_send_seconds_count", channel="email") == sent + retries
        assert daemon.metric("herald_job_last_success_timestamp_seconds", job="dispatch") > 0
        assert daemon.stop() == 0
