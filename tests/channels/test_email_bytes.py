"""The composer's shortcuts change no byte: every email is held to the composer as it was
before them (`compose_before.py`), the same Message-ID, Date and boundary given to both;
bodies given as `SegmentedText` (shared segments encoded once) to the same bytes as the
plain text."""

from __future__ import annotations

import pickle
import random
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels import email_message
from channels.base import Message
from channels.email_message import InvalidEmail, compose_email
from channels.email_segments import SegmentedText, with_tail
from tests.channels import compose_before

SENDER = "ITU Academy <academy@example.org>"
NOW = datetime(2027, 1, 11, 9, 30, 17, tzinfo=UTC)
URL = "https://herald.example.org/u/eyJjIjoiYW5ub3VuY2UiLCJlIjoiYUBleGFtcGxlLm9yZyJ9.abc"

NAMES = [
    "", "Amina Diallo", "محمد عبد الله", "李小龙", "Алексей Иванов", "José Ñandú-Ødegård",
    'O\'Neil, "Bob" <boss>', "a" * 120, "é" * 80, "Mixed ascii и кириллица words",
    "\u202eevil\u202c bidi", "tab\tand\nnewline\r\nname", "  spaced   out  ", "x@y.org",
    "=?utf-8?b?Zm9v?=", "(comment) name;", "emoji 😀 name", "\x00nul\x7fdel",
]
BODIES = [
    "Hello,\n\nA plain ASCII text.\n",
    "", "\n", "no final newline", "CRLF\r\nline ends\r\nand a lone CR\rhere\n",
    "Dear محمد,\n\nدورة تدريبية في الأمن السيبراني\n" * 5,
    "网络安全事件响应培训课程\n" * 40,
    "x" * 998 + "\n", "x" * 999 + "\n", "é" * 499 + "\n", "é" * 500 + "\n",
    "short\n" + "y" * 2000 + "\nshort again\n",
    "a NUL \x00 byte\n", "line of 78 " + "z" * 67 + "\n", "line of 79 " + "z" * 68 + "\n",
    "<p>Dear &lt;b&gt;Bob&lt;/b&gt; &amp; O&#39;Neil</p>\n<a href=\"" + URL + "\">x</a>",
    "--=_herald_\nboundary-like text\n", "trailing spaces   \n-- \nsignature\n",
    "Ünïcödé – en dash\u2028line separator\n",
]
SUBJECTS = ["New course: 5G planning", "Nouveau cours : « cybersécurité »",
            "دورة جديدة: الأمن السيبراني", "", "a " * 60, "x" * 300, "新课程：网络安全" * 6,
            "line\nbreak\tand\x1bcontrol"]
