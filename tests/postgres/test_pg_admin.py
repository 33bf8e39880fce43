"""The administrations-and-centres scenarios again on PostgreSQL: catalogue, reminders,
invitations, answers through /i/ and submissions through /s/."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.admin import test_catalogue as catalogue
from tests.admin import test_invitations as invitations
from tests.admin import test_web_interest as pages
from tests.admin.test_web_interest import web  # noqa: F401 (the fixture)
from tests.conftest import Project


def test_catalogue_on_postgres(project: Project) -> None:
    catalogue.test_each_demo_contact_gets_its_courses_by_month_once(project)


def test_reminders_on_postgres(project: Project) -> None:
    catalogue.test_the_reminder_goes_only_to_the_silent(project)


def test_invitations_on_postgres(project: Project) -> None:
    invitations.test_invitations_go_once_per_focal_point_per_period(project)


def test_answers_on_postgres(project: Project, web: FlaskClient) -> None:  # noqa: F811
    pages.test_an_answer_is_recorded_replaced_and_withdrawn(project, web)


def test_submissions_on_postgres(project: Project, web: FlaskClient) -> None:  # noqa: F811
    pages.test_a_submission_waits_for_approval(project, web)
