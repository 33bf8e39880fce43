"""A contact's `/u/` link: its token is refused as a participant's, and unsubscribing stops
the catalogue to that contact, including what was already planned."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from scheduler.admin_recipients import read_unsubscribe_link, unsubscribe_recipient
from scheduler.app import App
from scheduler.links import BadToken, read_unsubscribe
from tests.admin.helpers import emails, setup
from tests.conftest import Project


def test_unsubscribing_a_contact_stops_its_catalogue(project: Project) -> None:
    setup(project)
    assert project.run("send-now", "--campaign", "catalogue", now="2027-01-11T09:00:00Z").code == 0
    msg = next(m for m in emails(project, "catalogue").values()
               if "hr.training@mict.example.org" in m["To"])
    token = re.search(r"/u/([^>]+)>", msg["List-Unsubscribe"]).group(1)  # type: ignore[union-attr]
    app = App(project.config, project.db_url, datetime(2027, 1, 12, tzinfo=UTC))
    try:
        with pytest.raises(BadToken):
            read_unsubscribe(token, app.signing_key)  # never taken for a participant's
        link = read_unsubscribe_link(token, app.signing_key)
        assert (link.kind, link.email) == ("contact", "hr.training@mict.example.org")
        assert project.run("plan", now="2027-01-25T08:00:00Z").code == 0  # reminders planned
        with app.sessions() as s, s.begin():
            assert unsubscribe_recipient(s, link, app.clock())
            assert not unsubscribe_recipient(s, link, app.clock())
    finally:
        app.close()
    assert project.run("send-now", now="2027-01-25T09:00:00Z").code == 0
    reminded = [n for n in emails(project, "catalogue") if "reminder" in n]
    assert len(reminded) == 4 and not any("+k1+" in n for n in reminded)
    rows = project.run("contacts", "list", "--json").json()
    assert {c["email"]: c["status"] for c in rows}["hr.training@mict.example.org"] == (  # type: ignore[union-attr,index]
        "unsubscribed")
