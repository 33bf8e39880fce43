"""Bluesky adapter: the contract, one login for many posts, refresh, facets at byte offsets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
import responses

from channels.base import DeliveryStatus, Message
from channels.bluesky import BlueskyChannel, BlueskySession, created_at, link_facets
from tests.channels.contract import (
    LINK,
    NOW,
    ChannelContract,
    Reply,
    headers_of,
    json_of,
    make_message,
)

BASE = "https://pds.example"
PASSWORD = "abcd-efgh-ijkl-mnop"
DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
ACCESS, REFRESH = "eyJ.access-jwt-1", "eyJ.refresh-jwt-1"
ACCESS2, REFRESH2 = "eyJ.access-jwt-2", "eyJ.refresh-jwt-2"
CREATE_SESSION = f"{BASE}/xrpc/com.atproto.server.createSession"
REFRESH_SESSION = f"{BASE}/xrpc/com.atproto.server.refreshSession"
CREATE_RECORD = f"{BASE}/xrpc/com.atproto.repo.createRecord"
URI = f"at://{DID}/app.bsky.feed.post/3l6oveex3ii2l"


def session_json(access: str = ACCESS, refresh: str = REFRESH) -> dict[str, Any]:
    return {
        "did": DID,
        "handle": "itu-academy.bsky.social",
        "accessJwt": access,
        "refreshJwt": refresh,
    }


def expired() -> dict[str, str]:
    return {"error": "ExpiredToken", "message": "Token has expired"}


class TestBlueskyContract(ChannelContract):
    channel_type = BlueskyChannel
    config = {"base_url": BASE, "identifier": "itu-academy.bsky.social", "app_password": PASSWORD}
    secrets = (PASSWORD, ACCESS, REFRESH)
    url = CREATE_RECORD
    success = Reply(200, json={"uri": URI, "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5"})
    provider_id = URI
    rate_limited = Reply(
        429,
        json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"RateLimit-Limit": "5000", "RateLimit-Remaining": "0", "RateLimit-Reset": "120"},
    )
    retry_after = NOW + timedelta(seconds=120)
    unauthorized = Reply(
        401, json={"error": "AuthenticationRequired", "message": "Authentication Required"}
    )
    rejected = Reply(
        400,
        json={
            "error": "InvalidRequest",
            "message": "Invalid app.bsky.feed.post record: Record/text must not be longer "
            "than 300 graphemes",
        },
    )
    rejected_error = "InvalidRequest: Invalid app.bsky.feed.post record"

    def ready(self, channel: Any) -> None:
        channel.use_session(BlueskySession(DID, ACCESS, REFRESH))

    def prime(self, rsps: responses.RequestsMock) -> None:
        rsps.add("POST", CREATE_SESSION, json=session_json())

    def check_request(self, request: requests.PreparedRequest, message: Message) -> None:
        facet_start = len(message.text) - len(LINK) + 2  # "–" is 3 bytes in UTF-8
        assert json_of(request) == {
            "repo": DID,
            "collection": "app.bsky.feed.post",
            "record": {
                "$type": "app.bsky.feed.post",
                "text": message.text,
                "createdAt": "2027-03-01T09:00:00.000Z",
                "langs": ["en"],
                "facets": [
                    {
                        "index": {"byteStart": facet_start, "byteEnd": facet_start + len(LINK)},
                        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": LINK}],
                    }
                ],
                "embed": {
                    "$type": "app.bsky.embed.external",
                    "external": {"uri": LINK, "title": message.title, "description": ""},
                },
            },
        }
        headers = headers_of(request)
        assert headers["Authorization"] == f"Bearer {ACCESS}"
        assert headers["Content-Type"] == "application/json"

    def sent_text(self, request: requests.PreparedRequest) -> str:
        return str(json_of(request)["record"]["text"])


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def bluesky() -> BlueskyChannel:
    raw = {"type": "bluesky", **TestBlueskyContract.config}
    channel = BlueskyChannel.from_config("bsky", raw)
    assert isinstance(channel, BlueskyChannel)
    channel.clock = lambda: NOW
    return channel


def calls_to(rsps: responses.RequestsMock, url: str) -> list[requests.PreparedRequest]:
    return [c.request for c in rsps.calls if c.request.url == url]


def test_one_login_for_many_posts(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", CREATE_SESSION, json=session_json())
    rsps.add("POST", CREATE_RECORD, json={"uri": URI, "cid": "bafy"})
    channel = bluesky()
    results = [channel.send(make_message(key=f"k{i}")) for i in range(5)]
    assert all(r.status is DeliveryStatus.SENT for r in results)
    [login] = calls_to(rsps, CREATE_SESSION)
    assert json_of(login) == {"identifier": "itu-academy.bsky.social", "password": PASSWORD}
    assert len(calls_to(rsps, CREATE_RECORD)) == 5


def test_expired_token_refreshes_and_sends_once_more(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", CREATE_SESSION, json=session_json())
    rsps.add("POST", CREATE_RECORD, status=400, json=expired())
    rsps.add("POST", REFRESH_SESSION, json=session_json(ACCESS2, REFRESH2))
    rsps.add("POST", CREATE_RECORD, json={"uri": URI, "cid": "bafy"})
    channel = bluesky()
    assert channel.send(make_message()).provider_id == URI
    [refresh] = calls_to(rsps, REFRESH_SESSION)
    assert headers_of(refresh)["Authorization"] == f"Bearer {REFRESH}"
    first, second = calls_to(rsps, CREATE_RECORD)
    assert headers_of(first)["Authorization"] == f"Bearer {ACCESS}"
    assert headers_of(second)["Authorization"] == f"Bearer {ACCESS2}"
    assert len(calls_to(rsps, CREATE_SESSION)) == 1
    # The refreshed tokens are secrets now too.
    assert {ACCESS2, REFRESH2} <= set(channel.secret_values())


def test_expired_refresh_token_logs_in_again(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", CREATE_RECORD, status=401, json=expired())
    rsps.add("POST", REFRESH_SESSION, status=400, json=expired())
    rsps.add("POST", CREATE_SESSION, json=session_json(ACCESS2, REFRESH2))
    rsps.add("POST", CREATE_RECORD, json={"uri": URI, "cid": "bafy"})
    channel = bluesky()
    channel.use_session(BlueskySession(DID, ACCESS, REFRESH))
    assert channel.send(make_message()).status is DeliveryStatus.SENT
    assert len(calls_to(rsps, CREATE_SESSION)) == 1
    assert channel.bsky_session == BlueskySession(DID, ACCESS2, REFRESH2, "itu-academy.bsky.social")


def test_a_second_expiry_is_not_retried_forever(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", CREATE_RECORD, status=400, json=expired())
    rsps.add("POST", REFRESH_SESSION, json=session_json(ACCESS2, REFRESH2))
    channel = bluesky()
    channel.use_session(BlueskySession(DID, ACCESS, REFRESH))
    result = channel.send(make_message())
    assert result.status is DeliveryStatus.AUTH
    assert result.error == "HTTP 400: ExpiredToken: Token has expired"
    assert len(calls_to(rsps, CREATE_RECORD)) == 2


def test_refused_login_is_auth_and_posts_nothing(rsps: responses.RequestsMock) -> None:
    body = {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
    rsps.add("POST", CREATE_SESSION, status=401, json=body)
    result = bluesky().send(make_message())
    assert result.status is DeliveryStatus.AUTH
    assert result.error == "HTTP 401: AuthenticationRequired: Invalid identifier or password"
    assert calls_to(rsps, CREATE_RECORD) == []


def test_login_needing_a_second_factor_is_auth(rsps: responses.RequestsMock) -> None:
    body = {"error": "AuthFactorTokenRequired", "message": "A sign in code has been sent"}
    rsps.add("POST", CREATE_SESSION, status=400, json=body)
    assert bluesky().send(make_message()).status is DeliveryStatus.AUTH


def test_rate_limited_login_waits_for_epoch_reset(rsps: responses.RequestsMock) -> None:
    reset = NOW + timedelta(hours=3)
    rsps.add(
        "POST",
        CREATE_SESSION,
        status=429,
        json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"RateLimit-Reset": str(int(reset.timestamp()))},
    )
    result = bluesky().send(make_message())
    assert (result.status, result.retry_after) == (DeliveryStatus.TRANSIENT, reset)


def test_facets_count_utf8_bytes_before_the_url() -> None:
    text = "Café 🎓 Ελληνικά → https://a.example/x?q=1, then https://b.example/y."
    facets = link_facets(text)
    encoded = text.encode("utf-8")
    spans = [encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets]
    assert spans == ["https://a.example/x?q=1", "https://b.example/y"]
    assert facets[0]["index"]["byteStart"] == len("Café 🎓 Ελληνικά → ".encode())
    assert facets[0]["index"]["byteStart"] != text.index("https://a.example")


def test_created_at_is_utc_with_milliseconds() -> None:
    assert created_at(NOW + timedelta(microseconds=123456)) == "2027-03-01T09:00:00.123Z"


def test_session_repr_hides_tokens() -> None:
    assert ACCESS not in repr(BlueskySession(DID, ACCESS, REFRESH))
    assert REFRESH not in repr(BlueskySession(DID, ACCESS, REFRESH))
