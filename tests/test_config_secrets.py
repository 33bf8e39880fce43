"""Secrets kept out of logs (the redaction filter), and the link-signing key."""

from __future__ import annotations

import io
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from channels.secrets import scrub as redact_text
from scheduler.config import ConfigError, Settings, install_redaction, signing_key_bytes

SECRET = "s3cr3t-Value/with+chars"


# -- redaction ----------------------------------------------------------------------------------


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        install_redaction([])


def test_redaction_filter_on_real_records(log_stream: io.StringIO) -> None:
    log = logging.getLogger("herald.test")
    log.setLevel(logging.INFO)
    install_redaction([SECRET, ""])
    install_redaction([SECRET, ""])  # idempotent: one filter per handler
    handler = logging.getLogger().handlers[-1]
    assert len(handler.filters) == 1

    log.warning("token %s refused", SECRET)
    log.warning("dict %(token)s", {"token": SECRET})
    log.warning("quoted %s", SECRET.replace("/", "%2F").replace("+", "%2B"))
    try:
        raise RuntimeError(f"auth failed with {SECRET}")
    except RuntimeError:
        log.exception("send failed")
    out = log_stream.getvalue()
    assert SECRET not in out and "s3cr3t" not in out
    assert "token *** refused" in out and "dict ***" in out and "quoted ***" in out
    assert "RuntimeError: auth failed with ***" in out

    install_redaction(["other-secret"])  # a reload replaces the set
    log.warning("now %s and other-secret", SECRET)
    assert log_stream.getvalue().splitlines()[-1] == f"WARNING now {SECRET} and ***"


def test_redact_hides_the_longest_secret_whole() -> None:
    assert redact_text("abcd abcdef", {"abcd", "abcdef"}) == "*** ***"
    assert redact_text("a%2Fb%2Fc and a/b/c", {"a/b/c"}) == "*** and ***"  # URL-quoted too


# -- signing key --------------------------------------------------------------------------------


def _settings(key: str | None = None) -> Settings:
    return Settings.model_validate(
        {
            "base_url": "http://localhost:8080",
            "signing_key": key,
            "sender": {"name": "ITU Academy", "email": "academy@example.org"},
        }
    )


def test_signing_key_configured_or_generated_once(tmp_path: Path) -> None:
    assert signing_key_bytes(_settings("configured"), tmp_path) == b"configured"
    assert not (tmp_path / "signing.key").exists()

    state = tmp_path / "var"
    key = signing_key_bytes(_settings(), state)
    assert len(key) == 64
    assert stat.S_IMODE(os.stat(state / "signing.key").st_mode) == 0o600
    assert signing_key_bytes(_settings(), state) == key
    assert list(state.iterdir()) == [state / "signing.key"]  # no temporary file left

    (state / "signing.key").write_text("short\n")
    with pytest.raises(ConfigError, match="signing key file is too short"):
        signing_key_bytes(_settings(), state)
