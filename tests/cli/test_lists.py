"""Lists people can use (issue 18, point 4): order, recipient, limits, text cells, errors,
`--version`, a closed pipe, ISO times in `status --json`, a daemon just starting."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta

from scheduler.app import App
from scheduler.models import DaemonHeartbeat
from tests.conftest import Project


def planned_demo(project: Project) -> None:
    week_before = "2027-01-04T09:00:00Z"
    assert project.run("courses", "import", "demo/courses.csv", now=week_before).code == 0
    assert project.run("participants", "import", "demo/participants.csv", now=week_before).code == 0
    assert project.run("plan").code == 0


def test_deliveries_newest_first_with_recipient_and_a_limit_that_says_so(
        project: Project) -> None:
    planned_demo(project)
    rows = project.run("deliveries", "list", "--json", "--limit", "100000").json()
    assert isinstance(rows, list) and len(rows) > 20
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids, reverse=True)
    emails = [r for r in rows if r["channel"] == "email"]
    posts = [r for r in rows if r["channel"] != "email"]
    assert emails and all("@" in r["recipient"] for r in emails)
    assert posts and all(r["recipient"] == r["channel"] for r in posts)
    text = project.run("deliveries", "list", "--limit", "5")
    assert text.code == 0
    assert f"showing 5 of {len(rows):,}" in text.out
    assert "RECIPIENT" in text.out
    assert str(ids[0]) in text.out.splitlines()[1]  # the newest on top
    everything = project.run("deliveries", "list", "--limit", "100000")
    assert "showing" not in everything.out


def test_participants_list_topics_as_text_and_a_bad_status_is_exit_2(
        project: Project) -> None:
    planned_demo(project)
    r = project.run("participants", "list")
    assert r.code == 0
    assert "['" not in r.out and "[]" not in r.out
    bogus = project.run("participants", "list", "--status", "bogus")
    assert bogus.code == 2 and "--status: unknown status 'bogus'" in bogus.err
    assert project.run("participants", "list", "--status", "active").code == 0


def test_version(project: Project) -> None:
    r = subprocess.run([sys.executable, "-m", "scheduler.cli", "--version"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0 and r.stdout.startswith("herald ")


def test_piping_into_head_is_quiet(project: Project) -> None:
    planned_demo(project)
    argv = [sys.executable, "-m", "scheduler.cli", "--config-dir", str(project.config),
            "--db", project.db_url, "deliveries", "list", "--limit", "100000"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "0"})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "BrokenPipe" not in err and "Traceback" not in err


def test_status_json_times_are_iso_and_a_starting_daemon_is_not_stale(
        project: Project) -> None:
    planned_demo(project)
    now = datetime.fromisoformat("2027-01-11T09:30:00+00:00")
    app = App(project.config, project.db_url)
    try:
        with app.sessions() as s, s.begin():
            s.add(DaemonHeartbeat(owner="starting", job="plan", last_ok_at=None,
                                  next_run_at=now - timedelta(seconds=5)))
    finally:
        app.close()
    doc = project.run("status", "--json", now=now.isoformat()).json()
    assert isinstance(doc, dict)
    assert "T" in doc["now"] and doc["now"].startswith("2027-01-11T09:30:00")
    [daemon] = doc["daemons"]
    assert daemon["stale"] is False
    text = project.run("status", now=now.isoformat())
    assert "due now" in text.out and "ago" not in text.out.split("Daemons:")[1].split(
        "Recent events")[0]
    later = (now + timedelta(seconds=30)).isoformat()
    doc = project.run("status", "--json", now=later).json()
    assert isinstance(doc, dict) and doc["daemons"][0]["stale"] is True
