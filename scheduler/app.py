"""Wiring: one `App` per command run holds config, database, channels and services."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from channels.base import Channel
from scheduler.clock import Clock
from scheduler.config import HeraldConfig, install_redaction, load_config, signing_key_bytes
from scheduler.db import (
    DEFAULT_DATABASE_URL,
    ensure_schema,
    holds_no_rows,
    make_engine,
    session_factory,
    sqlite_file,
)

if TYPE_CHECKING:
    from scheduler.dispatch import Dispatcher
    from scheduler.messages import MessageBuilder
    from scheduler.outbox import Leases, RetryTiming
    from scheduler.planner import Planner


@dataclass(frozen=True)
class Configured:
    """The configuration in force and the channels built from it (None: not built yet).

    Swapped whole (`App.reconfigure`), so a reader never sees a config with the other
    one's channels.
    """

    config: HeraldConfig
    channels: Mapping[str, Channel] | None = None


def load_configured(config_dir: Path, *, build_channels: bool = False) -> Configured:
    """Read and validate config/ (and build its enabled channels); ConfigError if bad."""
    cfg = load_config(config_dir)
    install_redaction(cfg.secrets)
    channels = ({name: c.build() for name, c in cfg.channels.items() if c.enabled}
                if build_channels else None)
    return Configured(cfg, channels)


class App:
    """Lazily builds what a command needs; `close()` releases channels and the engine."""

    def __init__(
        self, config_dir: Path, db_url: str | None = None, now: datetime | None = None
    ) -> None:
        self.config_dir = config_dir
        self._db_url = db_url
        self.clock = Clock(now)
        self._configured: Configured | None = None
        self._lock = threading.Lock()
        self._new_file: Path | None = None

    @property
    def config(self) -> HeraldConfig:
        with self._lock:
            if self._configured is None:
                self._configured = load_configured(self.config_dir)
            return self._configured.config

    def loaded_config(self) -> HeraldConfig | None:
        """The configuration if it was read (and valid), without reading it."""
        configured = self._configured
        return configured.config if configured is not None else None

    def reconfigure(self, configured: Configured) -> Mapping[str, Channel]:
        """Put `configured` (config and built channels) in force at once; the channels it
        replaces, for the caller to close once nothing sends through them."""
        with self._lock:
            old = self._configured
            self._configured = configured
        return (old.channels or {}) if old is not None else {}

    @property
    def db_url(self) -> str:
        if self._db_url:
            return self._db_url
        if os.environ.get("HERALD_DATABASE_URL"):
            return os.environ["HERALD_DATABASE_URL"]
        return self.config.settings.database_url or DEFAULT_DATABASE_URL

    @cached_property
    def engine(self) -> Engine:
        file = sqlite_file(self.db_url)
        if file is not None and not file.exists():
            self._new_file = file
        engine = make_engine(self.db_url)
        ensure_schema(engine)
        return engine

    def discard_new_database(self) -> None:
        """After a failed command: remove the SQLite file it created, if nothing is in it."""
        file, self._new_file = self._new_file, None
        if file is None or "engine" not in self.__dict__:
            return
        empty = holds_no_rows(self.engine)
        self.engine.dispose()
        del self.__dict__["engine"]
        self.__dict__.pop("sessions", None)
        if empty:
            for leftover in (file, *(file.with_name(file.name + s) for s in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @property
    def state_dir(self) -> Path:
        """Where local state lives (the signing key when none is configured)."""
        return Path("var")

    def channels(self) -> dict[str, Channel]:
        """Every enabled channel, built once."""
        config = self.config
        with self._lock:
            configured = self._configured
            assert configured is not None
            if configured.channels is None:
                configured = self._configured = Configured(config, {
                    name: cfg.build() for name, cfg in config.channels.items() if cfg.enabled})
            assert configured.channels is not None
            return dict(configured.channels)

    @cached_property
    def signing_key(self) -> bytes:
        return signing_key_bytes(self.config.settings, self.state_dir)

    @cached_property
    def signing_keys(self) -> list[bytes]:
        """The current key first, then `previous_signing_keys`: what a link may be signed
        with (links already sent keep working after a rotation)."""
        older = [k.get_secret_value().encode("utf-8")
                 for k in self.config.settings.previous_signing_keys]
        return [self.signing_key, *older]

    def builder(self) -> MessageBuilder:
        from scheduler.messages import MessageBuilder
        from scheduler.rendering import Renderer

        return MessageBuilder(self.config, Renderer(), self.signing_key)

    def planner(self) -> Planner:
        from scheduler.planner import Planner

        return Planner(self.sessions, self.config)

    def dispatcher(self, *, retry: RetryTiming | None = None,
                   leases: Leases | None = None) -> Dispatcher:
        """A dispatcher over the configuration in force (`retry`: its backoff timing)."""
        from scheduler.dispatch import Dispatcher

        return Dispatcher(self.sessions, self.config, self.channels(), self.builder(),
                          clock=self.clock, retry=retry, leases=leases)

    def close(self) -> None:
        configured = self._configured
        for ch in ((configured.channels if configured is not None else None) or {}).values():
            ch.close()
        if "engine" in self.__dict__:
            self.engine.dispose()
