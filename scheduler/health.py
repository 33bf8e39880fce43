"""`/healthz` and `/metrics` over HTTP, and the checks behind `/healthz`.

Healthy means: the scheduler runs, each job's last good tick is recent (three of its
intervals plus some slack, or it is running right now), and the database answers a
`SELECT 1` within a timeout. Anything else is 503 with the failing check named.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

TICK_SLACK = 10.0  # seconds allowed on top of three intervals
DB_TIMEOUT = 3.0


@dataclass
class JobTicks:
    """Per job: its interval, last successful tick and the start of a tick under way."""

    started_at: float = field(default_factory=time.time)
    every: dict[str, float] = field(default_factory=dict)
    last_ok: dict[str, float] = field(default_factory=dict)
    running: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, now: float) -> tuple[bool, dict[str, Any]]:
        ok = True
        out: dict[str, Any] = {}
        with self.lock:
            for job, every in self.every.items():
                limit = 3 * every + TICK_SLACK
                last = self.last_ok.get(job)
                age = now - (last if last is not None else self.started_at)
                # A long drain (thousands of emails) is progress, not a stall.
                busy = job in self.running and now - self.running[job] < max(limit, 900)
                fresh = age <= limit or busy
                ok = ok and fresh
                out[job] = {"ok": fresh, "last_ok_age_s": round(age, 1) if last else None,
                            "limit_s": limit, "running": job in self.running}
        return ok, out


def database_check(engine: Engine, timeout: float = DB_TIMEOUT) -> tuple[bool, str]:
    """`SELECT 1` within `timeout` seconds; (ok, detail)."""

    def probe() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="healthz-db")
    try:
        pool.submit(probe).result(timeout=timeout)
        return True, "ok"
    except FutureTimeout:
        return False, f"no answer within {timeout:g}s"
    except Exception as exc:
        # The driver's message may carry the URL; the exception type is enough here.
        return False, f"{type(exc).__name__}"
    finally:
        pool.shutdown(wait=False)


class _QuietServer(ThreadingHTTPServer):
    """A client that disconnects mid-request is logged at DEBUG, not as a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, TimeoutError)):
            log.debug("http: %s disconnected: %s", client_address, type(exc).__name__)
            return
        log.error("http: error serving %s", client_address, exc_info=True)


class HealthServer:
    """Serves /healthz and /metrics from a daemon thread until `stop()`."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry,
                 health: Callable[[], tuple[bool, dict[str, Any]]]) -> None:
        self.registry = registry
        self.health = health
        handler = self._handler()
        self.httpd = _QuietServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="httpd",
                                       daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    ok, checks = server.health()
                    failing = [k for k, v in checks.items() if not v.get("ok", False)]
                    body = json.dumps({"status": "ok" if ok else "failing",
                                       "failing": failing, "checks": checks}).encode()
                    self._send(200 if ok else 503, "application/json", body)
                elif path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(server.registry))
                else:
                    self._send(404, "text/plain", b"not found: try /healthz or /metrics\n")

            def _send(self, code: int, ctype: str, body: bytes) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    # The client left before the answer (a probe's timeout): not an error.
                    log.debug("http: client disconnected before the answer to %s", self.path)
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("http: " + format, *args)

        return Handler
