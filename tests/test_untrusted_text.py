"""Issue 17, point 11: mentions and bidi controls in untrusted text, the operator retry's
printed transition, quiet client disconnects on /healthz, JSON error lines."""

from __future__ import annotations

import json
import logging
import re
import socket
import struct
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from channels.email_message import clean_header_text
from channels.untrusted import neutralise_mentions, strip_bidi
from scheduler.health import HealthServer
from scheduler.metrics import Metrics
from scheduler.models import Course, Delivery, Participant
from tests.conftest import Project

# Mastodon's own mention pattern (app/models/account.rb MENTION_RE, in Python's words) and
# twitter-text's (the at sign may be the fullwidth one).
MASTODON_MENTION = re.compile(r"(?<![=/\w])@((\w+([\w.-]+\w+)?)(?:@[\w.-]+\w+)?)", re.I)
X_MENTION = re.compile(r"(?<![A-Za-z0-9_!#$%&*@＠])[@＠][A-Za-z0-9_]{1,20}")
RLO, LRI, PDI = "\u202e", "\u2066", "\u2069"


@pytest.mark.parametrize("text", [
    "Ask @alice@evil.social", "@bob", "(＠carol)", "cc:@dave_1", "hi\n@erin@m.example.org"])
def test_mentions_are_made_inert_for_mastodon_and_x(text: str) -> None:
    assert MASTODON_MENTION.search(text) or X_MENTION.search(text)
    inert = neutralise_mentions(text)
    assert not MASTODON_MENTION.search(inert) and not X_MENTION.search(inert)
    assert inert.replace("\u2060", "") == text  # it reads the same
    assert neutralise_mentions(inert) == inert


@pytest.mark.parametrize("text", ["info@example.org", "a @ b", "@", "price: 5@10"])
def test_addresses_and_lone_at_signs_are_left_alone(text: str) -> None:
    assert neutralise_mentions(text) == text


def test_bidi_controls_are_stripped_from_header_text() -> None:
    assert strip_bidi(f"Invoice{RLO}fdp.exe") == "Invoicefdp.exe"
    assert clean_header_text(f"Spectrum {LRI}x{PDI} {RLO}course\r\nBcc: a@b") == (
        "Spectrum x course Bcc: a@b")


HOSTILE = (
    "id,title,coe,country,region,topics,languages,mode,location,start_date,end_date,"
    "registration_deadline,fee_usd,url,description\n"
    f'M-1,"Spectrum with @alice@evil.social {RLO}gnp.exe",Centre @bob,Kenya,Africa,'
    "spectrum management,en,online_instructor,Online,2027-03-01,2027-03-05,2027-02-20,0,"
    'https://example.org/m,"Write to info@example.org or ＠carol"\n'
)


def test_a_course_post_never_carries_a_live_mention_or_a_bidi_control(
        project: Project, tmp_path: Path) -> None:
    (tmp_path / "hostile.csv").write_text(HOSTILE, encoding="utf-8")
    assert project.run("courses", "import", "hostile.csv").code == 0
    engine = project.engine()
    with engine.connect() as c:
        title = c.execute(select(Course.title)).scalar()
    engine.dispose()
    assert title is not None and RLO not in title  # stripped at import
    r = project.run("send-now", "--campaign", "social_announce", now="2027-01-20T09:30:00Z")
    assert r.code == 0, r.err
    # The posting slot is taken a minute ahead: send when it has come.
    r = project.run("send-now", "--campaign", "social_announce", now="2027-01-20T09:40:00Z")
    assert r.code == 0, r.err
    posts = [json.loads(p.read_text()) for p in project.outbox("mastodon")]
    assert posts, "the social post was not written"
    for post in posts:
        for text in (post["text"], post["title"]):
            assert not MASTODON_MENTION.search(text) and not X_MENTION.search(text)
            assert RLO not in text
        assert "alice" in post["text"] and "https://example.org/m" in post["text"]


def test_participant_names_lose_bidi_controls_before_the_to_header(
        project: Project, tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        "email,name,language,country,timezone,topics,regions,languages,modes,frequency,"
        f"consent\namina@example.org,Amina {RLO}nimda,en,Kenya,Africa/Nairobi,,,,,"
        "immediate,2026-10-01\n", encoding="utf-8")
    assert project.run("participants", "import", "p.csv").code == 0
    engine = project.engine()
    with engine.connect() as c:
        assert c.execute(select(Participant.name)).scalar() == "Amina nimda"
    engine.dispose()


@pytest.mark.parametrize("state", ["unknown", "failed"])
def test_operator_retry_prints_the_real_transition(project: Project, state: str) -> None:
    assert project.run("courses", "import", "demo/courses.csv", now="2027-01-04T09:00:00Z"
                       ).code == 0
    assert project.run("participants", "import", "demo/participants.csv").code == 0
    assert project.run("plan", now="2027-01-04T09:00:00Z").code == 0
    engine = project.engine()
    with engine.begin() as c:
        first = c.execute(select(Delivery.id).order_by(Delivery.id).limit(1)).scalar()
        c.execute(update(Delivery).where(Delivery.id == first).values(state=state))
    engine.dispose()
    r = project.run("deliveries", "retry", str(first))
    assert r.code == 0, r.err
    assert r.out.strip() == f"delivery {first}: {state} → pending"


def test_a_client_that_disconnects_leaves_no_traceback(
        capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Earlier CLI runs left handlers on streams that are closed now: only caplog's here.
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [h for h in root.handlers
                                           if type(h).__name__ == "LogCaptureHandler"])
    def slow_health() -> tuple[bool, dict[str, object]]:
        time.sleep(0.3)  # the client is gone by the time the answer is written
        return True, {"x": {"ok": True, "detail": "y" * 200_000}}

    server = HealthServer("127.0.0.1", 0, Metrics().registry, slow_health)
    server.start()
    caplog.set_level(logging.DEBUG, logger="scheduler.health")
    try:
        for _ in range(3):
            client = socket.create_connection(("127.0.0.1", server.port))
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            # Close with a reset (linger 0): the server's write then fails.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
        time.sleep(1.2)
    finally:
        server.stop()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Reset" not in err
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("disconnected" in r.getMessage() for r in caplog.records)


def test_with_log_format_json_the_final_error_line_is_json(project: Project) -> None:
    cases = [
        (("courses", "import", "no-such.csv"), 2, "no-such.csv: no such file"),
        (("deliveries", "retry", "999"), 2, "no delivery with id 999"),
        (("deliveries", "frobnicate"), 2, "invalid choice"),
    ]
    for args, code, words in cases:
        r = project.run("--log-format", "json", *args)
        assert r.code == code
        last = r.err.strip().splitlines()[-1]
        doc = json.loads(last)
        assert doc["level"] == "error" and words in doc["msg"], last
        plain = project.run(*args)
        assert plain.err.strip().splitlines()[-1].startswith(("error: ", "herald"))
