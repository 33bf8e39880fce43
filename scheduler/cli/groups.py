"""The command groups that register themselves: each module has `register(subparsers)`.

A new command group is a new module in this package and one line here.
"""

from __future__ import annotations

from types import ModuleType

from scheduler.cli import (
    articles,
    bounces,
    brochure,
    centres,
    contacts,
    engagement,
    interest,
    report,
    serve,
)

GROUPS: list[ModuleType] = [contacts, centres, interest, articles, brochure, serve, report,
                            bounces, engagement]
