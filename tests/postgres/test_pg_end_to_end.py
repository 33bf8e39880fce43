"""The end-to-end CLI tests, run again on PostgreSQL (`project` uses `pg_url` here).

Each name below is the SQLite test itself, collected a second time in this folder,
where tests/postgres/conftest.py points the `project` fixture at a fresh database.
"""

from __future__ import annotations

from tests import test_cli, test_planner, test_send_now

# The schema the migrations build is the one the models describe, on PostgreSQL too.
test_db_upgrade_creates_the_schema_the_models_describe = (
    test_cli.test_db_upgrade_creates_the_schema_the_models_describe)
test_bad_course_file_exits_2_and_writes_nothing = (
    test_cli.test_bad_course_file_exits_2_and_writes_nothing)
test_bad_participant_file_exits_2_and_writes_nothing = (
    test_cli.test_bad_participant_file_exits_2_and_writes_nothing)
test_operator_retry_and_cancel = test_cli.test_operator_retry_and_cancel

# The planner end to end: timing rules, digests, incremental planning, dry runs.
test_on_publish_needs_min_lead_before_the_deadline = (
    test_planner.test_on_publish_needs_min_lead_before_the_deadline)
test_before_rule_sends_late_but_never_after = (
    test_planner.test_before_rule_sends_late_but_never_after)
test_before_rule_for_a_course_learnt_late = test_planner.test_before_rule_for_a_course_learnt_late
test_before_rule_never_after_the_date = test_planner.test_before_rule_never_after_the_date
test_digest_once_per_period_listing_new_courses = (
    test_planner.test_digest_once_per_period_listing_new_courses)
test_newcomer_is_planned_incrementally = test_planner.test_newcomer_is_planned_incrementally
test_plan_dry_run_writes_nothing = test_planner.test_plan_dry_run_writes_nothing

# send-now: everything reaches its sink, and a second run sends nothing new.
test_send_now_twice_sends_nothing_new = test_send_now.test_send_now_twice_sends_nothing_new
test_send_now_dry_run_writes_nothing = test_send_now.test_dry_run_writes_nothing
test_every_delivery_kind_reaches_its_sink = test_send_now.test_every_delivery_kind_reaches_its_sink
test_hostile_titles_reach_neither_html_nor_headers = (
    test_send_now.test_hostile_titles_reach_neither_html_nor_headers)
