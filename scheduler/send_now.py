"""One-off passes an operator starts: plan what is due, or plan and dispatch it all now."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scheduler import queries

if TYPE_CHECKING:
    from datetime import datetime

    from scheduler.app import App


@dataclass(frozen=True)
class Scope:
    """What a pass is limited to (none: everything)."""

    campaign: str | None = None
    course: str | None = None
    channel: str | None = None


@dataclass
class PlanReport:
    """What a planning pass planned (or would plan), and the outbox after it."""

    now: datetime
    dry_run: bool
    total: int
    planned: list[dict[str, Any]]
    queue: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SendReport:
    """What `send-now` planned and how each dispatched delivery ended, per channel and state."""

    planned: int
    dispatched: list[dict[str, Any]]
    recovered_unknown: int = 0

    @property
    def total(self) -> int:
        return sum(int(r["count"]) for r in self.dispatched)


def _planned_rows(planned: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    return [{"campaign": c, "channel": ch, "planned": n} for (c, ch), n in sorted(planned.items())]


def plan(app: App, *, dry_run: bool = False) -> PlanReport:
    """Plan what is due now; the outbox afterwards and the posting calendar."""
    from scheduler.calendar import upcoming_posts

    now = app.clock()
    report = app.planner().plan(now, dry_run=dry_run)
    return PlanReport(now, dry_run, report.total, _planned_rows(report.planned),
                      queries.queue(app, now), upcoming_posts(app, now))


def preview(app: App, scope: Scope) -> PlanReport:
    """What `send-now` would plan, and what is already due in the outbox; nothing written."""
    from scheduler.planner import PlanFilter

    now = app.clock()
    report = app.planner().plan(now, only=PlanFilter(scope.campaign, scope.course, scope.channel),
                                dry_run=True)
    due = [q for q in queries.queue(app, now) if q["due_now"]]
    return PlanReport(now, True, report.total, _planned_rows(report.planned), due)


def send_now(app: App, scope: Scope) -> SendReport:
    """Settle interrupted sends, plan what is due in `scope`, dispatch it, and report."""
    from scheduler.dispatcher import DispatchFilter
    from scheduler.planner import PlanFilter

    now = app.clock()
    planner = app.planner()
    dispatcher = app.dispatcher()
    recovered = dispatcher.recover()
    report = planner.plan(now, only=PlanFilter(scope.campaign, scope.course, scope.channel))
    outcome = dispatcher.run_once(DispatchFilter(scope.campaign, scope.course, scope.channel))
    rows = [{"channel": ch, "state": st, "count": n} for (ch, st), n in sorted(outcome.items())]
    return SendReport(report.total, rows, recovered.get("unknown", 0))
