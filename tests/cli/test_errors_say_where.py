"""Errors that say where (issue 18, point 5): the config folder looked in, a `;` CSV in one
line, and no database file left behind by a command that failed on a new database."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.cli import main
from tests.conftest import Project


def test_config_dir_not_found_names_the_path_and_how_to_set_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HERALD_CONFIG_DIR", raising=False)
    assert main(["--db", f"sqlite:///{tmp_path / 'h.db'}", "channels", "list"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert str(tmp_path / "config") in err
    assert "--config-dir" in err and "HERALD_CONFIG_DIR" in err


@pytest.mark.parametrize("command, header", [
    ("courses", "id;title;coe;country;region;topics;languages;mode;location;start_date;"
                "end_date;registration_deadline;fee_usd;url"),
    ("participants", "email;name;language;country;timezone;topics;regions;languages;modes;"
                     "frequency;consent"),
])
def test_a_semicolon_csv_is_recognised_in_one_line(project: Project, tmp_path: Path,
                                                   command: str, header: str) -> None:
    (tmp_path / "semi.csv").write_text(header + "\n" + ";".join(["x"] * 14) + "\n")
    r = project.run(command, "import", "semi.csv")
    assert r.code == 2
    assert r.err.splitlines() == [
        "error: semi.csv:1: header: columns are separated by ';'; use commas "
        "(a comma-separated UTF-8 CSV file)"]


@pytest.mark.parametrize("command", [("deliveries", "retry", "5"), ("posts", "approve", "3"),
                                     ("courses", "import", "missing.csv")])
def test_a_failing_command_leaves_no_database_behind(project: Project, tmp_path: Path,
                                                     command: tuple[str, ...]) -> None:
    db = tmp_path / "fresh" / "herald.db"
    r = project.run("--db", f"sqlite:///{db}", *command)
    assert r.code == 2
    assert list((tmp_path / "fresh").glob("herald.db*")) == []


def test_a_database_with_data_is_kept_after_a_failure(project: Project, tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "herald.db"
    url = f"sqlite:///{db}"
    assert project.run("--db", url, "courses", "import", "demo/courses.csv").code == 0
    assert project.run("--db", url, "deliveries", "retry", "5").code == 2
    assert db.exists()


def test_a_missing_template_names_the_file_and_line_and_sends_nothing(project: Project) -> None:
    text = (project.config / "campaigns.yaml").read_text()
    project.write_config("campaigns.yaml",
                         text.replace("template: email/announcement", "template: email/nope"))
    line = next(n for n, row in enumerate(
        (project.config / "campaigns.yaml").read_text().splitlines(), 1) if "email/nope" in row)
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    assert project.run("participants", "import", "demo/participants.csv").code == 0
    for command in (("channels", "validate"), ("send-now",), ("plan",)):
        r = project.run(*command)
        assert r.code == 2, command
        assert f"campaigns.yaml:{line}: campaigns." in r.err and "email/nope" in r.err
    assert project.outbox("email") == []
