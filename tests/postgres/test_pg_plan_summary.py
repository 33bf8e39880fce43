"""`herald plan`'s summary from the pass's counts on PostgreSQL (tests/test_plan_summary.py)."""

from __future__ import annotations

from tests.conftest import Project
from tests.test_plan_summary import check_summary_matches_the_scan


def test_plan_summary_is_the_scan_of_the_outbox_on_postgres(project: Project) -> None:
    check_summary_matches_the_scan(project)
