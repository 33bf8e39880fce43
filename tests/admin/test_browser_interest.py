"""The `/i/` form in headless Chromium, as a contact uses it from a catalogue email: the
button's number is in the form, sending records it, "change" and "withdraw" work, all
without JavaScript and with the CSRF cookie a real browser keeps."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.serving import make_server

from scheduler.app import App
from scheduler.rendering import default_templates_dir
from scheduler.web import interest, submission
from tests import browser as browser_harness
from tests.admin.helpers import NOW, emails, part, setup
from tests.conftest import Project

By = pytest.importorskip("selenium.webdriver.common.by").By


@pytest.fixture
def server(project: Project) -> Iterator[str]:
    """The blueprints served over HTTP on loopback (the app factory of `herald serve`
    registers the same ones); its base URL."""
    setup(project)
    assert project.run("send-now", "--campaign", "catalogue", now=NOW).code == 0
    app = App(project.config, project.db_url, datetime(2027, 1, 20, 10, tzinfo=UTC))
    flask = Flask("herald-browser-test", template_folder=str(default_templates_dir()))
    flask.config.update(SECRET_KEY="test-only", WTF_CSRF_TIME_LIMIT=None)
    flask.extensions["herald"] = app
    CSRFProtect(flask)
    flask.register_blueprint(interest.bp)
    flask.register_blueprint(submission.bp)
    httpd = make_server("127.0.0.1", 0, flask, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)
    app.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    # JavaScript off: the pages must work without it.
    with browser_harness.chrome(
            tmp_path / "chrome-profile",
            prefs={"profile.managed_default_content_settings.javascript": 2}) as driver:
        yield driver


def test_a_contact_answers_changes_and_withdraws_in_a_browser(
        project: Project, server: str, browser: object) -> None:
    d = browser
    msg = next(m for m in emails(project, "catalogue").values()
               if "hr.training@mict.example.org" in m["To"])
    html = part(msg, "html")
    link = next(u for u in _hrefs(html) if "/i/" in u and u.endswith("participants=5"))
    d.get(link.replace("http://localhost:8080", server))  # type: ignore[attr-defined]
    field = d.find_element(By.ID, "participants")  # type: ignore[attr-defined]
    assert field.get_attribute("value") == "5"
    assert d.find_element(By.CSS_SELECTOR, "label[for=participants]").text  # type: ignore[attr-defined]
    d.find_element(By.ID, "comment").send_keys("Regulators of two agencies")  # type: ignore[attr-defined]
    _go(d, By.CSS_SELECTOR, "button[value=save]")
    assert "recorded" in d.find_element(By.TAG_NAME, "h1").text  # type: ignore[attr-defined]
    rows = project.run("interest", "list", "--json").json()
    assert [(r["participants"], r["comment"]) for r in rows] == [  # type: ignore[union-attr,index]
        (5, "Regulators of two agencies")]

    _go(d, By.LINK_TEXT, "Change my answer")
    field = d.find_element(By.ID, "participants")  # type: ignore[attr-defined]
    assert field.get_attribute("value") == "5"
    field.clear()
    field.send_keys("8")
    _go(d, By.CSS_SELECTOR, "button[value=save]")
    rows = project.run("interest", "list", "--json").json()
    assert [r["participants"] for r in rows] == [8]  # type: ignore[union-attr,index]

    _go(d, By.CSS_SELECTOR, "button[value=withdraw]")
    assert "withdrawn" in d.find_element(By.TAG_NAME, "h1").text  # type: ignore[attr-defined]
    assert project.run("interest", "list", "--json").json() == []


def _go(d: object, by: str, what: str) -> None:
    """Click the element and wait until the next page has replaced this one."""
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    page = d.find_element(By.TAG_NAME, "html")  # type: ignore[attr-defined]
    d.find_element(by, what).click()  # type: ignore[attr-defined]
    WebDriverWait(d, 20).until(ec.staleness_of(page))  # type: ignore[arg-type]


def _hrefs(html: str) -> list[str]:
    import re

    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html)]
