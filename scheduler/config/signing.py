"""The HMAC key for unsubscribe, preference and interest links."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

from scheduler.config.models import Settings
from scheduler.config.yamldoc import display_path
from scheduler.errors import ConfigError

log = logging.getLogger(__name__)

KEY_FILE = "signing.key"
_MIN_LENGTH = 32


def signing_key_bytes(settings: Settings, state_dir: Path) -> bytes:
    """The configured signing key; else a random one generated once in `state_dir/signing.key`.

    The generated key (mode 0600) lets the demo run without environment variables, and stays
    the same across runs so links already sent keep working. Two processes starting at once
    agree on one key: the file is linked into place only if it does not exist yet.
    """
    if settings.signing_key is not None:
        return settings.signing_key.get_secret_value().encode("utf-8")
    path = Path(state_dir) / KEY_FILE
    if not path.exists():
        _create(path)
    key = path.read_bytes().strip()
    if len(key) < _MIN_LENGTH:
        raise ConfigError(
            [f"{display_path(path)}: signing key file is too short; delete it to make a new one"]
        )
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s is readable by other users; chmod 600 it", display_path(path))
    return key


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_hex(32).encode("ascii") + b"\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # atomic, and refuses to replace a key another process made
    finally:
        tmp.unlink(missing_ok=True)
