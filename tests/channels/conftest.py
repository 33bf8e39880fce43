"""Fixtures of the channel tests: a real SMTP server on loopback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.channels.smtp_server import SmtpTestServer, make_certificate


@pytest.fixture(params=[False, True], ids=["lockstep", "pipelining"])
def smtp_server(request: pytest.FixtureRequest) -> Iterator[SmtpTestServer]:
    """An aiosmtpd server on 127.0.0.1 that accepts everything unless scripted otherwise.

    Every test runs twice: against a server without PIPELINING (one command, one reply)
    and against one that offers it (the envelope in one write).
    """
    with SmtpTestServer(pipelining=request.param) as server:
        yield server


@pytest.fixture
def smtp_auth_server() -> Iterator[SmtpTestServer]:
    """The same, requiring AUTH as `herald` / `s3cret-Pa55`."""
    with SmtpTestServer(auth=("herald", "s3cret-Pa55")) as server:
        yield server


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed (cert, key) for 127.0.0.1; skips when the openssl CLI is missing."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available")
    return make_certificate(tmp_path_factory.mktemp("tls"))
