"""`herald db`: the database schema."""

from __future__ import annotations

import argparse
from typing import Any

from scheduler.app import App


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="create or migrate the schema").set_defaults(func=upgrade)


def upgrade(app: App, args: argparse.Namespace) -> int:
    from scheduler.db import make_engine
    from scheduler.db import upgrade as upgrade_schema

    engine = make_engine(app.db_url)
    try:
        print(f"database at revision {upgrade_schema(engine)}")
    finally:
        engine.dispose()
    return 0
