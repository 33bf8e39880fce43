"""`herald serve` as a process: waitress answers, SIGTERM exits 0; the one-click
unsubscribe's statements use indexes."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

from sqlalchemy import text

from tests.channels.smtp_server import free_port
from tests.conftest import Project
from tests.web.conftest import Web


def test_serve_answers_and_exits_0_on_sigterm(project: Project) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "--config-dir", str(project.config),
         "--db", project.db_url, "serve", "--port", str(port), "--trusted-proxy", "127.0.0.1"],
        cwd=project.root, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/subscribe") as r:
                    assert r.status == 200
                    assert r.headers["Server"] == "herald"  # waitress, not a dev server
                    assert r.headers["X-Frame-Options"] == "DENY"
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("herald serve did not answer")
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0
    assert f"127.0.0.1:{port}" in (proc.stderr.read() if proc.stderr else "")


def test_one_click_statements_use_indexes(web: Web) -> None:
    with web.app.engine.connect() as conn:
        plans = [" ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {q}")))
                 for q in (
            "UPDATE deliveries SET state='cancelled' WHERE participant_id=1"
            " AND state IN ('pending','retrying')",
            "SELECT id FROM deliveries WHERE participant_id=1 AND campaign='a'"
            " ORDER BY id DESC LIMIT 1",
            "SELECT id, sent_at FROM deliveries WHERE dedup_key='x'",
        )]
    for plan in plans:
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan


def test_rate_limits_count_each_client_behind_a_trusted_proxy(project: Project) -> None:
    import re
    from http.cookiejar import CookieJar
    from urllib.error import HTTPError
    from urllib.parse import urlencode

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "--config-dir", str(project.config),
         "--db", project.db_url, "serve", "--port", str(port), "--trusted-proxy", "127.0.0.1"],
        cwd=project.root, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def post(email: str, client: str) -> int:
        head = {"X-Forwarded-For": client}
        page = opener.open(urllib.request.Request(f"{base}/subscribe", headers=head))
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())
        assert found
        data = urlencode({"csrf_token": found.group(1), "email": email,
                          "frequency": "immediate"}).encode()
        try:
            with opener.open(urllib.request.Request(f"{base}/subscribe", data=data,
                                                    headers=head)) as r:
                return int(r.status)
        except HTTPError as exc:
            return exc.code

    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz").close()
                break
            except OSError:
                time.sleep(0.1)
        codes = [post(f"a{i}@example.org", "203.0.113.1") for i in range(11)]
        assert codes == [200] * 10 + [429]
        assert post("b@example.org", "203.0.113.2") == 200  # another client behind the proxy
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0
