"""An HTTP channel whose API presents a certificate that fails verification needs attention
(AUTH: the channel halts) instead of retrying per post; `ca_file` trusts a private CA.
A real loopback HTTPS server with a self-signed certificate stands in for Mastodon."""

from __future__ import annotations

import json
import shutil
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from channels.base import DeliveryStatus
from channels.mastodon import MastodonChannel
from tests.channels.contract import make_message
from tests.channels.smtp_server import make_certificate


class Statuses(BaseHTTPRequestHandler):
    posts = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Statuses.posts += 1
        body = json.dumps({"id": "1", "uri": "u", "url": "https://m.example/@itu/1",
                           "content": "<p>x</p>", "created_at": "2027-03-01T09:00:00Z"})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def https(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available")
    cert, key = make_certificate(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Statuses)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def test_untrusted_api_certificate_needs_attention_until_ca_file(
        https: tuple[str, Path]) -> None:
    base, cert = https
    Statuses.posts = 0
    raw = {"type": "mastodon", "base_url": base, "token": "tok-12345"}
    with MastodonChannel.from_config("mastodon", raw) as ch:
        result = ch.send(make_message())
    assert result.status is DeliveryStatus.AUTH
    assert result.error is not None and "CERTIFICATE_VERIFY_FAILED" in result.error
    assert Statuses.posts == 0
    with MastodonChannel.from_config("mastodon", {**raw, "ca_file": str(cert)}) as ch:
        result = ch.send(make_message())
    assert result.status is DeliveryStatus.SENT, result.error
    assert Statuses.posts == 1
