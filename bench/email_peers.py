"""The email benchmark's peers and tools: Apprise's `mailto://`, and pyinstrument on every thread.

Split from `bench/email_bench.py` to keep each module small.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlencode

from bench.common import SENDER, run_threads
from channels.email_message import envelope_sender

Prebuilt = tuple[str, bytes, bool]
"""(recipient, wire bytes, 8-bit body: send with BODY=8BITMIME) of one message."""
T = TypeVar("T")


def apprise_send(port: int, messages: list[Prebuilt],
                 connections: int) -> tuple[float, str]:
    """Send each message's subject, HTML and List-Unsubscribe through Apprise's mailto://.

    One fresh `Apprise` object per message, as personalised mail needs a URL per recipient
    (it is also Apprise's fast case: one object throttles 5.5 s between its sends).
    Returns (seconds taken by `connections` threads sharing the list, Apprise's version).
    """
    try:
        import apprise
    except ImportError:
        raise SystemExit("the email benchmark needs Apprise: pip install -e '.[bench]'") from None

    mail_from = envelope_sender(SENDER)
    urls: list[tuple[str, str, str]] = []
    for _to, data, _eight_bit in messages:
        parsed = BytesParser(policy=policy.default).parsebytes(data)
        assert isinstance(parsed, EmailMessage)
        html = parsed.get_body(("html",))
        assert html is not None
        query = urlencode({"smtp": "127.0.0.1", "mode": "insecure", "from": mail_from,
                           "name": "ITU Academy", "to": str(parsed["To"]), "format": "html",
                           "+List-Unsubscribe": str(parsed["List-Unsubscribe"])},
                          quote_via=quote)
        urls.append((f"mailto://127.0.0.1:{port}/?{query}", str(parsed["Subject"]),
                     html.get_content()))
    feed = iter(urls)
    lock = threading.Lock()
    failures: list[str] = []

    def worker() -> None:
        while True:
            with lock:
                item = next(feed, None)
            if item is None:
                return
            url, subject, body = item
            ap = apprise.Apprise()
            if not ap.add(url) or not ap.notify(body=body, title=subject,
                                                 body_format=apprise.NotifyFormat.HTML):
                failures.append(url)

    elapsed = run_threads(worker, connections)
    if failures:
        raise RuntimeError(f"Apprise failed {len(failures)} sends, e.g. to {failures[0]}")
    return elapsed, str(apprise.__version__)


def profiled(run: Callable[[], T], report: Path) -> tuple[T, float]:
    """Run `run` under pyinstrument, every thread it starts included; write the text report.

    pyinstrument samples one thread, and Herald sends from worker threads, so each thread
    started meanwhile gets a profiler of its own; the report shows the main thread, then
    the worker threads (one tree each). Returns `run`'s result and its seconds (the report's
    rendering is not counted).
    """
    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer
    from pyinstrument.session import Session

    workers: list[Session] = []
    original = threading.Thread.run

    def run_profiled(thread: threading.Thread) -> None:
        p = Profiler(async_mode="disabled")
        p.start()
        try:
            original(thread)
        finally:
            workers.append(p.stop())

    threading.Thread.run = run_profiled  # type: ignore[method-assign,assignment]
    main = Profiler(async_mode="disabled")
    try:
        main.start()
        t0 = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - t0
        main_session = main.stop()
    finally:
        threading.Thread.run = original  # type: ignore[method-assign]
    render = ConsoleRenderer(unicode=True, color=False, show_all=False).render
    parts = ["== main thread (claims batches, waits for the workers)\n", render(main_session)]
    if workers:
        combined = workers[0]
        for session in workers[1:]:
            combined = Session.combine(combined, session)
        parts += [f"\n== {len(workers)} worker thread(s), one tree each (build, send, record)\n",
                  render(combined)]
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("".join(parts))
    return result, elapsed
