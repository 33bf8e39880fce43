"""One-off passes an operator starts: plan what is due, or plan and dispatch it all now."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from scheduler import queries
from scheduler.channel_admin import check_templates
from scheduler.db_stats import after_planning
from scheduler.durability import dispatch_refusal
from scheduler.filter import Filter
from scheduler.planning.summary import summary_after

if TYPE_CHECKING:
    from datetime import datetime

    from scheduler.app import App
    from scheduler.planning.common import PlanReport as Planned


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
    cadence: list[dict[str, Any]] = field(default_factory=list)
    """Per person, the course emails cadence holds back and when they go."""


OUTCOME_REASONS: dict[str, tuple[str, str]] = {
    "held": ("pending", "held until its sending window or posting slot"),
    "skipped": ("pending", "not started: the run stopped or the channel halted"),
    "auth": ("pending", "credentials refused: the channel needs attention"),
}
"""Dispatch outcomes that are not delivery states: the state each is left in, and why."""


@dataclass
class SendReport:
    """What `send-now` planned and how each dispatched delivery ended, per channel and state
    (a DESIGN.md delivery state, with a reason where it was not sent for a reason)."""

    planned: int
    dispatched: list[dict[str, Any]]
    recovered_unknown: int = 0
    trouble: list[str] = field(default_factory=list)
    """What a monitor must see (exit 3): a channel needing attention, or one on which
    deliveries were due and none could be sent (all left retrying)."""

    @property
    def total(self) -> int:
        return sum(int(r["count"]) for r in self.dispatched)


def _planned_rows(planned: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    return [{"campaign": c, "channel": ch, "planned": n} for (c, ch), n in sorted(planned.items())]


def plan(app: App, *, dry_run: bool = False) -> PlanReport:
    """Plan what is due now; the outbox afterwards and the posting calendar."""
    from scheduler.cadence.view import held_back
    from scheduler.calendar import upcoming_posts

    now = app.clock()
    before = queries.queue(app, now)  # the summary after is this plus what the pass wrote
    report = _plan_checking_templates(app, now, dry_run)
    if not dry_run:
        after_planning(app.engine, report.total)
    with app.sessions() as s:
        cadence = held_back(s, app.config, now)
        queue = summary_after(s, before, {} if dry_run else report.planned, now)
    return PlanReport(now, dry_run, report.total, _planned_rows(report.planned),
                      queue, upcoming_posts(app, now), cadence)


def _plan_checking_templates(app: App, now: datetime, dry_run: bool) -> Planned:
    """The Planner pass at `now`, the templates checked meanwhile on a thread of their own
    (Python work while the pass waits on the database); a broken template raises its
    InputError before the pass commits, so nothing is written, as when checked first."""
    planner = app.planner()  # the configuration loaded here, once, for both
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="herald-templates") as pool:
        checked = pool.submit(check_templates, app)
        try:
            return planner.plan(now, dry_run=dry_run, before_commit=checked.result)
        except Exception:
            problem = checked.exception()
            if problem is not None:  # what checking first would have said
                raise problem from None
            raise


def preview(app: App, scope: Scope) -> PlanReport:
    """What `send-now` would plan, and what is already due in the outbox; nothing written."""
    check_templates(app)
    now = app.clock()
    report = app.planner().plan(now, only=Filter(scope.campaign, scope.course, scope.channel),
                                dry_run=True)
    due = [q for q in queries.queue(app, now) if q["due_now"]]
    return PlanReport(now, True, report.total, _planned_rows(report.planned), due)


class Progress(Protocol):
    """Told how a send-now goes: the deliveries due per channel, then each message's outcome
    as it happens (from the send threads; a bundled email is one message carrying several
    deliveries), then the end with the deliveries settled per (channel, state)."""

    def start(self, due: dict[str, int]) -> None: ...

    def advance(self, channel: str, state: str) -> None: ...

    def stop(self, settled: Counter[tuple[str, str]]) -> None: ...


def due_now(app: App, scope: Scope) -> dict[str, int]:
    """Deliveries due now per channel (in `scope`'s channel)."""
    due: Counter[str] = Counter()
    for row in queries.queue(app, app.clock()):
        if row["due_now"] and scope.channel in (None, row["channel"]):
            due[row["channel"]] += int(row["count"])
    return dict(due)


def send_now(app: App, scope: Scope, progress: Progress | None = None) -> SendReport:
    """Settle interrupted sends, plan what is due in `scope`, dispatch it, and report."""
    check_templates(app)
    now = app.clock()
    planner = app.planner()
    refused = dispatch_refusal(app.engine, app.config.settings.accept_non_durable_commits)
    if refused is not None:  # plan, but dispatch nothing on commits that are not durable
        report = planner.plan(now, only=Filter(scope.campaign, scope.course, scope.channel))
        after_planning(app.engine, report.total)
        return SendReport(report.total, [], 0, [refused])
    dispatcher = app.dispatcher()
    recovered = dispatcher.recover()
    report = planner.plan(now, only=Filter(scope.campaign, scope.course, scope.channel))
    after_planning(app.engine, report.total)
    if progress is not None:
        progress.start(due_now(app, scope))
        dispatcher.on_outcome = lambda channel, state, _seconds: progress.advance(channel, state)
    first_event = queries.last_event_id(app)
    settled: Counter[tuple[str, str]] = Counter()
    try:
        outcome = dispatcher.run_once(Filter(scope.campaign, scope.course, scope.channel))
        settled = queries.settled_since(app, first_event, scope.channel)
    finally:
        if progress is not None:
            progress.stop(settled)
    return SendReport(report.total, summary(outcome, settled), recovered.get("unknown", 0),
                      _trouble(app, scope, outcome))


def summary(outcome: Counter[tuple[str, str]],
            settled: Counter[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """Dispatch outcomes as rows of channel, delivery state, reason (or none) and count (of
    messages: one bundled email is one), with the `deliveries` settled in that state (from
    `settled`, by channel and state) where the row is a state this run left deliveries in."""
    rows: Counter[tuple[str, str, str]] = Counter()
    for (channel, label), n in outcome.items():
        state, reason = OUTCOME_REASONS.get(label, (label, ""))
        rows[(channel, state, reason)] += n
    settled = settled or Counter()
    return [{"channel": ch, "state": st, **({"reason": why} if why else {}), "count": n,
             **({} if why or not settled[(ch, st)] else {"deliveries": settled[(ch, st)]})}
            for (ch, st, why), n in sorted(rows.items())]


def _trouble(app: App, scope: Scope, outcome: Counter[tuple[str, str]]) -> list[str]:
    """Channels needing attention; channels on which this run sent nothing and left what
    was due retrying; and channels still failing from an earlier run (their retries wait)."""
    problems = queries.needing_attention(app, scope.channel)
    stalled = set()
    for channel in sorted({ch for ch, _ in outcome}):
        left = outcome[(channel, "retrying")]
        if left and not outcome[(channel, "sent")]:
            stalled.add(channel)
            problems.append(f"channel {channel}: {left} deliveries were due and none could be"
                            " sent (all left retrying)")
    problems += [f"channel {name}: {n} deliveries left retrying, the last attempt failed"
                 for name, n in queries.failing_channels(app).items()
                 if name not in stalled and scope.channel in (None, name)]
    return problems
