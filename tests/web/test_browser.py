"""Headless Chromium against a real `herald serve` and a real SMTP sink: subscribe →
confirmation email → confirm → preferences → unsubscribe, in English and Arabic, with
screenshots checked and axe-core 4 (from npm) finding no WCAG 2.1 A/AA violation.

The browser and axe-core come from the shared harness in tests/browser.py (which skips
when they are absent, except in CI).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.db import make_engine
from scheduler.links import unsubscribe_url
from scheduler.models import Participant
from tests import browser
from tests.channels.smtp_server import SmtpTestServer, free_port
from tests.conftest import DEMO_NOW, Project

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def axe_source(pytestconfig: pytest.Config) -> str:
    return browser.axe_source(pytestconfig)


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    with browser.chrome(tmp_path / "chrome-profile", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--window-size=1000,1400") as d:
        yield d


@pytest.fixture
def served(project: Project) -> Iterator[tuple[str, SmtpTestServer]]:
    """`herald serve` (a subprocess) whose email channel is a real aiosmtpd sink."""
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    with SmtpTestServer() as sink:
        channels = project.config / "channels.yaml"
        text = channels.read_text(encoding="utf-8").replace(
            "  email:\n    type: file                           # writes one .eml file per "
            "message\n    path: var/outbox/email",
            f"  email:\n    type: smtp\n    host: 127.0.0.1\n    port: {sink.port}\n"
            "    security: none\n    from: \"ITU Academy <academy@example.org>\"")
        channels.write_text(text, encoding="utf-8")
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "--config-dir", str(project.config),
             "--db", project.db_url, "--now", DEMO_NOW, "serve", "--port", str(port)],
            cwd=project.root, stderr=subprocess.PIPE, text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(base)
            yield base, sink
        finally:
            proc.terminate()
            assert proc.wait(timeout=15) == 0  # SIGTERM exits 0


def _wait_for(base: str) -> None:
    import urllib.request

    for _ in range(100):
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("herald serve did not start")


def _mail_link(sink: SmtpTestServer, count: int, route: str) -> str:
    deadline = time.monotonic() + 10  # "within seconds", with no daemon running
    while len(sink.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sink.received) >= count, "no email arrived"
    body = sink.received[count - 1].message().get_body(("plain",))
    assert body is not None
    found = re.search(rf"http://localhost:8080(/{route}/\S+)", body.get_content())
    assert found
    return found.group(1)


def _check_page(d: Any, axe: str, shots: Path, name: str, lang: str) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation; the screenshot shows the page's direction."""
    from selenium.webdriver.common.by import By

    drv = d
    drv.execute_script(axe)
    result = drv.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' ' +"
        " v.nodes.map(n => n.target.join(' ')).join(', '))))"
        ".catch(e => done(['axe failed: ' + e]));", WCAG)
    assert result == [], f"{name}: {result}"
    html = drv.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("lang") == lang
    direction = "rtl" if lang == "ar" else "ltr"
    assert html.get_attribute("dir") == direction
    h1 = drv.find_element(By.TAG_NAME, "h1")
    assert bool(re.search("[\u0600-\u06ff]", h1.text)) == (lang == "ar"), h1.text
    main = drv.find_element(By.TAG_NAME, "main")
    assert drv.execute_script(
        "return getComputedStyle(arguments[0]).direction", h1) == direction
    # The heading hugs the start edge: the right one in Arabic, the left one otherwise.
    text_box = drv.execute_script(
        "const r = document.createRange(); r.selectNodeContents(arguments[0]);"
        "const b = r.getBoundingClientRect(); return [b.left, b.right];", h1)
    m = main.rect
    gap_left, gap_right = text_box[0] - m["x"], m["x"] + m["width"] - text_box[1]
    assert (gap_right < gap_left) if lang == "ar" else (gap_left < gap_right), name
    shot = shots / f"{lang}-{name}.png"
    assert drv.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_subscribe_confirm_preferences_unsubscribe(
        lang: str, driver: Any, served: tuple[str, SmtpTestServer], axe_source: str,
        project: Project, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    d = driver
    base, sink = served
    shots = tmp_path / "screenshots"
    shots.mkdir()
    email = f"browser-{lang}@example.org"

    d.get(f"{base}/subscribe?lang={lang}")
    _check_page(d, axe_source, shots, "subscribe", lang)
    d.find_element(By.ID, "email").send_keys(email)
    d.find_element(By.CSS_SELECTOR, 'input[name="regions"][value="Arab States"]').click()
    d.find_element(By.CSS_SELECTOR, f'select[name="language"] option[value="{lang}"]').click()
    d.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
    _check_page(d, axe_source, shots, "subscribed", lang)

    d.get(base + _mail_link(sink, 1, "confirm"))
    _check_page(d, axe_source, shots, "confirm", lang)
    d.find_element(By.CSS_SELECTOR, "main form button").click()
    _check_page(d, axe_source, shots, "confirmed", lang)

    d.get(f"{base}/p?lang={lang}")
    _check_page(d, axe_source, shots, "ask-link", lang)
    d.find_element(By.ID, "email").send_keys(email)
    d.find_element(By.CSS_SELECTOR, "main form button").click()
    _check_page(d, axe_source, shots, "link-sent", lang)
    d.get(base + _mail_link(sink, 2, "p"))
    _check_page(d, axe_source, shots, "preferences", lang)
    d.find_element(By.CSS_SELECTOR, 'input[name="frequency"][value="weekly"]').click()
    d.find_element(By.CSS_SELECTOR, 'button[value="save"]').click()
    _check_page(d, axe_source, shots, "preferences-saved", lang)

    engine = make_engine(project.db_url)
    with engine.connect() as conn:
        p = conn.execute(select(Participant).where(Participant.email == email)).one()
    assert (p.status, p.frequency, p.language, p.consent_source) == (
        "active", "weekly", lang, "web")
    key = (project.root / "var" / "signing.key").read_bytes().strip()
    d.get(base + unsubscribe_url("", key, p.id, email, "announce"))
    _check_page(d, axe_source, shots, "unsubscribe", lang)
    d.find_element(By.CSS_SELECTOR, "main form button").click()
    _check_page(d, axe_source, shots, "unsubscribed", lang)
    with engine.connect() as conn:
        status = conn.execute(select(Participant.status).where(Participant.id == p.id)).scalar()
    engine.dispose()
    assert status == "unsubscribed"
    d.get(f"{base}/u/not-a-token?lang={lang}")  # the 400 page of a bad link
    _check_page(d, axe_source, shots, "bad-link", lang)
    assert len(list(shots.glob("*.png"))) == 11
