"""What every response carries (CSP, no framing, no referrer) and the per-key rate limits."""

from __future__ import annotations

import threading
import time
from collections import deque

from flask import Response

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def secure_headers(response: Response) -> Response:
    """The headers of every page: no script can run, nothing loads from elsewhere, no page
    can be framed, and no link's token leaks through a Referer."""
    h = response.headers
    h["Content-Security-Policy"] = CSP
    h["X-Frame-Options"] = "DENY"
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "interest-cohort=()"
    if response.mimetype == "text/html":
        h["Cache-Control"] = "no-store"
    return response


class RateLimiter:
    """Sliding-window counters per key, in memory (one `herald serve` process)."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int, window: float) -> bool:
        """Count one hit on `key`; False when it makes more than `limit` in `window` s."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > 100_000:  # forget idle keys rather than grow without end
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - 3600]:
                    del self._hits[k]
            return True
