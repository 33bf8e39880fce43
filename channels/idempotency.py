"""Repeating a post whose answer was lost, only while the network remembers its key.

An idempotency key (Mastodon's `Idempotency-Key`) makes a repeat of the same post return
the first one instead of a second post, but only for as long as the network remembers the
key: Mastodon keeps it for one hour. A retry days later (after backoff, or in the next
posting window) would post twice. So a lost answer is repeated at once, inside the same
send, a few times and well within the key's memory; when every try lost its answer, the
delivery is `unknown` and the operator decides, as for a network without keys.

A gateway answer (502, 504) is a lost answer too: the request may have reached the network.
Channels without `idempotency_memory` keep the base rule: a lost answer is `unknown`.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

import requests

from channels.base import DeliveryResult, DeliveryStatus

if TYPE_CHECKING:
    from channels.http import HttpChannel, PreparedCall

GATEWAY_LOST = frozenset({502, 504})


def perform_keyed(channel: HttpChannel, call: PreparedCall) -> requests.Response:
    """`channel._perform(call)`; for a keyed call of a channel with `idempotency_memory`,
    a lost answer is repeated at once (`lost_reply_pauses` between tries) while the
    network remembers the key, then reported `unknown`."""
    from channels.http import CallFailed

    memory: timedelta | None = channel.idempotency_memory
    if memory is None or not call.idempotent:
        return channel._perform(call)
    started = time.monotonic()
    budget = memory.total_seconds() / 2  # every try well inside the key's memory
    pauses = list(channel.lost_reply_pauses)
    tries = 0
    while True:
        tries += 1
        try:
            response = channel._perform(call)
        except CallFailed as failed:
            if not failed.maybe_sent:
                raise
            lost = failed.result.error or "no answer"
        else:
            if response.status_code not in GATEWAY_LOST:
                return response
            lost = channel.error_message(response)
        pause = pauses.pop(0) if pauses else None
        if pause is None or time.monotonic() - started + pause > budget:
            hours = memory.total_seconds() / 3600
            raise CallFailed(DeliveryResult(
                DeliveryStatus.UNKNOWN,
                error=f"{lost}; no answer after {tries} tries with the same idempotency key, "
                      f"which the network forgets after {hours:g} h: not retried later "
                      "(it may have been posted)"))
        time.sleep(pause)
