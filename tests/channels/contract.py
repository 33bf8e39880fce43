"""The contract every HTTP channel passes. Each `tests/channels/test_<network>.py` subclasses
`ChannelContract` with the network's documented request and answers, then adds its specifics.

The fake is `responses`: a request that reaches no registered URL fails loudly, so a test
that registers nothing proves no call was made.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pydantic
import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError

from channels.base import DeliveryResult, DeliveryStatus, Message
from channels.http import USER_AGENT, HttpChannel
from channels.text import fits

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LINK = "https://academy.itu.int/training-courses/full-catalogue/spectrum-management-2027"
TEXT = f"Spectrum management for regulators: 3–7 May 2027, online.\n\n{LINK}"


def make_message(**changes: Any) -> Message:
    values: dict[str, Any] = {
        "key": "social_announce:C-2027-014:net",
        "text": TEXT,
        "language": "en",
        "link": LINK,
        "title": "Spectrum management for regulators",
        "meta": {"course_id": "C-2027-014"},
    }
    values.update(changes)
    return Message(**values)


@dataclass(frozen=True)
class Reply:
    """One canned answer, shaped like the network's."""

    status: int
    json: Any = None
    body: str | Exception | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def register(self, rsps: responses.RequestsMock, method: str, url: str) -> None:
        if isinstance(self.body, Exception):
            rsps.add(method, url, body=self.body)
        elif self.json is not None:
            rsps.add(method, url, status=self.status, json=self.json, headers=dict(self.headers))
        else:
            rsps.add(
                method, url, status=self.status, body=self.body or "", headers=dict(self.headers)
            )


