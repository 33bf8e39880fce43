"""`compose_email` writes the wire form by hand: hold it to what the standard library reads.

Every message is parsed back with `email.policy.default` and must give the same headers and
the same text and HTML content as the `EmailMessage` the standard library would build from
the same parts, for text in every script, names with specials, and hostile header text.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.base import Message
from channels.email_message import InvalidEmail, compose_email

SENDER = "ITU Academy <academy@example.org>"
NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)

SCRIPTS = [
    "Course on 5G network planning",
    "Formation en cybersécurité : « réponse aux incidents »",
    "دورة تدريبية في الأمن السيبراني",
    "网络安全事件响应培训课程",
    "Курс по управлению спектром",
    "Curso de regulación — 2027",
    "Ñandú Ødegård Łódź 😀 emoji",
]


def reference(message: Message) -> EmailMessage:
    """What the standard library builds from the same parts (policy.SMTP)."""
    email = EmailMessage(policy=policy.SMTP)
    email["From"] = SENDER
    email["To"] = (f'"{message.to_name}" <{message.to}>' if message.to_name
                   else message.to or "")
    email["Subject"] = message.subject or ""
    for name, value in message.headers.items():
        email[name] = value
    email.set_content(message.text if message.text.endswith("\n") else message.text + "\n")
    if message.html is not None:
        email.add_alternative(message.html if message.html.endswith("\n")
                              else message.html + "\n", subtype="html")
    return email


def parsed(data: bytes) -> EmailMessage:
    msg = message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def content(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_subtype() == subtype
    return str(part.get_content()).replace("\r\n", "\n")


def check_wire(data: bytes, eight_bit: bool = False) -> None:
    """7-bit (or 8bit: UTF-8 without NUL), CRLF only, no line over 998 bytes."""
    assert data.isascii() or (eight_bit and b"\x00" not in data)
    data.decode("utf-8")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    head = data.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()  # headers stay 7-bit: 8BITMIME is about bodies


def message(subject: str, name: str, text: str, html: str | None,
            language: str = "en") -> Message:
    return Message(key="k", to="ana.perez@example.org", to_name=name, subject=subject,
                   text=text, html=html, language=language,
                   headers={"List-Unsubscribe": "<https://academy.example.org/u/" + "x" * 150
                            + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


@pytest.mark.parametrize("eight_bit", [False, True], ids=["7bit", "8bit"])
@pytest.mark.parametrize("text", SCRIPTS)
def test_same_headers_and_content_as_the_standard_library(text: str, eight_bit: bool) -> None:
    body = (text + "\n") * 40 + "A line that is long enough to need folding: " + "x" * 200
    html = f"<p dir=\"auto\">{text}</p>\n" * 30
    msg = message(text * 3, text[:30], body, html)
    composed = compose_email(msg, SENDER, domain="example.org", now=NOW, eight_bit=eight_bit)
    check_wire(composed.data, eight_bit)
    assert composed.eight_bit == (eight_bit and not text.isascii())
    ours = parsed(composed.data)
    theirs = parsed(reference(msg).as_bytes())
    for header in ("From", "List-Unsubscribe", "List-Unsubscribe-Post"):
        assert str(ours[header]) == str(theirs[header]), header
    # Subject and To are compared with what was written, not with the standard library's
    # round trip: its folding of non-ASCII text loses or adds a space between encoded words.
    assert str(ours["Subject"]) == text * 3
    assert ours["To"].addresses[0].display_name == text[:30]
    assert ours["To"].addresses[0].addr_spec == "ana.perez@example.org"
    assert ours.get_content_type() == "multipart/alternative"
    assert content(ours, "plain") == content(theirs, "plain")
    assert content(ours, "html") == content(theirs, "html")
    assert ours["Message-ID"] == composed.message_id
    assert ours["Date"].datetime == NOW
    assert ours["Content-Language"] == "en"
    assert ours["MIME-Version"] == "1.0"


@pytest.mark.parametrize(("long_line", "encoding"), [("café " * 250, b"quoted-printable"),
                                                     ("é" * 600, b"base64")])
def test_8bit_body_lines_over_998_bytes_fall_back_to_7bit(long_line: str, encoding: bytes) -> None:
    composed = compose_email(message("s", "n", long_line, None), SENDER, domain="example.org",
                             now=NOW, eight_bit=True)
    check_wire(composed.data, eight_bit=True)
    assert b"Content-Transfer-Encoding: " + encoding in composed.data
    assert not composed.eight_bit
    assert content(parsed(composed.data), "plain") == long_line + "\n"


@pytest.mark.parametrize("before", [0, 1, 250, 498, 499, 500, 997, 5000])
@pytest.mark.parametrize(("length", "eight_bit"), [(998, True), (999, False)])
def test_an_8bit_body_line_of_998_bytes_goes_as_it_is_wherever_it_starts(
    before: int, length: int, eight_bit: bool,
) -> None:
    # Short lines first (`before` bytes of them), so the long line starts at any offset.
    lead = "".join("ü" * (n // 2 - 1) + "\n" for n in [80] * (before // 80)) + "x" * (before % 80)
    lead = lead + "\n" if lead and not lead.endswith("\n") else lead
    text = lead + "é" * (length // 2) + "x" * (length % 2) + "\nend\n"
    composed = compose_email(message("s", "n", text, None), SENDER, domain="example.org",
                             now=NOW, eight_bit=True)
    check_wire(composed.data, eight_bit=True)
    assert composed.eight_bit is eight_bit
    assert content(parsed(composed.data), "plain") == text


def test_text_only_message_is_a_single_part() -> None:
    msg = message("Hello", "Ana", "Plain text only.\n", None)
    ours = parsed(compose_email(msg, SENDER, domain="example.org", now=NOW).data)
    assert ours.get_content_type() == "text/plain"
    assert ours.get_content().replace("\r\n", "\n") == "Plain text only.\n"


@settings(max_examples=200, deadline=None)
@given(subject=st.text(max_size=200), name=st.text(max_size=60),
       body=st.text(max_size=2000), eight_bit=st.booleans())
def test_any_text_reads_back_as_written(subject: str, name: str, body: str,
                                        eight_bit: bool) -> None:
    msg = message(subject, name, body, f"<p>{body}</p>")
    try:
        composed = compose_email(msg, SENDER, domain="example.org", now=NOW,
                                 eight_bit=eight_bit)
    except InvalidEmail:
        # Only a word too long for any header line may be refused.
        assert any(len(w) > 900 for w in re.split(r"\s", subject + " " + name))
        return
    check_wire(composed.data, eight_bit)
    ours = parsed(composed.data)
    def one_line(s: str) -> str:
        return " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", s).split())
    assert str(ours["Subject"]) == one_line(subject)
    assert ours["To"].addresses[0].addr_spec == "ana.perez@example.org"
    assert ours["To"].addresses[0].display_name == one_line(name)
    expected = body.replace("\r\n", "\n").replace("\r", "\n")
    expected = expected if expected.endswith("\n") else expected + "\n"
    assert content(ours, "plain") == expected
    assert len(ours["To"].addresses) == 1 and ours["Bcc"] is None


def test_header_injection_adds_no_header_or_recipient() -> None:
    msg = message("Hi\r\nBcc: evil@example.com", "Eve\r\nCc: evil@example.com", "x", None)
    data = compose_email(msg, SENDER, domain="example.org", now=NOW).data
    ours = parsed(data)
    assert ours["Bcc"] is None and ours["Cc"] is None
    assert [a.addr_spec for a in ours["To"].addresses] == ["ana.perez@example.org"]
    assert b"\r\nBcc:" not in data and b"\r\nCc:" not in data


def test_a_long_url_header_stays_one_token() -> None:
    msg = message("Hi", "Ana", "x", None)
    data = compose_email(msg, SENDER, domain="example.org", now=NOW).data
    assert b"=?utf-8?" not in data.split(b"List-Unsubscribe:")[1].split(b"\r\nList")[0]
    assert str(parsed(data)["List-Unsubscribe"]).startswith("<https://academy.example.org/u/")


def test_message_ids_have_make_msgids_form_and_are_unique() -> None:
    msg = Message(key="k", to="a@example.org", text="Hi\n", date=datetime(2027, 1, 1, tzinfo=UTC))
    ids = [compose_email(msg, "A <a@example.org>", domain="example.org").message_id
           for _ in range(2000)]
    # email.utils.make_msgid(domain=...): <time in 1/100 s>.<pid>.<64 random bits>@domain
    assert all(re.fullmatch(r"<\d+\.\d+\.\d+@example\.org>", i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert {i.split(".")[1] for i in ids} == {str(os.getpid())}
