"""coe_email: one invitation per centre focal point per period, in the centre's language,
whose /s/ link names that centre."""

from __future__ import annotations

from tests.admin.helpers import NOW, emails, part, payload, setup, tokens
from tests.conftest import Project


def test_invitations_go_once_per_focal_point_per_period(project: Project) -> None:
    setup(project)
    assert project.run("send-now", "--campaign", "coe_invitation", now=NOW).code == 0
    first = emails(project, "coe_invitation")
    assert len(first) == 18
    centres = {c["id"]: c for c in project.run("centres", "list", "--json").json()}  # type: ignore[union-attr]
    for name, msg in first.items():
        assert "+2027-01-01T0800Z+r" in name
        centre = centres[int(name.split("+r")[1].split(".")[0])]
        assert msg["To"].endswith(f"<{centre['focal_point_email']}>")
        assert msg["Content-Language"] == centre["language"]
        link = tokens(part(msg, "plain"), "s")
        assert len(link) == 1 and payload(link[0])["r"] == centre["id"]
        assert payload(link[0])["e"] == centre["focal_point_email"]
        assert link[0] in part(msg, "html")
    # The same quarter again, and later the same day: nothing new.
    assert project.run("send-now", now="2027-02-15T10:00:00Z").code == 0
    assert project.run("send-now", "--campaign", "coe_invitation", now="2027-03-31T23:00:00Z"
                       ).code == 0
    assert len(emails(project, "coe_invitation")) == 18
    # The next quarter: one more each.
    assert project.run("send-now", "--campaign", "coe_invitation", now="2027-04-01T09:00:00Z"
                       ).code == 0
    after = emails(project, "coe_invitation")
    assert len(after) == 36
    assert len([n for n in after if "+2027-04-01T0800Z+r" in n]) == 18
    arabic = next(m for m in after.values() if m["Content-Language"] == "ar")
    assert 'dir="rtl"' in part(arabic, "html")


def test_a_centre_without_a_focal_point_is_not_invited(project: Project) -> None:
    head = "name,country,region,topics,website,focal_point_name,focal_point_email,language\n"
    (project.root / "c.csv").write_text(
        head + "Centre A,Kenya,Africa,cybersecurity,,,,\n"
        "Centre B,Kenya,Africa,cybersecurity,,Bo,bo@b.example.org,\n", encoding="utf-8")
    assert project.run("centres", "import", "c.csv").code == 0
    assert project.run("send-now", "--campaign", "coe_invitation", now=NOW).code == 0
    sent = emails(project, "coe_invitation")
    assert len(sent) == 1
    assert next(iter(sent.values()))["Content-Language"] == "en"


def test_horizon_and_remind_after_belong_to_catalogue_campaigns(project: Project) -> None:
    text = (project.config / "campaigns.yaml").read_text(encoding="utf-8")
    project.write_config("campaigns.yaml", text + (
        "  bad:\n    kind: coe_email\n    channel: email\n    template: email/coe_invitation\n"
        "    timing: \"cron: 0 8 * * MON\"\n    remind_after: 9x\n"))
    r = project.run("channels", "validate")
    assert r.code == 2 and "campaigns.yaml:" in r.err and "campaigns.bad.remind_after" in r.err
