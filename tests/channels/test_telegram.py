"""Telegram adapter: the contract, HTML escaping, the token in the URL path, error codes."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from datetime import timedelta

import pydantic
import pytest
import requests
import responses

from channels.base import DeliveryStatus, Message
from channels.telegram import TelegramChannel
from tests.channels.contract import (
    NOW,
    ChannelContract,
    Reply,
    connection_refused,
    json_of,
    make_message,
)

BASE = "https://api.telegram.example"
TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SEND = f"{BASE}/bot{TOKEN}/sendMessage"


def failure(code: int, description: str, **parameters: object) -> dict[str, object]:
    body: dict[str, object] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


class TestTelegramContract(ChannelContract):
    channel_type = TelegramChannel
    config = {"base_url": BASE, "token": TOKEN, "chat_id": "@itu_academy"}
    secrets = (TOKEN,)
    url = SEND
    success = Reply(
        200,
        json={
            "ok": True,
            "result": {
                "message_id": 4711,
                "chat": {"id": -1001234567890, "type": "channel", "username": "itu_academy"},
                "date": 1804237200,
                "text": "…",
            },
        },
    )
    provider_id = "4711"
    rate_limited = Reply(
        429, json=failure(429, "Too Many Requests: retry after 15", retry_after=15)
    )
    retry_after = NOW + timedelta(seconds=15)
    unauthorized = Reply(401, json=failure(401, "Unauthorized"))
    rejected = Reply(400, json=failure(400, "Bad Request: message is too long"))
    rejected_error = "Bad Request: message is too long"

    def check_request(self, request: requests.PreparedRequest, message: Message) -> None:
        assert json_of(request) == {
            "chat_id": "@itu_academy",
            "text": message.text,  # nothing to escape in it
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": False, "url": message.link},
        }

    def sent_text(self, request: requests.PreparedRequest) -> str:
        return html.unescape(json_of(request)["text"])


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def telegram(**options: object) -> TelegramChannel:
    raw = {"type": "telegram", "base_url": BASE, "token": TOKEN, "chat_id": -1001234567890}
    channel = TelegramChannel.from_config("tg", {**raw, **options})
    assert isinstance(channel, TelegramChannel)
    channel.clock = lambda: NOW
    return channel


def test_text_is_html_escaped(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", SEND, json={"ok": True, "result": {"message_id": 1}})
    telegram().send(make_message(text="R&D <b>not bold</b> \"quoted\" 'single'"))
    body = json_of(rsps.calls[0].request)
    assert body["text"] == "R&amp;D &lt;b&gt;not bold&lt;/b&gt; \"quoted\" 'single'"
    assert body["chat_id"] == -1001234567890


def test_previews_can_be_turned_off(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", SEND, json={"ok": True, "result": {"message_id": 1}})
    telegram(link_preview=False, disable_notification=True).send(make_message())
    body = json_of(rsps.calls[0].request)
    assert body["link_preview_options"] == {"is_disabled": True}
    assert body["disable_notification"] is True


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            403,
            failure(403, "Forbidden: bot is not a member of the channel chat"),
            DeliveryStatus.AUTH,
        ),
        (400, failure(400, "Bad Request: chat not found"), DeliveryStatus.AUTH),
        (404, failure(404, "Not Found"), DeliveryStatus.AUTH),
        (
            400,
            failure(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=-1009876543210,
            ),
            DeliveryStatus.AUTH,
        ),
        (400, failure(400, "Bad Request: can't parse entities"), DeliveryStatus.PERMANENT),
        (502, failure(502, "Bad Gateway"), DeliveryStatus.TRANSIENT),
    ],
)
def test_error_codes(
    rsps: responses.RequestsMock, status: int, body: dict[str, object], expected: DeliveryStatus
) -> None:
    rsps.add("POST", SEND, status=status, json=body)
    result = telegram().send(make_message())
    assert result.status is expected
    assert result.error and str(body["description"]) in result.error


def test_migrated_group_names_the_new_chat_id(rsps: responses.RequestsMock) -> None:
    body = failure(400, "Bad Request: group chat was upgraded", migrate_to_chat_id=-100987)
    rsps.add("POST", SEND, status=400, json=body)
    result = telegram().send(make_message())
    assert result.error and result.error.endswith("set chat_id: -100987")


def test_the_token_never_shows_in_errors_or_logs(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.add("POST", SEND, body=connection_refused(SEND))
    result = telegram().send(make_message())
    assert result.error and "/bot***/sendMessage" in result.error
    assert TOKEN not in result.error and TOKEN not in caplog.text
    assert "/bot***/sendMessage" in caplog.text


def test_urllib3_debug_lines_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    channel = telegram()
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s',
        "https",
        "api.telegram.org",
        443,
        "POST",
        f"/bot{TOKEN}/sendMessage",
        "HTTP/1.1",
        200,
        93,
    )
    assert "/bot***/sendMessage" in caplog.text
    assert TOKEN not in caplog.text
    channel.close()


def test_a_prepared_call_does_not_show_the_token() -> None:
    call = telegram().build_request(make_message())
    assert TOKEN in call.url
    assert TOKEN not in repr(call)


@pytest.mark.parametrize("chat_id", ["itu_academy", "@no", "-100x", ""])
def test_chat_id_is_validated(chat_id: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="chat_id"):
        telegram(chat_id=chat_id)


def test_numeric_chat_id_given_as_text_becomes_a_number() -> None:
    assert telegram(chat_id="-1001234567890").options.chat_id == -1001234567890