HEADERS = [
    {"List-Unsubscribe": f"<{URL}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    {}, {"X-Campaign": "announcement  two  spaces "}, {"X-Note": "non-ASCII: café"},
    {"X-Long": "<" + "u" * 990 + ">"}, {"X-Words": " ".join(["word"] * 40)},
]


def both(message: Message, eight_bit: bool,
         sender: str = SENDER) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """What the composer and its reference give: bytes and 8bit flag, or the error."""
    results: list[tuple[Any, ...]] = []
    for module in (email_message, compose_before):
        module._random.seed(7)
        try:
            email = module.compose_email(message, sender, domain="example.org", now=NOW,
                                         eight_bit=eight_bit, message_id="<id@example.org>")
            results.append((email.data, email.eight_bit, email.message_id))
        except module.InvalidEmail as exc:
            results.append(("InvalidEmail", str(exc)))
    return results[0], results[1]


def message(name: str, text: str, html: str | None, subject: str,
            headers: dict[str, str], language: str = "en") -> Message:
    return Message(key="k", to="person@example.org", to_name=name, subject=subject, text=text,
                   html=html, language=language, headers=headers, date=NOW)


@pytest.mark.parametrize("eight_bit", [True, False])
def test_tricky_messages_are_byte_identical(eight_bit: bool) -> None:
    rnd = random.Random(22)
    cases = 0
    for name in NAMES:
        for body in BODIES:
            html = rnd.choice([None, body, f"<p>{body}</p>"])
            msg = message(name, body, html, rnd.choice(SUBJECTS), rnd.choice(HEADERS),
                          rnd.choice(["en", "ar", "zh-Hans", "fr-CA"]))
            new, old = both(msg, eight_bit)
            assert new == old, (name, body[:40])
            cases += 1
    assert cases == len(NAMES) * len(BODIES)


@pytest.mark.parametrize("headers", HEADERS)
@pytest.mark.parametrize("subject", SUBJECTS)
def test_headers_are_byte_identical(headers: dict[str, str], subject: str) -> None:
    new, old = both(message("Zoë Müller", "Hi\n", "<p>Hi</p>", subject, headers), True)
    assert new == old


def test_a_word_over_998_is_refused_alike() -> None:
    long = {"X-Long": "<" + "u" * 1000 + ">"}
    new, old = both(message("", "Hi\n", None, "s", long), True)
    assert new == old and new[0] == "InvalidEmail"
    with pytest.raises(InvalidEmail):
        compose_email(message("", "Hi\n", None, "s", long), SENDER, domain="example.org")


@pytest.mark.parametrize("sender", [SENDER, "academy@example.org", "Académie UIT <a@example.org>",
                                    '"Quoted, Name" <q@example.org>'])
def test_senders_are_byte_identical(sender: str) -> None:
    new, old = both(message("Amina", "Hi\n", "<p>Hi</p>", "s", HEADERS[0]), True, sender)
    assert new == old


text_st = st.text(st.characters(codec="utf-8"), max_size=300)


@settings(max_examples=300, deadline=None)
@given(name=text_st, text=text_st, html=st.none() | text_st, subject=text_st,
       value=text_st, eight_bit=st.booleans(), long_line=st.integers(0, 1100))
def test_any_message_is_byte_identical(name: str, text: str, html: str | None, subject: str,
                                       value: str, eight_bit: bool, long_line: int) -> None:
    body = text + "\n" + "w" * long_line + "\n" + text
    msg = message(name, body, html, subject, {"X-Value": value, "List-Unsubscribe": f"<{URL}>"})
    new, old = both(msg, eight_bit)
    assert new == old


def segmented(text: str, cuts: list[int]) -> SegmentedText:
    """`text` cut at `cuts` into shared segments and values, alternately."""
    points = sorted({min(max(c, 0), len(text)) for c in cuts})
    bounds = [0, *points, len(text)]
    return SegmentedText([text[a:b] for a, b in pairwise(bounds)])


@pytest.mark.parametrize("eight_bit", [True, False])
def test_segmented_bodies_are_byte_identical(eight_bit: bool) -> None:
    rnd = random.Random(6)
    for body in BODIES + [b + n for b in BODIES for n in NAMES[:6]]:
        for _ in range(6):
            cuts = [rnd.randrange(len(body) + 1) for _ in range(rnd.randrange(0, 9))]
            text, html = segmented(body, cuts), segmented(f"<p>{body}</p>", cuts)
            assert text == body and text.segments and "".join(text.segments) == body
            new, _ = both(message("Zoë", text, html, "s", HEADERS[0]), eight_bit)
            _, old = both(message("Zoë", body, f"<p>{body}</p>", "s", HEADERS[0]), eight_bit)
            assert new == old, (body[:40], cuts)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.text(st.characters(codec="utf-8"), max_size=200)
                       | st.sampled_from(["\n", "", "x" * 990, "é" * 400, "\r\n", "\x00"]),
                       max_size=12),
       eight_bit=st.booleans())
def test_any_segmented_body_is_byte_identical(pieces: list[str], eight_bit: bool) -> None:
    text = SegmentedText(pieces)
    plain = "".join(pieces)
    new, _ = both(message("", text, with_tail(text, "\n"), "s", {}), eight_bit)
    _, old = both(message("", plain, plain + "\n", "s", {}), eight_bit)
    assert new == old


def test_segmented_text_survives_a_pickle() -> None:
    text = pickle.loads(pickle.dumps(SegmentedText(["a", "b", "c"])))
    assert isinstance(text, SegmentedText) and text == "abc" and text.segments == ("a", "b", "c")
