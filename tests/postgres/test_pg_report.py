"""The report, the event log's tagging and the bounce intake on PostgreSQL: the same tests
as on SQLite, with `project` pointed at a fresh PostgreSQL database (conftest)."""

from __future__ import annotations

from tests.bounces import test_report_totals as bundles
from tests.bounces.conftest import imap  # noqa: F401  (the fixture the bounce test takes)
from tests.bounces.test_intake import (
    test_samples_through_imap_map_to_deliveries_and_suppressions as test_pg_bounces,
)
from tests.reporting.test_posted import social  # noqa: F401  (the fixture the tests take)
from tests.reporting.test_posted import (
    test_engagement_of_mastodon_and_bluesky_posts_is_recorded_as_changes as test_pg_engagement,
)
from tests.reporting.test_posted import (
    test_posts_are_posted_events_counted_per_network as test_pg_posted,
)
from tests.reporting.test_report import (
    test_complaint_guard_warns_past_0_1_and_pauses_at_0_3_percent as test_pg_complaint_guard,
)
from tests.reporting.test_report import (
    test_totals_agree_with_the_sink_and_count_clicks_people_and_answers as test_pg_totals,
)

test_pg_bundle_reports = \
    bundles.test_totals_agree_with_the_sink_its_refusals_and_the_reports_of_bundled_emails

__all__ = ["test_pg_bounces", "test_pg_bundle_reports", "test_pg_complaint_guard",
           "test_pg_engagement", "test_pg_posted", "test_pg_totals"]
