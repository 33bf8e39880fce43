"""Webhook adapter: the contract for a Slack URL and a signed generic receiver, Teams cards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pydantic
import pytest
import requests
import responses

from channels.base import DeliveryStatus, Message
from channels.webhook import WebhookChannel, verify_signature
from tests.channels.contract import (
    LINK,
    NOW,
    ChannelContract,
    Reply,
    headers_of,
    json_of,
    make_message,
)

SLACK_URL = "https://hooks.slack.example/services/T0001/B0002/XXXXsecretXXXX"
SIGNING = "whsec-6b0c3e1d9f"
RECEIVER = "https://receiver.example"


class TestSlackWebhookContract(ChannelContract):
    channel_type = WebhookChannel
    config = {"url": SLACK_URL, "format": "slack"}
    # The whole URL is secret; urllib3 errors quote its path alone, and the token may be echoed.
    secrets = (SLACK_URL, "/services/T0001/B0002/XXXXsecretXXXX", "XXXXsecretXXXX")
    url = SLACK_URL
    target_option = "url"
    success = Reply(200, body="ok")
    provider_id = None
    rate_limited = Reply(429, body="rate_limited", headers={"Retry-After": "30"})
    retry_after = NOW + timedelta(seconds=30)
    unauthorized = Reply(403, body="invalid_token")
    rejected = Reply(400, body="invalid_payload")
    rejected_error = "invalid_payload"

    def check_request(self, request: requests.PreparedRequest, message: Message) -> None:
        assert json_of(request) == {"text": message.text}
        assert headers_of(request)["Content-Type"] == "application/json; charset=utf-8"
        assert "X-Herald-Signature" not in request.headers

    def sent_text(self, request: requests.PreparedRequest) -> str:
        text = json_of(request)["text"]
        return str(text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class TestSignedWebhookContract(ChannelContract):
    channel_type = WebhookChannel
    config = {"base_url": RECEIVER, "path": "hooks/herald", "signing_secret": SIGNING}
    secrets = (SIGNING,)
    url = f"{RECEIVER}/hooks/herald"
    success = Reply(202, json={"accepted": True}, headers={"X-Request-Id": "req-81"})
    provider_id = "req-81"
    rate_limited = Reply(
        429, json={"error": "slow down"}, headers={"Retry-After": "Mon, 01 Mar 2027 09:10:00 GMT"}
    )
    retry_after = NOW + timedelta(minutes=10)
    unauthorized = Reply(401, json={"error": "bad signature"})
    rejected = Reply(422, json={"error": "duplicate key social_announce:C-2027-014:net"})
    rejected_error = "duplicate key social_announce:C-2027-014:net"

    def check_request(self, request: requests.PreparedRequest, message: Message) -> None:
        assert json_of(request) == {
            "key": message.key,
            "text": message.text,
            "link": message.link,
            "title": message.title,
            "language": "en",
            "meta": {"course_id": "C-2027-014"},
        }
        headers = headers_of(request)
        timestamp = headers["X-Herald-Timestamp"]
        assert timestamp == str(int(NOW.timestamp()))
        body = request.body
        assert isinstance(body, bytes)
        assert verify_signature(
            SIGNING, timestamp, body, headers["X-Herald-Signature"], now=NOW.timestamp()
        )

    def sent_text(self, request: requests.PreparedRequest) -> str:
        return str(json_of(request)["text"])


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def webhook(**options: object) -> WebhookChannel:
    channel = WebhookChannel.from_config("hook", {"type": "webhook", **options})
    assert isinstance(channel, WebhookChannel)
    channel.clock = lambda: NOW
    return channel


def test_signature_covers_the_exact_bytes(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", RECEIVER, status=204)
    webhook(base_url=RECEIVER, signing_secret=SIGNING).send(make_message(text="Café ☕ <b>"))
    request = rsps.calls[0].request
    headers, body = headers_of(request), request.body
    assert isinstance(body, bytes)
    assert "Café ☕ <b>".encode() in body  # UTF-8, not \\u escapes
    now = NOW.timestamp()
    signature = headers["X-Herald-Signature"]
    assert signature.startswith("sha256=")
    assert verify_signature(SIGNING, headers["X-Herald-Timestamp"], body, signature, now=now)
    assert not verify_signature(
        SIGNING, headers["X-Herald-Timestamp"], body + b" ", signature, now=now
    )
    assert not verify_signature("other", headers["X-Herald-Timestamp"], body, signature, now=now)
    assert not verify_signature(
        SIGNING, headers["X-Herald-Timestamp"], body, signature, now=now + 301
    )


def test_header_names_are_options(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", RECEIVER, status=200)
    webhook(
        base_url=RECEIVER,
        signing_secret=SIGNING,
        signature_header="X-Sig",
        timestamp_header="X-Ts",
    ).send(make_message())
    headers = headers_of(rsps.calls[0].request)
    assert headers["X-Sig"].startswith("sha256=") and headers["X-Ts"]


def test_teams_gets_an_adaptive_card(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", RECEIVER, status=202)
    webhook(base_url=RECEIVER, format="teams").send(make_message())
    document = json_of(rsps.calls[0].request)
    assert document["type"] == "message"
    [attachment] = document["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert [block["text"] for block in card["body"]] == [
        "Spectrum management for regulators",
        make_message().text,
    ]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open", "url": LINK}]


def test_slack_control_characters_are_escaped(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", SLACK_URL, body="ok")
    webhook(url=SLACK_URL, format="slack").send(make_message(text="R&D <!channel> > all"))
    assert json_of(rsps.calls[0].request) == {"text": "R&amp;D &lt;!channel&gt; &gt; all"}


@pytest.mark.parametrize(("status", "body"), [(404, "no_service"), (410, "gone")])
def test_endpoint_gone_needs_attention(
    rsps: responses.RequestsMock, status: int, body: str
) -> None:
    rsps.add("POST", SLACK_URL, status=status, body=body)
    result = webhook(url=SLACK_URL, format="slack").send(make_message())
    assert result.status is DeliveryStatus.AUTH
    assert result.error == f"HTTP {status}: {body}"


def test_meta_that_json_cannot_hold_is_stringified(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", RECEIVER, status=200)
    webhook(base_url=RECEIVER).send(make_message(meta={"when": NOW}))
    assert json_of(rsps.calls[0].request)["meta"] == {"when": "2027-03-01 09:00:00+00:00"}


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({}, "exactly one of url or base_url"),
        ({"url": SLACK_URL, "base_url": RECEIVER}, "exactly one of url or base_url"),
        ({"url": SLACK_URL, "path": "/x"}, "path goes with base_url"),
        ({"url": "ftp://example.org/x"}, "http:// or https://"),
        ({"base_url": RECEIVER, "format": "discord"}, "format"),
    ],
)
def test_options_are_validated(options: dict[str, str], complaint: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=complaint) as caught:
        webhook(**options)
    assert "XXXXsecretXXXX" not in str(caught.value)
