"""X API v2 adapter: the contract, OAuth 1.0a signing, bearer tokens, reset headers."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pydantic
import pytest
import requests
import responses
from oauthlib.oauth1.rfc5849 import signature as oauth_signature

from channels.base import DeliveryStatus, Message
from channels.text import RULES, measure
from channels.x import XChannel
from tests.channels.contract import (
    LINK,
    NOW,
    ChannelContract,
    Reply,
    header,
    headers_of,
    json_of,
    make_message,
)

BASE = "https://api.x.test"
OAUTH1 = {
    "consumer_key": "ck-4f9a1c",
    "consumer_secret": "cs-secret-77d1e2",
    "access_token": "1234-at-secret-aa91",
    "access_token_secret": "ats-secret-0b3c55",
}
RESET = NOW + timedelta(minutes=15)


def epoch(when: Any) -> str:
    return str(int(when.timestamp()))


class TestXContract(ChannelContract):
    channel_type = XChannel
    config = {"base_url": BASE, **OAUTH1}
    secrets = tuple(OAUTH1.values())
    url = f"{BASE}/2/tweets"
    success = Reply(201, json={"data": {"id": "1445880548472328192", "text": "…"}})
    provider_id = "1445880548472328192"
    rate_limited = Reply(
        429,
        json={"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
        headers={
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": epoch(RESET),
        },
    )
    retry_after = RESET
    unauthorized = Reply(
        401,
        json={
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        },
    )
    rejected = Reply(
        403,
        json={
            "detail": "You are not allowed to create a Tweet with duplicate content.",
            "type": "about:blank",
            "title": "Forbidden",
            "status": 403,
        },
    )
    rejected_error = "You are not allowed to create a Tweet with duplicate content."

    def check_request(self, request: requests.PreparedRequest, message: Message) -> None:
        assert json_of(request) == {"text": message.text}
        assert header(request, "Content-Type") == "application/json"
        auth = header(request, "Authorization")
        assert auth.startswith("OAuth ")
        assert 'oauth_signature="' in auth
        assert f'oauth_consumer_key="{OAUTH1["consumer_key"]}"' in auth
        assert 'oauth_signature_method="HMAC-SHA1"' in auth

    def sent_text(self, request: requests.PreparedRequest) -> str:
        return str(json_of(request)["text"])


@pytest.fixture
def rsps() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def x_channel(**options: Any) -> XChannel:
    channel = XChannel.from_config("x", {"type": "x", "base_url": BASE, **options})
    assert isinstance(channel, XChannel)
    channel.clock = lambda: NOW
    return channel


def test_oauth1_signature_verifies_with_the_secrets(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{BASE}/2/tweets", status=201, json={"data": {"id": "1"}})
    x_channel(**OAUTH1).send(make_message())
    request = rsps.calls[0].request
    params = oauth_signature.collect_parameters(
        headers={"Authorization": header(request, "Authorization")}, exclude_oauth_signature=True
    )
    base = oauth_signature.signature_base_string(
        "POST",
        oauth_signature.base_string_uri(f"{BASE}/2/tweets"),
        oauth_signature.normalize_parameters(params),
    )
    client = SimpleNamespace(
        client_secret=OAUTH1["consumer_secret"],
        resource_owner_secret=OAUTH1["access_token_secret"],
    )
    expected = oauth_signature.sign_hmac_sha1_with_client(base, client)
    sent = dict(
        oauth_signature.collect_parameters(
            headers=headers_of(request), exclude_oauth_signature=False
        )
    )
    assert sent["oauth_signature"] == expected
    assert sent["oauth_token"] == OAUTH1["access_token"]


def test_bearer_token_is_sent_instead_of_a_signature(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{BASE}/2/tweets", status=201, json={"data": {"id": "9"}})
    result = x_channel(bearer_token="oauth2-user-token").send(make_message())
    assert result.provider_id == "9"
    assert header(rsps.calls[0].request, "Authorization") == "Bearer oauth2-user-token"


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({}, "missing: consumer_key, consumer_secret, access_token, access_token_secret"),
        ({**OAUTH1, "bearer_token": "t"}, "not both"),
        ({"consumer_key": "k", "consumer_secret": "s"}, "missing: access_token"),
    ],
)
def test_exactly_one_auth_method(options: dict[str, str], complaint: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=complaint):
        x_channel(**options)


def test_the_exhausted_24_hour_window_decides_the_wait(rsps: responses.RequestsMock) -> None:
    day_reset = NOW + timedelta(hours=20)
    headers = {
        "x-rate-limit-remaining": "97",
        "x-rate-limit-reset": epoch(NOW + timedelta(minutes=3)),
        "x-user-limit-24hour-limit": "17",
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": epoch(day_reset),
    }
    rsps.add(
        "POST", f"{BASE}/2/tweets", status=429, json={"title": "Too Many Requests"}, headers=headers
    )
    result = x_channel(**OAUTH1).send(make_message())
    assert (result.status, result.retry_after) == (DeliveryStatus.TRANSIENT, day_reset)
    assert result.error == "HTTP 429: Too Many Requests"


def test_other_403_is_auth(rsps: responses.RequestsMock) -> None:
    body = {
        "title": "Unsupported Authentication",
        "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.",
        "type": "https://api.x.com/2/problems/unsupported-authentication",
        "status": 403,
    }
    rsps.add("POST", f"{BASE}/2/tweets", status=403, json=body)
    result = x_channel(**OAUTH1).send(make_message())
    assert result.status is DeliveryStatus.AUTH
    assert result.error is not None and "Application-Only is forbidden" in result.error


def test_400_errors_messages_are_permanent(rsps: responses.RequestsMock) -> None:
    body = {
        "errors": [{"parameters": {"text": ["…"]}, "message": "Text is too long"}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.x.com/2/problems/invalid-request",
    }
    rsps.add("POST", f"{BASE}/2/tweets", status=400, json=body)
    result = x_channel(**OAUTH1).send(make_message())
    assert result.status is DeliveryStatus.PERMANENT
    assert result.error == (
        "HTTP 400: One or more parameters to your request was invalid. (Text is too long)"
    )


def test_text_is_fitted_to_280_weighted_with_cjk(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{BASE}/2/tweets", status=201, json={"data": {"id": "1"}})
    text = "频谱管理培训课程，面向监管机构。" * 20 + f"\n\n{LINK}"
    x_channel(**OAUTH1).send(make_message(text=text))
    sent = json_of(rsps.calls[0].request)["text"]
    assert measure(sent, RULES["x"]) <= 280
    assert sent.endswith(f"…\n\n{LINK}")
