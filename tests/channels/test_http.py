"""The HTTP base: transport errors, shared error mapping, reset parsing, scrubbing, options."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pydantic
import pytest
import requests
import responses
from pydantic import SecretStr
from urllib3.exceptions import MaxRetryError, ProtocolError

from channels.base import ChannelConfigError, ChannelOptions, DeliveryResult, DeliveryStatus
from channels.base import Message as Msg
from channels.http import (
    HttpChannel,
    HttpOptions,
    PreparedCall,
    json_body,
    parse_epoch_or_delta,
    parse_iso,
    parse_retry_after,
    scrub,
)
from tests.channels.contract import NOW, connection_refused, make_message

BASE = "https://api.example"


class EchoOptions(HttpOptions):
    token: SecretStr


class EchoChannel(HttpChannel):
    """The smallest adapter: POST the text, 200 {"id"} is success."""

    type = "echo"
    Options = EchoOptions
    options: EchoOptions
    idempotent = False

    def build_request(self, message: Msg) -> PreparedCall:
        headers = {"Authorization": f"Bearer {self.options.token.get_secret_value()}"}
        return PreparedCall(
            "POST",
            f"{self.options.base_url}/post",
            headers=headers,
            json={"text": message.text},
            idempotent=self.idempotent,
        )

    def parse_response(self, response: requests.Response, message: Msg) -> DeliveryResult:
        if response.ok:
            return DeliveryResult.sent(str(response.json()["id"]))
        return self.error_result(response)


@pytest.fixture
def channel() -> Iterator[EchoChannel]:
    made = EchoChannel.from_config(
        "echo", {"type": "echo", "base_url": BASE + "/", "token": "tok-5ecret"}
    )
    assert isinstance(made, EchoChannel)
    made.clock = lambda: NOW
    yield made
    made.close()


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def aborted() -> requests.ConnectionError:
    """The connection dropped after the request went out."""
    cause = ProtocolError("Connection aborted.", http.client.RemoteDisconnected("closed"))
    return requests.ConnectionError(cause)


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (requests.ConnectTimeout("connect timed out"), False, DeliveryStatus.TRANSIENT),
        (connection_refused(f"{BASE}/post"), False, DeliveryStatus.TRANSIENT),
        (
            requests.exceptions.SSLError("certificate verify failed"),
            False,
            DeliveryStatus.TRANSIENT,
        ),
        (requests.ReadTimeout("read timed out"), False, DeliveryStatus.UNKNOWN),
        (requests.ReadTimeout("read timed out"), True, DeliveryStatus.TRANSIENT),
        (aborted(), False, DeliveryStatus.UNKNOWN),
        (aborted(), True, DeliveryStatus.TRANSIENT),
        (requests.exceptions.ChunkedEncodingError("broken"), False, DeliveryStatus.UNKNOWN),
        (requests.exceptions.InvalidURL("bad"), False, DeliveryStatus.AUTH),
        (requests.exceptions.TooManyRedirects("loop"), False, DeliveryStatus.TRANSIENT),
    ],
)
def test_transport_errors(
    channel: EchoChannel,
    rsps: responses.RequestsMock,
    error: Exception,
    idempotent: bool,
    expected: DeliveryStatus,
) -> None:
    channel.idempotent = idempotent
    rsps.add("POST", f"{BASE}/post", body=error)
    result = channel.send(make_message())
    assert result.status is expected
    assert result.error and result.error.startswith(type(error).__name__)


def test_a_refused_connection_through_maxretry_is_never_sent() -> None:
    assert isinstance(connection_refused("x").args[0], MaxRetryError)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, DeliveryStatus.PERMANENT),
        (404, DeliveryStatus.PERMANENT),
        (401, DeliveryStatus.AUTH),
        (403, DeliveryStatus.AUTH),
        (429, DeliveryStatus.TRANSIENT),
        (500, DeliveryStatus.TRANSIENT),
        (502, DeliveryStatus.TRANSIENT),
    ],
)
def test_shared_status_mapping(
    channel: EchoChannel, rsps: responses.RequestsMock, status: int, expected: DeliveryStatus
) -> None:
    rsps.add("POST", f"{BASE}/post", status=status, json={"message": "the network's words"})
    result = channel.send(make_message())
    assert result == DeliveryResult(expected, error=f"HTTP {status}: the network's words")


def test_redirects_are_not_followed(channel: EchoChannel, rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{BASE}/post", status=301, headers={"Location": "https://elsewhere/post"})
    result = channel.send(make_message())
    assert result.status is DeliveryStatus.AUTH
    assert result.error == "HTTP 301: redirected to https://elsewhere/post; check base_url"
    assert len(rsps.calls) == 1


def test_an_unreadable_success_is_still_sent(
    channel: EchoChannel, rsps: responses.RequestsMock
) -> None:
    rsps.add("POST", f"{BASE}/post", status=200, body="<html>ok</html>")
    result = channel.send(make_message())
    assert result.status is DeliveryStatus.SENT and result.provider_id is None


def test_html_error_pages_are_summarised(
    channel: EchoChannel, rsps: responses.RequestsMock
) -> None:
    page = "<html>\n  <body>\n\n Bad   gateway </body></html>"
    rsps.add("POST", f"{BASE}/post", status=502, body=page)
    result = channel.send(make_message())
    assert result.error == "HTTP 502: <html> <body> Bad gateway </body></html>"


def test_retry_after_in_seconds_and_dates(
    channel: EchoChannel, rsps: responses.RequestsMock
) -> None:
    rsps.add("POST", f"{BASE}/post", status=429, headers={"Retry-After": "120"})
    rsps.add(
        "POST", f"{BASE}/post", status=503, headers={"Retry-After": "Mon, 01 Mar 2027 10:00:00 GMT"}
    )
    rsps.add("POST", f"{BASE}/post", status=502)
    assert channel.send(make_message()).retry_after == NOW + timedelta(seconds=120)
    unavailable = channel.send(make_message())
    assert unavailable.status is DeliveryStatus.TRANSIENT
    assert unavailable.retry_after == datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
    assert channel.send(make_message()).retry_after is None  # no header: the backoff decides


def test_one_session_per_channel_with_the_user_agent(
    channel: EchoChannel, rsps: responses.RequestsMock
) -> None:
    rsps.add("POST", f"{BASE}/post", json={"id": 1})
    session = channel.session
    channel.send(make_message())
    channel.send(make_message())
    assert channel.session is session
    assert {c.request.headers["User-Agent"] for c in rsps.calls} == {
        "CoE-Herald/0.1 (+https://academy.itu.int)"
    }
    assert rsps.calls[0].request.url == f"{BASE}/post"  # trailing slash of base_url dropped


def test_parse_retry_after() -> None:
    assert parse_retry_after("30", NOW) == NOW + timedelta(seconds=30)
    assert parse_retry_after("Mon, 01 Mar 2027 09:05:00 GMT", NOW) == NOW + timedelta(minutes=5)
    assert parse_retry_after("soon", NOW) is None


def test_parse_epoch_or_delta() -> None:
    assert parse_epoch_or_delta("90", NOW) == NOW + timedelta(seconds=90)
    epoch = str(int((NOW + timedelta(hours=1)).timestamp()))
    assert parse_epoch_or_delta(epoch, NOW) == NOW + timedelta(hours=1)
    assert parse_epoch_or_delta("x", NOW) is None


def test_parse_iso() -> None:
    expected = datetime(2027, 3, 1, 9, 5, tzinfo=UTC)
    assert parse_iso("2027-03-01T09:05:00.000Z") == expected
    assert parse_iso("2027-03-01T10:05:00+01:00") == expected
    assert parse_iso("2027-03-01T09:05:00") == expected
    assert parse_iso("tomorrow") is None


def test_json_body_tolerates_non_json() -> None:
    response = requests.Response()
    response._content = b"<html>"
    assert json_body(response) is None


def test_scrub_replaces_plain_and_percent_encoded_secrets() -> None:
    secret = "123:AB/c+d="
    text = f"url /bot{secret}/x and ?t=123%3AAB%2Fc%2Bd%3D and {secret}"
    assert scrub(text, [secret, ""]) == "url /bot***/x and ?t=*** and ***"


def test_base_url_is_validated() -> None:
    for bad in ("ftp://example.org", "example.org", "https://a.example/?x=1", "https://"):
        with pytest.raises(pydantic.ValidationError, match="base_url"):
            EchoChannel.from_config("e", {"type": "echo", "base_url": bad, "token": "t"})
    with pytest.raises(pydantic.ValidationError, match="timeout"):
        EchoChannel.from_config("e", {"type": "echo", "base_url": BASE, "token": "t", "timeout": 0})


def test_options_of_the_wrong_class_are_refused() -> None:
    with pytest.raises(ChannelConfigError, match="EchoOptions"):
        EchoChannel("e", ChannelOptions(type="echo"))
