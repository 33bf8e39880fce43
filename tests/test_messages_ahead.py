"""Course emails built from a batch (links and renders made ahead, a chunk at a time) are
the messages built one by one; a template edited meanwhile is seen as before."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from channels.base import Message
from scheduler.app import App
from scheduler.batch import load_batch
from scheduler.links_ahead import AHEAD
from scheduler.messages import MessageBuilder
from scheduler.models import Delivery
from scheduler.rendering import Renderer, default_templates_dir
from tests.conftest import Project
from tests.dispatch.test_dispatch_smtp import COURSES, NOW
from tests.smtp_project import configure_email

WHEN = datetime(2027, 1, 11, 9, 5, tzinfo=UTC)
NAMES = ["Amina Diallo", "", "Zoë O'Neil", '"Quoted, Name"', "محمد علي", "李伟", "Алексей",
         "Ñandú & <b>", "  spaced  ", "x" * 90]
LANGUAGES = ["ar", "en", "es", "fr", "ru", "zh", "pt"]


def people(n: int) -> str:
    rows = ["email,name,language,country,timezone,topics,regions,languages,modes,frequency,"
            "consent"]
    for i in range(n):
        name = NAMES[i % len(NAMES)].replace('"', '""')
        rows.append(f'p{i}@example.org,"{name}",{LANGUAGES[i % len(LANGUAGES)]},Kenya,'
                    "Africa/Nairobi,,,,,immediate,2026-01-01")
    return "\n".join(rows) + "\n"


def planned(project: Project, tmp_path: Path, n: int) -> App:
    """`n` people, each sent one course email (one course: no bundles)."""
    configure_email(project, 25, max_attempts=3)
    header, a1 = COURSES.splitlines()[:2]
    every_language = a1.replace(",en;es,", ",ar;en;es;fr;ru;zh;pt,")
    (tmp_path / "c.csv").write_text(f"{header}\n{every_language}\n")
    (tmp_path / "p.csv").write_text(people(n))
    assert project.run("courses", "import", "c.csv", now=NOW).code == 0
    assert project.run("participants", "import", "p.csv", now=NOW).code == 0
    assert project.run("plan", now=NOW).code == 0
    return App(project.config, project.db_url, now=WHEN)


def test_batch_builds_are_the_one_by_one_builds(project: Project, tmp_path: Path) -> None:
    app = planned(project, tmp_path, 2 * AHEAD + 30)
    try:
        channel = app.channels()["email"]
        with app.sessions() as s:
            ids = list(s.scalars(select(Delivery.id).where(Delivery.course_id.is_not(None))
                                 .order_by(Delivery.id)))
            assert len(ids) > AHEAD
            batch = load_batch(s, ids)
            builder, alone = app.builder(), app.builder()
            built = 0
            for d in batch.deliveries:
                got = builder.build(s, d, channel, WHEN, batch)
                want = alone.build(s, s.get(Delivery, d.id), channel, WHEN)  # type: ignore[arg-type]
                assert got == want, d.id
                built += isinstance(got, Message)
            assert built > AHEAD
    finally:
        app.close()


def test_a_template_edited_after_renders_made_ahead_is_seen(project: Project,
                                                           tmp_path: Path) -> None:
    app = planned(project, tmp_path, 20)
    templates = tmp_path / "templates"
    shutil.copytree(default_templates_dir(), templates)
    try:
        channel = app.channels()["email"]
        builder = MessageBuilder(app.config, Renderer(templates), app.signing_key)
        with app.sessions() as s:
            ids = list(s.scalars(select(Delivery.id).order_by(Delivery.id)))
            batch = load_batch(s, ids)
            first = builder.build(s, batch.deliveries[0], channel, WHEN, batch)
            assert isinstance(first, Message)
            for lang in LANGUAGES[:6]:
                path = templates / "email" / "announcement" / f"{lang}.txt"
                path.write_text(path.read_text() + "\nEDITED-AFTER-AHEAD\n")
            builder.renderer._checked = float("-inf")  # the once-a-second check is due
            for d in batch.deliveries[1:]:
                got = builder.build(s, d, channel, WHEN, batch)
                assert isinstance(got, Message)
                assert "EDITED-AFTER-AHEAD" in got.text
    finally:
        app.close()
