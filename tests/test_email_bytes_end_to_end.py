"""From template to wire bytes, the fast path changes nothing a recipient gets.

The fast path: one render per course and language with holes (`render_email_for`), the
recipient filled in as a `SegmentedText`, composed from cached segments. The slow path: a
full render of the whole context (`render_email`) composed by the composer as it was before
(`tests/channels/compose_before.py`), from plain strings. Same Message-ID, Date, boundary.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from channels import email_message
from channels.base import Message
from channels.email_segments import SegmentedText
from scheduler.rendering import LANGUAGES, Renderer
from scheduler.rendering.samples import sample_context
from tests.channels import compose_before

NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
SENDER = "ITU Academy <academy@example.org>"
BASE = "https://herald.example.org"

PEOPLE = [
    ("Amina Diallo", "amina@example.org"),
    ("", "noname@example.org"),  # an empty hole
    ("محمد عبد الله الهاشمي", "m@example.org"),  # RTL, RFC 2047 in To
    ("李小龙", "li@example.org"),
    ("<b>Bold</b> & \"quoted\" O'Neil", "bob@example.org"),  # escaped in HTML
    ("Zoë \u202eevil\u202c Müller", "zoe@example.org"),  # bidi controls
    ("Name " + "long " * 250, "long@example.org"),  # a text line over 998 bytes
    ("Name" + "long" * 300, "word@example.org"),  # a header word over 998: refused alike
    ("é" * 600, "accents@example.org"),  # over 998 bytes in UTF-8, under in characters
    ("Trailing Space ", "ts@example.org"),  # tidying differs: the slow fill
    ("Two\nLines", "nl@example.org"),
    ("--", "dash@example.org"),
    ("Tab\tName\r\n", "tab@example.org"),
    ("Carriage\rReturn", "cr@example.org"),  # a lone CR: a line end in the body
]


def links(email: str) -> dict[str, str]:
    return {"unsubscribe": f"{BASE}/u/tok-{email}", "preferences": f"{BASE}/p/tok-{email}",
            "course": f"{BASE}/c/tok-{email}"}


def compose(module: Any, message: Message, eight_bit: bool) -> bytes | str:
    """The wire bytes, or the error that refuses the message."""
    module._random.seed(3)
    try:
        return bytes(module.compose_email(message, SENDER, domain="example.org", now=NOW,
                                          eight_bit=eight_bit, message_id="<id@example.org>"
                                          ).data)
    except module.InvalidEmail as exc:
        return f"InvalidEmail: {exc}"


def message(rendered: Any, name: str, email: str) -> Message:
    return Message(key="k", to=email, to_name=name, subject=rendered.subject,
                   text=rendered.text, html=rendered.html, language=rendered.language,
                   headers={"List-Unsubscribe": f"<{links(email)['unsubscribe']}>",
                            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
                   date=NOW)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", ["email/announcement", "email/reminder"])
def test_fast_path_bytes_equal_the_slow_path(template: str, language: str) -> None:
    renderer = Renderer()
    ctx = sample_context()
    shared = {k: v for k, v in ctx.items() if k not in ("participant", "links")}
    segmented = 0
    for name, email in PEOPLE * 2:  # the second round fills cached renders
        person = {"name": name, "email": email, "language": language}
        holes = {**{f"participant.{k}": v for k, v in person.items()},
                 **{f"links.{k}": v for k, v in links(email).items()}}
        fast = renderer.render_email_for(template, language, shared, holes, ("c", 1))
        full = renderer.render_email(template, language,
                                     {**ctx, "participant": person, "links": links(email)})
        segmented += isinstance(fast.html, SegmentedText)
        plain = Message(**{**message(full, name, email).__dict__,
                           "text": str(full.text), "html": str(full.html)})
        for eight_bit in (True, False):
            assert compose(email_message, message(fast, name, email), eight_bit) == compose(
                compose_before, plain, eight_bit), (name[:20], eight_bit)
    assert segmented == 2 * len(PEOPLE)  # the fast path was taken
