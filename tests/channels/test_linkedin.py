"""LinkedIn adapter: the contract, little-text escaping, the link card, options."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pydantic
import pytest
import requests
import responses

from channels.base import DeliveryStatus, Message
from channels.linkedin import LinkedInChannel
from channels.text import escape_little_text
from tests.channels.contract import (
    NOW,
    ChannelContract,
    Reply,
    headers_of,
    json_of,
    make_message,
)

BASE = "https://api.linkedin.example"
TOKEN = "AQX-linkedin-token-5c2d"
POSTS = f"{BASE}/rest/posts"
AUTHOR = "urn:li:organization:2414183"


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


class TestLinkedInContract(ChannelContract):
    channel_type = LinkedInChannel
    config = {"base_url": BASE, "token": TOKEN, "author": AUTHOR}
    secrets = (TOKEN,)
    url = POSTS
    success = Reply(201, body="", headers={"x-restli-id": "urn:li:share:7290123456789012480"})
    provider_id = "urn:li:share:7290123456789012480"
    rate_limited = Reply(429, json={"status": 429, "message": "Resource level throttle limit"})
    retry_after = datetime(2027, 3, 2, tzinfo=NOW.tzinfo)  # quotas reset at midnight UTC
    unauthorized = Reply(
        401,
        json={
            "status": 401,
            "serviceErrorCode": 65600,
            "code": "REVOKED_ACCESS_TOKEN",
            "message": "The token used in the request has been revoked by the user",
        },
    )
    rejected = Reply(
        422,
        json={
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": "Content is a duplicate of urn:li:share:7290000000000000000",
            "errorDetails": {
                "inputErrors": [
                    {"description": "Duplicate post is detected", "code": "DUPLICATE_POST"}
                ]
            },
            "status": 422,
        },
    )
    rejected_error = "Content is a duplicate of urn:li:share:7290000000000000000"

    def check_request(self, request: requests.PreparedRequest, message: Message) -> None:
        assert json_of(request) == {
            "author": AUTHOR,
            "commentary": escape_little_text(message.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
            "content": {"article": {"source": message.link, "title": message.title}},
        }
        headers = headers_of(request)
        assert headers["Authorization"] == f"Bearer {TOKEN}"
        assert headers["LinkedIn-Version"] == "202610"
        assert headers["X-Restli-Protocol-Version"] == "2.0.0"
        assert headers["Content-Type"] == "application/json"

    def sent_text(self, request: requests.PreparedRequest) -> str:
        return unescape(json_of(request)["commentary"])


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def linkedin(**options: object) -> LinkedInChannel:
    raw = {"type": "linkedin", "base_url": BASE, "token": TOKEN, "author": AUTHOR, **options}
    channel = LinkedInChannel.from_config("li", raw)
    assert isinstance(channel, LinkedInChannel)
    channel.clock = lambda: NOW
    return channel


def test_every_reserved_character_is_escaped(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", POSTS, status=201, headers={"x-restli-id": "urn:li:share:1"})
    text = r"ICT & AI (2027) <online> [free] {new} @ITU *5G* _x_ ~y~ a|b c\d #SpectrumManagement"
    linkedin().send(make_message(text=text, link=None))
    commentary = json_of(rsps.calls[0].request)["commentary"]
    assert commentary == (
        r"ICT & AI \(2027\) \<online\> \[free\] \{new\} \@ITU \*5G\* \_x\_ \~y\~ a\|b c\\d "
        r"\#SpectrumManagement"
    )
    assert "content" not in json_of(rsps.calls[0].request)


def test_the_card_title_falls_back_to_the_first_line(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", POSTS, status=201, headers={"x-restli-id": "urn:li:share:1"})
    linkedin().send(make_message(title=None, text="Course on 5G\nmore\nhttps://a.example/c"))
    article = json_of(rsps.calls[0].request)["content"]["article"]
    assert article["title"] == "Course on 5G"


def test_escaping_counts_toward_the_3000_limit(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", POSTS, status=201, headers={"x-restli-id": "urn:li:share:1"})
    text = "#tag (x) " * 400 + "\n\nhttps://a.example/c"  # 3600 plain, 5200 escaped
    linkedin().send(make_message(text=text, link="https://a.example/c"))
    commentary = json_of(rsps.calls[0].request)["commentary"]
    assert len(commentary) <= 3000
    assert commentary.endswith("…\n\nhttps://a.example/c")


def test_over_length_400_is_permanent_with_linkedins_words(rsps: responses.RequestsMock) -> None:
    message = (
        "ShareCommentary text length (8694 characters) exceeded the maximum allowed "
        "(3000 characters)"
    )
    rsps.add("POST", POSTS, status=400, json={"status": 400, "message": message})
    result = linkedin().send(make_message())
    assert result.status is DeliveryStatus.PERMANENT
    assert result.error == f"HTTP 400: {message}"


def test_retry_after_header_wins_over_midnight(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", POSTS, status=429, json={"message": "Too many"}, headers={"Retry-After": "60"})
    result = linkedin().send(make_message())
    assert result.retry_after == NOW + timedelta(seconds=60)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("version", "2026-10"),
        ("version", "202613"),
        ("author", "2414183"),
        ("author", "urn:li:x:1"),
    ],
)
def test_options_are_validated(option: str, value: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=option):
        linkedin(**{option: value})
