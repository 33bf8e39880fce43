"""Facebook Page adapter: the contract, Graph error codes, usage headers, the token's place."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pydantic
import pytest
import requests
import responses

from channels.base import DeliveryStatus, Message
from channels.facebook import FacebookChannel
from tests.channels.contract import NOW, ChannelContract, Reply, headers_of, make_message

BASE = "https://graph.facebook.example"
TOKEN = "EAAGpage-token-9d8c7b6a"
PAGE = "104912345678901"
FEED = f"{BASE}/v25.0/{PAGE}/feed"


def graph_error(code: int, message: str, subcode: int | None = None, **extra: Any) -> Any:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf123",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": {**error, **extra}}


def usage(minutes: int) -> str:
    entry = {
        "type": "pages",
        "call_count": 100,
        "total_cputime": 12,
        "total_time": 30,
        "estimated_time_to_regain_access": minutes,
    }
    return json.dumps({PAGE: [entry]})


def form(request: requests.PreparedRequest) -> dict[str, list[str]]:
    body = request.body
    assert isinstance(body, str)
    return parse_qs(body, keep_blank_values=True)


class TestFacebookContract(ChannelContract):
    channel_type = FacebookChannel
    config = {"base_url": BASE, "page_id": PAGE, "access_token": TOKEN}
    secrets = (TOKEN,)
    url = FEED
    success = Reply(200, json={"id": f"{PAGE}_122101234567890123"})
    provider_id = f"{PAGE}_122101234567890123"
    rate_limited = Reply(
        400,
        json=graph_error(32, "(#32) Page request limit reached"),
        headers={"X-Business-Use-Case-Usage": usage(7)},
    )
    retry_after = NOW + timedelta(minutes=7)
    unauthorized = Reply(
        400,
        json=graph_error(
            190,
            "Error validating access token: Session has expired on Sunday, 28-Feb-27.",
            subcode=463,
        ),
    )
    rejected = Reply(400, json=graph_error(506, "(#506) Duplicate status message"))
    rejected_error = "(#506) Duplicate status message"

    def check_request(self, request: requests.PreparedRequest, message: Message) -> None:
        assert form(request) == {
            "message": [message.text],
            "link": [message.link],
            "access_token": [TOKEN],
        }
        assert headers_of(request)["Content-Type"] == "application/x-www-form-urlencoded"
        assert TOKEN not in (request.url or "")

    def sent_text(self, request: requests.PreparedRequest) -> str:
        return form(request)["message"][0]


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def facebook(**options: object) -> FacebookChannel:
    raw = {"type": "facebook", "base_url": BASE, "page_id": PAGE, "access_token": TOKEN}
    channel = FacebookChannel.from_config("fb", {**raw, **options})
    assert isinstance(channel, FacebookChannel)
    channel.clock = lambda: NOW
    return channel


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, graph_error(4, "(#4) Application request limit reached"), DeliveryStatus.TRANSIENT),
        (400, graph_error(17, "(#17) User request limit reached"), DeliveryStatus.TRANSIENT),
        (
            400,
            graph_error(613, "(#613) Calls to this api have exceeded the rate limit."),
            DeliveryStatus.TRANSIENT,
        ),
        (
            400,
            graph_error(80001, "There have been too many calls to this Page account."),
            DeliveryStatus.TRANSIENT,
        ),
        (500, graph_error(1, "An unknown error occurred"), DeliveryStatus.UNKNOWN),
        (400, graph_error(1, "An unknown error occurred"), DeliveryStatus.TRANSIENT),
        (503, graph_error(2, "Service temporarily unavailable"), DeliveryStatus.UNKNOWN),
        (500, None, DeliveryStatus.UNKNOWN),
        (403, graph_error(10, "(#10) Permission denied"), DeliveryStatus.AUTH),
        (
            403,
            graph_error(200, "(#200) Requires pages_manage_posts permission"),
            DeliveryStatus.AUTH,
        ),
        (
            400,
            graph_error(368, "You've already posted this.", subcode=1390008),
            DeliveryStatus.PERMANENT,
        ),
        (400, graph_error(100, "Error posting link", subcode=1609005), DeliveryStatus.PERMANENT),
        (400, graph_error(1609005, "Could not scrape the link"), DeliveryStatus.PERMANENT),
        (400, graph_error(100, "(#100) Invalid parameter"), DeliveryStatus.PERMANENT),
    ],
)
def test_graph_error_codes(
    rsps: responses.RequestsMock, status: int, body: Any, expected: DeliveryStatus
) -> None:
    if body is None:
        rsps.add("POST", FEED, status=status, body="Internal Server Error")
    else:
        rsps.add("POST", FEED, status=status, json=body)
    result = facebook().send(make_message())
    assert result.status is expected
    if body is not None:
        assert result.error and body["error"]["message"] in result.error


def test_code_2_warns_that_the_post_may_exist(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", FEED, status=500, json=graph_error(2, "Service temporarily unavailable"))
    result = facebook().send(make_message())
    assert result.error == (
        "HTTP 500: Service temporarily unavailable [#2] fbtrace_id=AbCdEf123; "
        "may have been published: check the page"
    )


def test_throttle_without_usage_header_waits_15_minutes(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", FEED, status=400, json=graph_error(4, "(#4) Application request limit"))
    result = facebook().send(make_message())
    assert result.retry_after == NOW + timedelta(minutes=15)


def test_longest_regain_time_across_business_objects(rsps: responses.RequestsMock) -> None:
    header = json.dumps(
        {
            "1": [{"type": "pages", "estimated_time_to_regain_access": 3}],
            "2": [{"type": "pages", "estimated_time_to_regain_access": 44}],
        }
    )
    rsps.add(
        "POST",
        FEED,
        status=400,
        json=graph_error(80001, "Too many calls"),
        headers={"X-Business-Use-Case-Usage": header},
    )
    result = facebook().send(make_message())
    assert result.retry_after == NOW + timedelta(minutes=44)


def test_no_link_no_link_field(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", FEED, status=200, json={"id": "1_2"})
    facebook().send(make_message(link=None))
    assert "link" not in form(rsps.calls[0].request)


def test_graph_version_option(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{BASE}/v24.0/{PAGE}/feed", status=200, json={"id": "1_2"})
    assert facebook(graph_version="v24.0").send(make_message()).provider_id == "1_2"
    with pytest.raises(pydantic.ValidationError, match="graph_version"):
        facebook(graph_version="25")
    with pytest.raises(pydantic.ValidationError, match="page_id"):
        facebook(page_id="my-page")
