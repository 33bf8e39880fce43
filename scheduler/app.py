"""Wiring: one `App` per command run holds config, database, channels and services."""

from __future__ import annotations

import os
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from channels.base import Channel
from scheduler.clock import Clock
from scheduler.config import HeraldConfig, install_redaction, load_config, signing_key_bytes
from scheduler.db import DEFAULT_DATABASE_URL, ensure_schema, make_engine, session_factory

if TYPE_CHECKING:
    from scheduler.dispatcher import Dispatcher
    from scheduler.messages import MessageBuilder
    from scheduler.planner import Planner


class App:
    """Lazily builds what a command needs; `close()` releases channels and the engine."""

    def __init__(
        self, config_dir: Path, db_url: str | None = None, now: datetime | None = None
    ) -> None:
        self.config_dir = config_dir
        self._db_url = db_url
        self.clock = Clock(now)
        self._channels: dict[str, Channel] | None = None

    @cached_property
    def config(self) -> HeraldConfig:
        cfg = load_config(self.config_dir)
        install_redaction(cfg.secrets)
        return cfg

    @property
    def db_url(self) -> str:
        if self._db_url:
            return self._db_url
        if os.environ.get("HERALD_DATABASE_URL"):
            return os.environ["HERALD_DATABASE_URL"]
        return self.config.settings.database_url or DEFAULT_DATABASE_URL

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.db_url)
        ensure_schema(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @property
    def state_dir(self) -> Path:
        """Where local state lives (the signing key when none is configured)."""
        return Path("var")

    def channels(self) -> dict[str, Channel]:
        """Every enabled channel, built once."""
        if self._channels is None:
            self._channels = {
                name: cfg.build() for name, cfg in self.config.channels.items() if cfg.enabled
            }
        return self._channels

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

    def dispatcher(self) -> Dispatcher:
        from scheduler.dispatcher import Dispatcher

        return Dispatcher(self.sessions, self.config, self.channels(), self.builder(),
                          clock=self.clock)

    def close(self) -> None:
        for ch in (self._channels or {}).values():
            ch.close()
        if "engine" in self.__dict__:
            self.engine.dispose()
