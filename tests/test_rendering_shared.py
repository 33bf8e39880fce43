"""`render_email_for` renders once per course and fills in each recipient: it must give
exactly what a full render gives, for every template and language, and fall back to full
renders for a template that does more with a recipient's value than print it."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from scheduler.rendering import Renderer
from scheduler.rendering.samples import sample_context

HOLES = ("participant.name", "participant.email", "participant.language",
         "links.unsubscribe", "links.preferences", "links.course")
PEOPLE = [
    ("Amina Diallo", "amina@example.org", "fr", "https://h.example.org/u/tok-a"),
    ("", "noname@example.org", "en", "https://h.example.org/u/tok-b"),
    ("<b>Bold</b> & \"quoted\" O'Neil", "x@example.org", "zh", "javascript:alert(1)"),
    ("\ue000deadbeef:0:e\ue001 {{ 7*7 }}", "y@example.org", "ar", "https://h.example.org/u/c"),
    ("Алексей Иванов", "alexei@example.org", "ru-RU", "mailto:optout@example.org"),
    # Values that tidying the filled text treats apart (trailing spaces, line breaks, the
    # `-- ` signature line): the tidied shared text must not be used for them.
    ("Trailing Space ", " lead@example.org", "en", "https://h.example.org/u/t "),
    ("--", "-", "en", "https://h.example.org/u/dash"),
    ("Two\nLines\r\n\n\n", "z@example.org", "fr", "https://h.example.org/u/nl\n"),
    ("\u3000wide space\u3000", "w@example.org", "zh", "https://h.example.org/u/w"),
]


def split(ctx: dict[str, Any], person: tuple[str, str, str, str]) -> tuple[dict[str, Any],
                                                                         dict[str, str]]:
    name, email, language, unsubscribe = person
    full = {**ctx, "participant": {"name": name, "email": email, "language": language},
            "links": {**ctx["links"], "unsubscribe": unsubscribe,
                      "course": unsubscribe.replace("/u/", "/c/")}}
    holes = {"participant.name": name, "participant.email": email,
             "participant.language": language, "links.unsubscribe": unsubscribe,
             "links.preferences": ctx["links"]["preferences"],
             "links.course": unsubscribe.replace("/u/", "/c/")}
    shared = {k: v for k, v in full.items() if k not in ("participant", "links")}
    shared["links"] = {"courses": ctx["links"]["courses"]}
    return shared, holes


@pytest.mark.parametrize("template", ["email/announcement", "email/reminder"])
@pytest.mark.parametrize("language", ["ar", "en", "es", "fr", "ru", "zh"])
def test_same_output_as_a_full_render(template: str, language: str) -> None:
    renderer = Renderer()
    ctx = sample_context()
    for person in PEOPLE * 2:  # the second round comes from the cache
        shared, holes = split(ctx, person)
        full = {**shared, "participant": {k.split(".")[1]: v for k, v in holes.items()
                                          if k.startswith("participant.")},
                "links": {**shared["links"], **{k.split(".")[1]: v for k, v in holes.items()
                                                if k.startswith("links.")}}}
        expected = renderer.render_email(template, language, full)
        got = renderer.render_email_for(template, language, shared, holes, scope=("c", 1))
        assert got == expected
    assert (template, language) not in renderer._uncacheable
    assert renderer._shared  # it did use the shared path


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(Renderer().templates_dir, target)
    return target


def test_a_template_that_transforms_a_name_is_rendered_in_full(templates: Path) -> None:
    subject = templates / "email" / "announcement" / "en.subject.txt"
    subject.write_text("For {{ participant.name|upper }}: {{ course.title }}")
    renderer = Renderer(templates)
    ctx = sample_context()
    shared, holes = split(ctx, PEOPLE[0])
    got = renderer.render_email_for("email/announcement", "en", shared, holes, scope=("c", 1))
    assert got.subject.startswith("For AMINA DIALLO: ")
    assert ("email/announcement", "en") in renderer._uncacheable


def test_a_comparison_on_a_recipient_value_is_rendered_in_full(templates: Path) -> None:
    subject = templates / "email/announcement/en.subject.txt"
    subject.write_text("{% if participant.language == 'fr' %}Bonjour{% else %}Hello{% endif %}")
    renderer = Renderer(templates)
    ctx = sample_context()
    subjects = []
    for person in PEOPLE[:2]:
        shared, holes = split(ctx, person)
        subjects.append(renderer.render_email_for("email/announcement", "en", shared, holes,
                                                  scope=("c", 1)).subject)
    assert subjects == ["Bonjour", "Hello"]


def test_an_edited_template_is_seen(templates: Path) -> None:
    renderer = Renderer(templates)
    ctx = sample_context()
    shared, holes = split(ctx, PEOPLE[0])
    first = renderer.render_email_for("email/announcement", "en", shared, holes, scope=("c", 1))
    subject = templates / "email/announcement/en.subject.txt"
    time.sleep(1.1)  # the shared renders are checked against the files once a second
    subject.write_text("Edited: {{ course.title }}")
    again = renderer.render_email_for("email/announcement", "en", shared, holes, scope=("c", 1))
    assert not first.subject.startswith("Edited")
    assert again.subject.startswith("Edited: ")
