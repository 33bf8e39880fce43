"""Whether the database makes a commit durable before it says so: checked before dispatching.

Exactly-once rests on one commit: a delivery is marked `sending` before its send and `sent`
after it. A server that acknowledges a commit it may still lose (PostgreSQL with
`synchronous_commit=off` or `fsync=off`) can forget a `sent` after a crash, and the next
dispatcher sends that message again. So a dispatcher on PostgreSQL refuses such a server,
naming the setting, unless settings.yaml says `accept_non_durable_commits: true`.

The rule on PostgreSQL (the values in force for Herald's own session):
- `fsync` must be `on`;
- `synchronous_commit` must not be `off`; `local` is refused only where synchronous
  standbys are configured (`synchronous_standby_names` set): there the operator relies on
  replicas for failover, and `local` does not wait for them. Without synchronous standbys
  `local`, `on`, `remote_write` and `remote_apply` all wait for the local WAL flush.

SQLite runs in WAL mode with `synchronous=NORMAL` (scheduler/db.py): a commit is in the WAL
file (the OS's page cache) when it returns, so it survives a crash of the process, not a
power cut or a kernel crash (`FULL` would; see docs/operations.md for its measured cost).
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

ACCEPT_KEY = "accept_non_durable_commits"


def durability_problem(engine: Engine) -> str | None:
    """Why commits on `engine` are not durable (naming the setting), or None when they are."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        fsync = str(conn.execute(text("SHOW fsync")).scalar())
        sync = str(conn.execute(text("SHOW synchronous_commit")).scalar())
        standbys = str(conn.execute(text("SHOW synchronous_standby_names")).scalar() or "")
    problems = []
    if fsync.lower() != "on":
        problems.append(f"fsync is {fsync} (a crash of the server's machine can lose "
                        "committed outcomes)")
    if sync.lower() == "off":
        problems.append("synchronous_commit is off (a server crash can lose the last "
                        "committed outcomes)")
    elif sync.lower() == "local" and standbys.strip():
        problems.append("synchronous_commit is local while synchronous_standby_names is "
                        "set (a failover can lose committed outcomes)")
    if not problems:
        return None
    return "; ".join(problems)


def dispatch_refusal(engine: Engine, accept_non_durable: bool, *, warn: bool = True
                     ) -> str | None:
    """The reason a dispatcher must not dispatch on `engine`, or None.

    A server whose commits are not durable is refused unless the operator accepted the risk
    (then the risk is logged as a warning once per call).
    """
    problem = durability_problem(engine)
    if problem is None:
        return None
    if accept_non_durable:
        if warn:
            log.warning("database commits are not durable (%s); dispatching anyway because "
                        "settings.yaml has %s: true (a crash may send some messages twice)",
                        problem, ACCEPT_KEY)
        return None
    return (f"database commits are not durable: {problem}; refusing to dispatch (a crash "
            f"could send messages twice). Make commits durable, or set {ACCEPT_KEY}: true "
            "in settings.yaml to accept the risk")


class DispatchGate:
    """A daemon's durability verdict: checked at start, after a reload and every `every` s.

    While it refuses, the daemon plans but does not dispatch, and `/healthz` says why.
    """

    def __init__(self, engine: Engine, accept_non_durable: bool, every: float = 60.0) -> None:
        self.engine = engine
        self.accept = accept_non_durable
        self.every = every
        self.reason: str | None = None
        self._checked_at: float | None = None

    def refresh(self, now: float, *, force: bool = False) -> str | None:
        """Check again when due (or `force`d); the refusal in force, or None."""
        if force or self._checked_at is None or now - self._checked_at >= self.every:
            before = self.reason
            try:
                self.reason = dispatch_refusal(self.engine, self.accept,
                                               warn=self._checked_at is None)
            except Exception as exc:  # the database is away: keep the last verdict
                log.warning("durability check failed: %s", type(exc).__name__)
                if self._checked_at is None:
                    self.reason = f"durability not checked yet ({type(exc).__name__})"
            else:
                self._checked_at = now
            if self.reason and self.reason != before:
                log.error("not dispatching: %s", self.reason)
            elif before and not self.reason:
                log.warning("database commits are durable now: dispatching again")
        return self.reason

    def health(self) -> dict[str, object]:
        """The `/healthz` check: ok, or the reason dispatching is refused."""
        return {"ok": self.reason is None, "detail": self.reason or "ok"}
