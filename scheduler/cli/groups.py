"""The command groups that register themselves: each module has `register(subparsers)`.

A new command group is a new module in this package and one line here.
"""

from __future__ import annotations

from types import ModuleType

from scheduler.cli import brochure, serve

GROUPS: list[ModuleType] = [brochure, serve]
