"""The command-line contract: exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from scheduler.db import ensure_schema
from scheduler.models import Base, Course, Delivery, Participant
from tests.conftest import Project


def count(project: Project, model: type) -> int:
    engine = project.engine()
    ensure_schema(engine)  # a rejected import may not even have created the database
    with engine.connect() as c:
        n = int(c.execute(select(func.count()).select_from(model)).scalar_one())
    engine.dispose()
    return n


def test_db_upgrade_creates_the_schema_the_models_describe(project: Project) -> None:
    r = project.run("db", "upgrade")
    assert r.code == 0 and "revision" in r.out
    engine = project.engine()
    with engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []
    engine.dispose()


def test_channels_validate_reports_file_and_line(project: Project) -> None:
    assert project.run("channels", "validate").code == 0
    text = (project.config / "channels.yaml").read_text()
    project.write_config("channels.yaml", text.replace("min_gap: 90m", "min_gap: 9x"))
    r = project.run("channels", "validate")
    assert r.code == 2
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "min_gap: 90m" in t)
    assert f"channels.yaml:{line}: channels.mastodon.min_gap" in r.err
    assert "Traceback" not in r.err


def test_bad_course_file_exits_2_and_writes_nothing(project: Project, tmp_path: Path) -> None:
    good = (project.root / "demo" / "courses.csv").read_text().splitlines()
    bad = [*good[:3], good[3].replace(",Africa,", ",Atlantis,"), *good[4:]]
    (tmp_path / "bad.csv").write_text("\n".join(bad) + "\n")
    r = project.run("courses", "import", "bad.csv")
    assert r.code == 2
    assert "bad.csv:4: region:" in r.err and "Traceback" not in r.err
    assert count(project, Course) == 0


def test_bad_participant_file_exits_2_and_writes_nothing(project: Project, tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        "email,name,language,country,timezone,topics,regions,languages,modes,frequency,consent\n"
        "ok@example.org,Ok,en,Kenya,Africa/Nairobi,,,,,immediate,2026-01-01\n"
        "not-an-email,Bad,en,Kenya,Mars/Olympus,,,,,hourly,2026-01-01\n")
    r = project.run("participants", "import", "p.csv")
    assert r.code == 2
    for field in ("email", "timezone", "frequency"):
        assert f"p.csv:3: {field}:" in r.err
    assert count(project, Participant) == 0


def test_usage_errors_exit_2(project: Project) -> None:
    assert project.run("deliveries", "list", "--state", "nonsense").code == 2
    assert project.run("send-now", now="yesterday").code == 2
    assert project.run("no-such-command").code == 2


def test_operator_retry_and_cancel(project: Project) -> None:
    week_before = "2027-01-04T09:00:00Z"
    assert project.run("courses", "import", "demo/courses.csv", now=week_before).code == 0
    assert project.run("participants", "import", "demo/participants.csv", now=week_before).code == 0
    assert project.run("plan").code == 0
    rows = project.run("deliveries", "list", "--state", "pending", "--json").json()
    assert isinstance(rows, list) and rows
    first, second = rows[0]["id"], rows[1]["id"]
    r = project.run("deliveries", "retry", str(first))
    assert r.code == 2 and "only failed or unknown" in r.err  # pending: nothing to retry
    assert project.run("deliveries", "cancel", str(first)).code == 0
    engine = project.engine()
    with engine.begin() as c:
        c.execute(Delivery.__table__.update().where(Delivery.id == second).values(
            state="unknown"))
    engine.dispose()
    assert project.run("deliveries", "retry", str(second)).code == 0
    states = {d["id"]: d["state"] for d in project.run("deliveries", "list", "--json").json()}  # type: ignore[union-attr]
    assert states[first] == "cancelled" and states[second] == "pending"
    assert project.run("deliveries", "retry", "999999").code == 2


def test_channels_validate_names_unset_credentials_and_half_pairs(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write_config("channels.yaml", (
        "channels:\n  email:\n    type: smtp\n    host: localhost\n"
        "    username: ${SMTP_USER}\n    password: ${SMTP_PASSWORD}\n"
        "    from: \"A <a@example.org>\"\n"))
    project.write_config("campaigns.yaml", "campaigns: {}\n")
    monkeypatch.delenv("SMTP_USER", raising=False)
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    r = project.run("channels", "validate")
    assert r.code == 2
    assert "channels.yaml:5: channels.email.username: environment variable SMTP_USER is not set" \
        in r.err
    assert "channels.yaml:6: channels.email.password: environment variable SMTP_PASSWORD is " \
        "not set" in r.err
    monkeypatch.setenv("SMTP_USER", "academy")
    r = project.run("channels", "validate")
    assert r.code == 2 and "SMTP_PASSWORD is not set" in r.err and "SMTP_USER" not in r.err
    monkeypatch.setenv("SMTP_PASSWORD", "pw-123456")
    assert project.run("channels", "validate").code == 0
