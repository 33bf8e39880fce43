"""Where the dispatcher lived before `scheduler.dispatch`: its names, for older imports."""

from __future__ import annotations

from scheduler.dispatch import Dispatcher, DispatchFilter, channel_config_hash

__all__ = ["DispatchFilter", "Dispatcher", "channel_config_hash"]