def connection_refused(url: str) -> requests.ConnectionError:
    """What requests raises when nothing listens: urllib3 quotes the request's path and query
    (maybe with a token in them)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111]")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, target, reason))  # type: ignore[arg-type]


class ChannelContract:
    """Subclass with the network's facts; pytest collects the `Test…` subclasses."""

    channel_type: ClassVar[type[HttpChannel]]
    config: ClassVar[dict[str, Any]]
    """Options without `type`; every secret among them is listed in `secrets`."""
    secrets: ClassVar[tuple[str, ...]]
    method: ClassVar[str] = "POST"
    url: ClassVar[str]
    """The endpoint that publishes a post."""
    success: ClassVar[Reply]
    provider_id: ClassVar[str | None]
    rate_limited: ClassVar[Reply]
    retry_after: ClassVar[datetime | None]
    unavailable: ClassVar[Reply] = Reply(503, body="<html><h1>503 Service Unavailable</h1></html>")
    unauthorized: ClassVar[Reply]
    rejected: ClassVar[Reply]
    """The network refusing the content itself (a duplicate, an invalid text)."""
    rejected_error: ClassVar[str]
    """Words of the network's own message that the result's error must carry."""
    read_timeout_status: ClassVar[DeliveryStatus] = DeliveryStatus.UNKNOWN
    target_option: ClassVar[str] = "base_url"

    # -- hooks ---------------------------------------------------------------------------------

    def ready(self, channel: HttpChannel) -> None:
        """Put the channel in the state `build_request` needs, without I/O (a session)."""

    def prime(self, rsps: responses.RequestsMock) -> None:
        """Register the calls a send makes besides the post (a login)."""

    def check_request(self, request: requests.PreparedRequest, message: Message) -> None:
        """Assert the exact documented shape of the post request."""
        raise NotImplementedError

    def sent_text(self, request: requests.PreparedRequest) -> str:
        """The post's text as the network will count it, taken from the request."""
        raise NotImplementedError

    # -- fixtures ------------------------------------------------------------------------------

    @pytest.fixture
    def channel(self) -> Iterator[HttpChannel]:
        raw = {"type": self.channel_type.type, "timeout": 7.5, **self.config}
        channel = self.channel_type.from_config("net", raw)
        assert isinstance(channel, HttpChannel)
        channel.clock = lambda: NOW
        yield channel
        channel.close()

    @pytest.fixture
    def rsps(self) -> Iterator[responses.RequestsMock]:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            yield mock

    def answer(
        self, channel: HttpChannel, rsps: responses.RequestsMock, reply: Reply, message: Message
    ) -> DeliveryResult:
        self.prime(rsps)
        reply.register(rsps, self.method, self.url)
        return channel.send(message)

    def post_calls(self, rsps: responses.RequestsMock) -> list[requests.PreparedRequest]:
        return [c.request for c in rsps.calls if (c.request.url or "").startswith(self.url)]

    # -- the contract --------------------------------------------------------------------------

    def test_build_request_is_pure(self, channel: HttpChannel) -> None:
        self.ready(channel)
        message = make_message()
        with responses.RequestsMock(assert_all_requests_are_fired=False) as nothing:
            first = channel.build_request(message)
            second = channel.build_request(message)
            assert len(nothing.calls) == 0
        assert (first.method, first.url) == (self.method, self.url)
        assert (first.json, first.data, first.headers) == (second.json, second.data, second.headers)

    def test_request_shape(self, channel: HttpChannel, rsps: responses.RequestsMock) -> None:
        message = make_message()
        self.answer(channel, rsps, self.success, message)
        [request] = self.post_calls(rsps)
        assert request.method == self.method
        assert request.url == self.url
        assert header(request, "User-Agent") == USER_AGENT
        assert request.req_kwargs["timeout"] == 7.5  # type: ignore[attr-defined]
        self.check_request(request, message)

    def test_success_gives_provider_id(
        self, channel: HttpChannel, rsps: responses.RequestsMock
    ) -> None:
        result = self.answer(channel, rsps, self.success, make_message())
        assert result == DeliveryResult(DeliveryStatus.SENT, provider_id=self.provider_id)

    def test_rate_limited_is_transient_until_reset(
        self, channel: HttpChannel, rsps: responses.RequestsMock
    ) -> None:
        result = self.answer(channel, rsps, self.rate_limited, make_message())
        assert result.status is DeliveryStatus.TRANSIENT
        assert result.retry_after == self.retry_after

    def test_unavailable_is_transient(
        self, channel: HttpChannel, rsps: responses.RequestsMock
    ) -> None:
        result = self.answer(channel, rsps, self.unavailable, make_message())
        assert result.status is DeliveryStatus.TRANSIENT
        assert result.error and "503" in result.error

    def test_unauthorized_needs_attention(
        self, channel: HttpChannel, rsps: responses.RequestsMock
    ) -> None:
        result = self.answer(channel, rsps, self.unauthorized, make_message())
        assert result.status is DeliveryStatus.AUTH

    def test_rejected_content_is_permanent_with_network_message(
        self, channel: HttpChannel, rsps: responses.RequestsMock
    ) -> None:
        result = self.answer(channel, rsps, self.rejected, make_message())
        assert result.status is DeliveryStatus.PERMANENT
        assert result.error and self.rejected_error in result.error

    def test_connection_refused_is_transient(
        self, channel: HttpChannel, rsps: responses.RequestsMock
    ) -> None:
        refused = Reply(0, body=connection_refused(self.url))
        result = self.answer(channel, rsps, refused, make_message())
        assert result.status is DeliveryStatus.TRANSIENT

    def test_read_timeout_after_sending(
        self, channel: HttpChannel, rsps: responses.RequestsMock
    ) -> None:
        timeout = Reply(0, body=requests.ReadTimeout(f"Read timed out. (url: {self.url})"))
        result = self.answer(channel, rsps, timeout, make_message())
        assert result.status is self.read_timeout_status

    def test_overlong_text_is_shortened_keeping_the_link(
        self, channel: HttpChannel, rsps: responses.RequestsMock
    ) -> None:
        rules = channel.text_rules_for()
        assert rules is not None
        assert type(channel).text_limit is not None
        prose = "Spectrum, regulation & policy (draft) " * (rules.limit // 19 + 5)
        message = make_message(text=f"{prose}\n\n{LINK}")
        result = self.answer(channel, rsps, self.success, message)
        assert result.status is DeliveryStatus.SENT
        text = self.sent_text(self.post_calls(rsps)[0])
        assert fits(text, rules)
        assert text.endswith(f"…\n\n{LINK}")

    def test_secrets_never_leak(
        self,
        channel: HttpChannel,
        rsps: responses.RequestsMock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        echo = " ".join(self.secrets)
        echoing = [
            Reply(400, json={"error": f"bad {echo}", "message": f"bad {echo}", "detail": echo}),
            Reply(500, body=f"upstream said {echo}"),
            Reply(0, body=connection_refused(self.url)),
            Reply(0, body=requests.ReadTimeout(f"timed out: {self.url} {echo}")),
            self.unauthorized,
            self.rejected,
        ]
        shown = [repr(channel), repr(channel.options), str(channel.options)]
        for reply in echoing:
            rsps.reset()
            result = self.answer(channel, rsps, reply, make_message())
            assert result.error
            shown += [result.error, repr(result)]
        shown.append(caplog.text)
        for secret in self.secrets:
            assert all(secret not in text for text in shown), secret

    def test_config_errors_hide_secrets(self) -> None:
        raw = {"type": self.channel_type.type, **self.config, "unexpected": True}
        with pytest.raises(pydantic.ValidationError) as caught:
            self.channel_type.from_config("net", raw)
        for secret in self.secrets:
            assert secret not in str(caught.value)

    def test_endpoint_is_required(self) -> None:
        raw = {"type": self.channel_type.type, **self.config}
        del raw[self.target_option]
        with pytest.raises(pydantic.ValidationError, match=self.target_option):
            self.channel_type.from_config("net", raw)


def header(request: requests.PreparedRequest, name: str) -> str:
    """A header as text (requests-oauthlib leaves signed requests' headers as bytes)."""
    value: str | bytes = request.headers[name]
    return value.decode() if isinstance(value, bytes) else value


def headers_of(request: requests.PreparedRequest) -> dict[str, str]:
    return {name: header(request, name) for name in request.headers}


def json_of(request: requests.PreparedRequest) -> Any:
    body = request.body
    assert body is not None
    return json.loads(body)
