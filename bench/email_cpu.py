"""Where the send thread's CPU goes, part by part (`email_bench.py --cpu-parts`).

py-spy samples wall time: a thread inside `send()` while the kernel runs the sink on the
other core, or waiting for a core on a busy machine, counts as busy. This wraps the send
path's parts and adds up `time.thread_time()` (CPU of the calling thread only) spent in
each, exclusive of the parts nested in it (the build done while the sessions wait is
counted as building, not as SMTP). Costs a few microseconds a call; read the shares, and
take rates from a run without it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def targets() -> list[tuple[str, Any, str]]:
    """(part, owner class, method name) of each part watched (a part may have several)."""
    from channels import smtp, smtp_stream
    from scheduler.dispatch import feed, steps
    from scheduler.messages import MessageBuilder
    from scheduler.outbox import writer

    return [
        ("claim and load (Feed)", feed.Feed, "__next__"),
        ("rendering (MessageBuilder.build)", MessageBuilder, "build"),
        ("MIME (compose_email)", smtp.SmtpChannel, "_compose"),
        ("commits (OutboxWriter.write)", writer.OutboxWriter, "write"),
        ("commits (OutboxWriter.write)", writer.OutboxWriter, "write_gated"),
        ("outcome bookkeeping (Steps.complete)", steps.Steps, "complete"),
        ("begin_send bookkeeping (Steps.confirm_all)", steps.Steps, "confirm_all"),
        ("SMTP: start a send (Multiplexer.start)", smtp_stream.Multiplexer, "start"),
        ("SMTP: replies and data (Multiplexer.wait)", smtp_stream.Multiplexer, "wait"),
    ]


class CpuParts:
    """Exclusive thread CPU per part, for the threads that enter `watch`'s parts."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.local = threading.local()

    def wrap(self, part: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            stack: list[list[Any]] = self.local.__dict__.setdefault("stack", [])
            now = time.thread_time()
            if stack:  # pause the enclosing part
                outer = stack[-1]
                self.totals[outer[0]] += now - outer[1]
            frame: list[Any] = [part, now]
            stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                end = time.thread_time()
                self.totals[part] += end - frame[1]
                stack.pop()
                if stack:
                    stack[-1][1] = end
        return wrapped

    @contextmanager
    def watch(self) -> Iterator[CpuParts]:
        saved = [(owner, name, getattr(owner, name)) for _p, owner, name in targets()]
        try:
            for (part, owner, name), (_o, _n, fn) in zip(targets(), saved, strict=True):
                setattr(owner, name, self.wrap(part, fn))
            yield self
        finally:
            for owner, name, fn in saved:
                setattr(owner, name, fn)

    def report(self, total_cpu: float, emails: int) -> str:
        """The parts as µs an email and shares of the process CPU."""
        lines = [f"{'part':<44} {'us/email':>9} {'share':>6}"]
        for part in dict.fromkeys(part for part, _o, _n in targets()):
            t = self.totals[part]
            lines.append(f"{part:<44} {t / emails * 1e6:9.1f} {t / total_cpu:6.1%}")
        rest = total_cpu - sum(self.totals.values())
        lines.append(f"{'the rest (stream loop, other threads)':<44} "
                     f"{rest / emails * 1e6:9.1f} {rest / total_cpu:6.1%}")
        return "\n".join(lines)


class SendingCommits:
    """Counts the streaming worker's `sending` commits and the sends each one began (a
    group: the sessions free at once); a wrapper of a call a group, cheap enough to keep on."""

    def __init__(self) -> None:
        self.commits = 0
        self.begun = 0

    @contextmanager
    def watch(self) -> Iterator[SendingCommits]:
        from scheduler.outbox.sending import SendPath

        original = SendPath.begin_sends

        @functools.wraps(original)
        def counted(path: SendPath, starts: Any, *args: Any, **kwargs: Any) -> Any:
            self.commits += 1
            self.begun += len(starts)
            return original(path, starts, *args, **kwargs)

        SendPath.begin_sends = counted  # type: ignore[method-assign]
        try:
            yield self
        finally:
            SendPath.begin_sends = original  # type: ignore[method-assign]

    @property
    def per_commit(self) -> float:
        """Emails marked `sending` per commit (0 when none was)."""
        return self.begun / self.commits if self.commits else 0.0
