"""A loopback HTTP server that trickles: one byte a second, in the headers or the body."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BODY = b"id,title\n" + b"x" * 10_000


class Trickle:
    """`start()` it; `url(path)`; `/body` trickles the body, `/headers` the status line."""

    def __init__(self, every: float = 1.0) -> None:
        self.every = every
        self.requests = 0
        self.stopped = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                try:
                    if self.path.startswith("/headers"):
                        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\n":
                            self._drip(bytes([byte]))
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", "text/csv")
                    self.send_header("Content-Length", str(len(BODY)))
                    self.end_headers()
                    for byte in BODY:
                        self._drip(bytes([byte]))
                except OSError:  # the client gave up: as it should
                    return

            def _drip(self, data: bytes) -> None:
                if owner.stopped.is_set():
                    raise OSError("server stopping")
                self.wfile.write(data)
                self.wfile.flush()
                time.sleep(owner.every)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def start(self) -> Trickle:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.httpd.shutdown()
        self.httpd.server_close()
