"""The public pages' transactions on PostgreSQL: sign-up and confirmation, one-click
unsubscribe (cancels in the same transaction), preferences, erasure."""

from __future__ import annotations

import pytest

from tests.web.conftest import web  # noqa: F401 - the fixture, over PostgreSQL here
from tests.web.test_links import (  # noqa: F401 - the same tests, run again on PostgreSQL
    test_click_redirects_to_the_signed_target_and_records_a_click,
    test_one_click_post_without_cookie_unsubscribes_and_cancels,
)
from tests.web.test_preferences import (  # noqa: F401
    test_operator_commands_export_suppress_unsubscribe_erase,
    test_saving_interests_cancels_what_no_longer_matches,
)
from tests.web.test_signup import (  # noqa: F401
    test_replayed_confirmation_changes_nothing,
    test_sign_up_records_pending_and_sends_confirmation_through_the_outbox,
)


@pytest.fixture
def project_db_url(pg_url: str) -> str:
    return pg_url
