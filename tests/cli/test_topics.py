"""Topics that match (issue 18, point 6): synonyms from config/topics.yaml are stored as their
topic; a topic no course has and no synonym maps is a warning, or exit 2 with --strict."""

from __future__ import annotations

from tests.conftest import Project

HEADER = "email,name,language,country,timezone,topics,regions,languages,modes,frequency,consent\n"


def people(*rows: str) -> str:
    return HEADER + "".join(f"{r},,,,immediate,2026-01-01\n" for r in rows)


def test_synonyms_map_and_unknown_topics_warn_or_refuse(project: Project) -> None:
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    project.write_config("topics.yaml", "topics:\n  spectrum management: [Spectrum Mgmt]\n")
    (project.root / "p.csv").write_text(people(
        "ana@example.org,Ana,en,Spain,Europe/Madrid,Spectrum Mgmt",
        "bob@example.org,Bob,en,Kenya,Africa/Nairobi,Underwater Basket Weaving",
        "eve@example.org,Eve,en,Kenya,Africa/Nairobi,  SPECTRUM   management "))

    strict = project.run("participants", "import", "--strict", "p.csv")
    assert strict.code == 2
    assert strict.err.splitlines() == [
        "error: p.csv: topics: 'underwater basket weaving' is no course's topic and no synonym"
        " in config/topics.yaml (1 participant(s), e.g. bob@example.org)"]
    assert project.run("participants", "list", "--json").json() == []

    loose = project.run("participants", "import", "p.csv")
    assert loose.code == 0, loose.err
    assert loose.err.startswith("warning: p.csv: topics: 'underwater basket weaving'")
    assert len(loose.err.splitlines()) == 1
    rows = project.run("participants", "list", "--json").json()
    assert isinstance(rows, list)
    topics = {r["email"]: r["topics"] for r in rows}
    assert topics["ana@example.org"] == ["spectrum management"]
    assert topics["eve@example.org"] == ["spectrum management"]


def test_no_catalogue_yet_means_no_warning(project: Project) -> None:
    (project.root / "p.csv").write_text(people("ana@example.org,Ana,en,Spain,Europe/Madrid,x"))
    r = project.run("participants", "import", "--strict", "p.csv")
    assert r.code == 0 and r.err == ""


def test_a_bad_topics_file_names_the_line(project: Project) -> None:
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    project.write_config("topics.yaml", "topics:\n  cybersecurity: cyber security\n")
    (project.root / "p.csv").write_text(people("ana@example.org,Ana,en,Spain,Europe/Madrid,x"))
    r = project.run("participants", "import", "p.csv")
    assert r.code == 2
    assert "topics.yaml:2: topics.cybersecurity: expected a list of synonyms" in r.err
