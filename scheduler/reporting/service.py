"""What `herald report` does: the report over the chosen period, with its warnings."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from scheduler.app import App
from scheduler.reporting.metrics import METRICS, Report, build
from scheduler.reporting.reputation import measure

TABLE_METRICS = ("sent", "delivered", "failed", "bounced", "complained", "clicked",
                 "click_rate", "unsubscribed", "interest", "emails", "posts")


def make_report(app: App, *, by: list[str], since: datetime | None,
                until: datetime | None) -> Report:
    """The report, plus a warning when the complaint rate of the last 7 days is high."""
    with app.sessions() as s:
        report = build(s, by=by, since=since, until=until)
        warning = measure(s, app.clock()).warning()
    if warning:
        report.warnings.append(warning)
    return report


def fmt(name: str, value: object) -> str:
    """A metric as the table and the HTML show it (rates as percentages)."""
    if value is None:
        return "–"
    if name.endswith("_rate"):
        return f"{float(value):.1%}" if isinstance(value, float | int) else str(value)
    return str(value)


def write_csv(report: Report, path: Path) -> None:
    """The rows, then a TOTAL row; written to a temporary file and renamed (never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*report.by, *METRICS])
        for row in report.rows:
            writer.writerow([*(row[b] for b in report.by), *(_csv(row[m]) for m in METRICS)])
        label = ["TOTAL", *([""] * (len(report.by) - 1))] if report.by else []
        writer.writerow([*label, *(_csv(report.totals[m]) for m in METRICS)])
    tmp.replace(path)


def _csv(value: object) -> object:
    return "" if value is None else round(value, 6) if isinstance(value, float) else value
