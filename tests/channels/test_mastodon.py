"""Mastodon adapter: the contract, idempotency keys, instance-specific limits."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
import responses

from channels.base import DeliveryStatus, Message
from channels.mastodon import MastodonChannel
from channels.text import measure
from tests.channels.contract import (
    LINK,
    NOW,
    ChannelContract,
    Reply,
    headers_of,
    json_of,
    make_message,
)

BASE = "https://mastodon.example"
TOKEN = "mstdn-token-3e1f9c0a"
STATUSES = f"{BASE}/api/v1/statuses"


class TestMastodonContract(ChannelContract):
    channel_type = MastodonChannel
    config = {"base_url": BASE, "token": TOKEN, "visibility": "unlisted"}
    secrets = (TOKEN,)
    url = STATUSES
    success = Reply(
        200,
        json={
            "id": "113029518475618211",
            "uri": "https://mastodon.example/users/itu/statuses/113029518475618211",
            "url": "https://mastodon.example/@itu/113029518475618211",
            "content": "<p>Spectrum management…</p>",
            "created_at": "2027-03-01T09:00:00.123Z",
        },
    )
    provider_id = "113029518475618211"
    rate_limited = Reply(
        429,
        json={"error": "Too many requests"},
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "2027-03-01T09:05:00.000Z",
        },
    )
    retry_after = NOW + timedelta(minutes=5)
    unauthorized = Reply(401, json={"error": "The access token is invalid"})
    rejected = Reply(422, json={"error": "Validation failed: Text character limit of 500 exceeded"})
    rejected_error = "Validation failed: Text character limit of 500 exceeded"
    # The Idempotency-Key makes a repeat return the first status, but only for an hour: the
    # lost answer is repeated at once (here it is lost every time), then it is UNKNOWN.
    read_timeout_status = DeliveryStatus.UNKNOWN

    def check_request(self, request: requests.PreparedRequest, message: Message) -> None:
        assert json_of(request) == {
            "status": message.text,
            "visibility": "unlisted",
            "language": "en",
        }
        headers = headers_of(request)
        assert headers["Authorization"] == f"Bearer {TOKEN}"
        assert headers["Idempotency-Key"] == hashlib.sha256(message.key.encode()).hexdigest()
        assert headers["Content-Type"] == "application/json"

    def sent_text(self, request: requests.PreparedRequest) -> str:
        return str(json_of(request)["status"])


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeats of a lost answer without the real pauses (1 s, 5 s)."""
    monkeypatch.setattr(MastodonChannel, "lost_reply_pauses", (0.0, 0.0))


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def mastodon(**options: object) -> MastodonChannel:
    raw = {"type": "mastodon", "base_url": BASE, "token": TOKEN, **options}
    channel = MastodonChannel.from_config("m", raw)
    assert isinstance(channel, MastodonChannel)
    return channel


def test_the_same_delivery_always_carries_the_same_key(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", STATUSES, status=503)
    rsps.add("POST", STATUSES, status=200, json={"id": "1"})
    rsps.add("POST", STATUSES, status=200, json={"id": "2"})
    channel = mastodon()
    channel.send(make_message(key="a:C1:mastodon"))
    channel.send(make_message(key="a:C1:mastodon"))
    channel.send(make_message(key="a:C2:mastodon"))
    keys = [headers_of(c.request)["Idempotency-Key"] for c in rsps.calls]
    assert keys[0] == keys[1] != keys[2]


def test_instance_limits_come_from_the_options(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", STATUSES, status=200, json={"id": "1"})
    channel = mastodon(max_characters=100, characters_reserved_per_url=30)
    rules = channel.text_rules_for()
    assert (rules.limit, rules.url_weight, rules.unit) == (100, 30, "graphemes")
    channel.send(make_message(text="Éducation numérique 🇫🇷 " * 10 + f"\n\n{LINK}"))
    status = json_of(rsps.calls[0].request)["status"]
    assert measure(status, rules) <= 100
    assert status.endswith(f"…\n\n{LINK}")


def test_iso_reset_in_the_past_means_retry_now(rsps: responses.RequestsMock) -> None:
    headers = {"X-RateLimit-Reset": "2027-03-01T08:59:00Z"}
    rsps.add("POST", STATUSES, status=429, json={"error": "Too many requests"}, headers=headers)
    channel = mastodon()
    channel.clock = lambda: NOW
    result = channel.send(make_message())
    assert (result.status, result.retry_after) == (DeliveryStatus.TRANSIENT, NOW)


def test_visibility_is_validated() -> None:
    with pytest.raises(ValueError, match="visibility"):
        mastodon(visibility="everyone")


LOST = requests.ReadTimeout(f"Read timed out. (url: {STATUSES})")


@pytest.mark.parametrize("lost", [LOST, requests.ConnectionError("Connection reset by peer"),
                                  502, 504])
def test_a_lost_answer_is_repeated_at_once_with_the_same_key(
        rsps: responses.RequestsMock, lost: object) -> None:
    if isinstance(lost, int):
        rsps.add("POST", STATUSES, status=lost, body="Bad Gateway")
    else:
        rsps.add("POST", STATUSES, body=lost)  # type: ignore[arg-type]
    rsps.add("POST", STATUSES, status=200, json={"id": "77"})  # Mastodon remembered the key
    result = mastodon().send(make_message(key="a:C1:mastodon"))
    assert result.status is DeliveryStatus.SENT and result.provider_id == "77"
    keys = {headers_of(c.request)["Idempotency-Key"] for c in rsps.calls}
    assert len(rsps.calls) == 2 and len(keys) == 1


def test_every_answer_lost_is_unknown_never_a_later_retry(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", STATUSES, body=LOST)
    result = mastodon().send(make_message())
    assert result.status is DeliveryStatus.UNKNOWN  # the dispatcher never resends it
    assert len(rsps.calls) == 3
    assert result.error is not None and "forgets after 1 h" in result.error


def test_repeats_stay_well_inside_the_keys_memory(
        rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MastodonChannel, "idempotency_memory", timedelta(seconds=4))
    monkeypatch.setattr(MastodonChannel, "lost_reply_pauses", (5.0,))
    rsps.add("POST", STATUSES, body=LOST)
    result = mastodon().send(make_message())
    assert result.status is DeliveryStatus.UNKNOWN and len(rsps.calls) == 1


@pytest.mark.parametrize(("status", "expected"), [
    (503, DeliveryStatus.TRANSIENT), (500, DeliveryStatus.TRANSIENT),
    (429, DeliveryStatus.TRANSIENT), (422, DeliveryStatus.PERMANENT)])
def test_answers_that_say_nothing_was_posted_are_not_repeated(
        rsps: responses.RequestsMock, status: int, expected: DeliveryStatus) -> None:
    rsps.add("POST", STATUSES, status=status, json={"error": "no"})
    result = mastodon().send(make_message())
    assert result.status is expected and len(rsps.calls) == 1
