"""Downloading a URL source within one deadline for the whole transfer.

A per-read timeout is not enough: a server that trickles a byte a second never lets a read
time out. The transfer (connect, headers, body) runs in a helper thread; the caller waits
until the deadline and then abandons it, shutting the socket down so the helper's read ends
too (urllib3's `HTTPResponse.shutdown`).
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future
from typing import Any

import requests

from scheduler.errors import InputError

MAX_BYTES = 50 * 1024 * 1024  # a catalogue is kilobytes; refuse to buffer a runaway stream
USER_AGENT = "coe-herald/0.1 (course import)"
DEFAULT_TIMEOUT = 60.0


def fetch(url: str, name: str, timeout: float = DEFAULT_TIMEOUT) -> tuple[bytes, str]:
    """The body and bare Content-Type of a GET, all within `timeout` seconds; any failure
    is a one-line InputError naming the source as `name`."""
    result: Future[tuple[bytes, str]] = Future()
    live: dict[str, Any] = {}
    abandoned = threading.Event()

    def work() -> None:
        try:
            result.set_result(_get(url, name, timeout, live, abandoned))
        except BaseException as exc:  # handed to the waiting caller
            result.set_exception(exc)

    threading.Thread(target=work, name="source-download", daemon=True).start()
    try:
        return result.result(timeout=timeout)
    except TimeoutError:
        abandoned.set()
        response = live.get("response")
        if response is not None:
            # Wakes the helper's blocked read (already closed or released: nothing to wake).
            with contextlib.suppress(Exception):
                response.raw.shutdown()
        raise InputError([f"{name}: abandoned after {timeout:g} s (the whole download must "
                          "finish within the source's timeout)"]) from None


def _get(url: str, name: str, timeout: float, live: dict[str, Any],
         abandoned: threading.Event) -> tuple[bytes, str]:
    headers = {"User-Agent": USER_AGENT,
               "Accept": "text/csv, application/json, text/calendar;q=0.9, */*;q=0.5"}
    try:
        with requests.get(url, timeout=timeout, headers=headers, stream=True) as resp:
            live["response"] = resp
            if resp.status_code >= 400:
                reason = f" {resp.reason}" if resp.reason else ""
                raise InputError([f"{name}: HTTP {resp.status_code}{reason}"])
            chunks: list[bytes] = []
            size = 0
            while not abandoned.is_set():
                chunk = resp.raw.read1(65536, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_BYTES:
                    raise InputError([f"{name}: larger than {MAX_BYTES // 2**20} MB"])
                chunks.append(chunk)
            content_type = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
            return b"".join(chunks), content_type
    except requests.Timeout:
        raise InputError([f"{name}: no answer within {timeout:g} s"]) from None
    except requests.RequestException as exc:
        reason = type(exc).__name__
        if isinstance(exc, requests.ConnectionError):
            reason = "cannot connect"
        raise InputError([f"{name}: {reason}"]) from None
