from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bounces.imap_server import DovecotServer


@pytest.fixture
def imap() -> Iterator[DovecotServer]:
    """A dovecot of its own in a throwaway folder (readable by dovecot's own users when
    the tests run as root: pytest's temporary folders are private to root)."""
    if shutil.which("dovecot") is None and not Path("/usr/sbin/dovecot").exists():
        pytest.skip("dovecot-imapd is not installed (scripts/install-system-packages.sh)")
    root = Path(tempfile.mkdtemp(prefix="herald-imap-"))
    os.chmod(root, 0o755)
    server = DovecotServer(root / "srv").start()
    try:
        yield server
    finally:
        server.stop()
        if not os.environ.get("KEEP_IMAP"):
            shutil.rmtree(root, ignore_errors=True)
