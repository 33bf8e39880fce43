"""Fixtures of the channel tests: a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.channels.smtp_server import SmtpTestServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """An aiosmtpd server on 127.0.0.1 that accepts everything unless scripted otherwise."""
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def smtp_auth_server() -> Iterator[SmtpTestServer]:
    """The same, requiring AUTH as `herald` / `s3cret-Pa55`."""
    with SmtpTestServer(auth=("herald", "s3cret-Pa55")) as server:
        yield server
