"""`herald contacts` and `herald centres`: all-or-nothing imports naming every bad row,
upserts by email / by name, and the lists."""

from __future__ import annotations

from tests.admin.helpers import IMPORTED
from tests.conftest import Project

HEADER = "email,name,organisation,country,region,focus_areas,language\n"


def test_contacts_import_upserts_by_email_and_lists(project: Project) -> None:
    r = project.run("contacts", "import", "demo/contacts.csv", now=IMPORTED)
    assert r.code == 0, r.err
    assert "5 added" in r.out
    rows = project.run("contacts", "list", "--json").json()
    assert isinstance(rows, list) and len(rows) == 5
    grace = next(c for c in rows if c["email"] == "hr.training@mict.example.org")
    assert grace["focus_areas"] == ["spectrum management", "cybersecurity"]
    assert grace["region"] == "Africa" and grace["language"] == "en"
    assert project.run("contacts", "import", "demo/contacts.csv").out.startswith(
        "contacts: 0 added, 0 updated, 5 unchanged")
    (project.root / "more.csv").write_text(
        HEADER + "HR.Training@mict.example.org,Grace W.,Ministry of ICT,Kenya,Africa,,fr\n"
        "new@example.org,,Org,Chile,americas,Cybersecurity,\n", encoding="utf-8")
    r = project.run("contacts", "import", "more.csv")
    assert r.code == 0 and "1 added, 1 updated" in r.out
    rows = {c["email"]: c for c in project.run("contacts", "list", "--json").json()}  # type: ignore[union-attr]
    assert len(rows) == 6
    assert rows["hr.training@mict.example.org"]["language"] == "fr"
    assert rows["hr.training@mict.example.org"]["focus_areas"] == []
    assert rows["new@example.org"]["region"] == "Americas"
    assert rows["new@example.org"]["focus_areas"] == ["cybersecurity"]


def test_a_bad_contacts_file_names_every_bad_row_and_writes_nothing(project: Project) -> None:
    (project.root / "bad.csv").write_text(
        HEADER + "ok@example.org,A,Org,Kenya,Africa,,en\n"
        "not-an-address,B,Org,Kenya,Africa,,en\n"
        "c@example.org,C,Org,Kenya,Atlantis,,en\n"
        "d@example.org,D,Org,Kenya,Africa,,xx\n"
        "ok@example.org,E,Org,Kenya,Africa,,en\n", encoding="utf-8")
    r = project.run("contacts", "import", "bad.csv")
    assert r.code == 2
    lines = r.err.strip().splitlines()
    assert len(lines) == 4, r.err
    assert "bad.csv:3: email:" in lines[0]
    assert "bad.csv:4: region:" in lines[1]
    assert "bad.csv:5: language:" in lines[2]
    assert "bad.csv:6: email: duplicate" in lines[3]
    assert project.run("contacts", "list", "--json").json() == []
    (project.root / "cols.csv").write_text("email,name\nx@example.org,X\n", encoding="utf-8")
    r = project.run("contacts", "import", "cols.csv")
    assert r.code == 2 and "missing column 'organisation'" in r.err


def test_centres_import_keeps_focal_points_and_names_bad_rows(project: Project) -> None:
    r = project.run("centres", "import", "demo/coes.csv")
    assert r.code == 0, r.err
    rows = project.run("centres", "list", "--json").json()
    assert isinstance(rows, list) and len(rows) == 18
    for c in rows:
        assert c["focal_point_email"].endswith(".example.org")
        assert c["website"].startswith("https://") and c["focal_point_name"]
    nti = next(c for c in rows if c["name"].endswith("(NTI)"))
    assert nti["language"] == "ar" and nti["region"] == "Arab States"
    head = "name,country,region,topics,website,focal_point_name,focal_point_email,language\n"
    (project.root / "c.csv").write_text(
        head + "Centre A,Kenya,Africa,cybersecurity,https://a.example.org/,Ann,ann@a.example.org,fr\n"
        "Centre B,Kenya,Africa,,ftp://b,Bob,bob@,en\n", encoding="utf-8")
    r = project.run("centres", "import", "c.csv")
    assert r.code == 2
    assert "c.csv:3: website:" in r.err and "c.csv:3: focal_point_email:" in r.err
    assert "Centre A" not in project.run("centres", "list").out
    (project.root / "c.csv").write_text(
        head + "Centre A,Kenya,Africa,cybersecurity,https://a.example.org/,Ann,ann@a.example.org,fr\n",
        encoding="utf-8")
    assert project.run("centres", "import", "c.csv").code == 0
    (project.root / "c.csv").write_text(
        head + "Centre A,Kenya,Africa,cybersecurity,https://a.example.org/,Anna,anna@a.example.org,fr\n",
        encoding="utf-8")
    assert "1 updated" in project.run("centres", "import", "c.csv").out
    a = next(c for c in project.run("centres", "list", "--json").json()  # type: ignore[union-attr]
             if c["name"] == "Centre A")
    assert a["focal_point_email"] == "anna@a.example.org" and a["focal_point_name"] == "Anna"
