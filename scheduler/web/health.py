"""`/healthz`: 200 while the database answers."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from scheduler.web.pages import herald

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    try:
        with herald().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return "database unavailable\n", 503, {"Content-Type": "text/plain; charset=utf-8"}
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
