"""Telegram Bot API: `POST {base_url}/bot<token>/sendMessage` to a channel or group.

The text goes as HTML with every `<`, `>` and `&` escaped, so nothing in it is read as markup
and Telegram counts exactly the plain text (limit 4096 UTF-16 units after entity parsing).
The bot token is part of the URL path: it is scrubbed from every error and log line, including
the URL that `requests` exceptions quote.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any

import requests
from pydantic import SecretStr, field_validator

from channels.base import DeliveryResult, DeliveryStatus, Message
from channels.http import HttpChannel, HttpOptions, PreparedCall, json_body
from channels.text import RULES

_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")


class TelegramOptions(HttpOptions):
    token: SecretStr
    """The bot token from @BotFather; the bot must be an admin allowed to post."""
    chat_id: int | str
    """A numeric chat id (`-100…` for channels) or `@channelusername`."""
    disable_notification: bool = False
    link_preview: bool = True

    @field_validator("chat_id")
    @classmethod
    def _check_chat_id(cls, value: int | str) -> int | str:
        if isinstance(value, int):
            return value
        value = value.strip()
        if re.fullmatch(r"-?\d+", value):
            return int(value)
        if not _USERNAME.fullmatch(value):
            raise ValueError("must be a numeric chat id or @channelusername")
        return value


class TelegramChannel(HttpChannel):
    """Posts to one Telegram channel or group through a bot."""

    type = "telegram"
    Options = TelegramOptions
    options: TelegramOptions
    text_rules = RULES["telegram"]
    text_limit = RULES["telegram"].limit

    def build_request(self, message: Message) -> PreparedCall:
        o = self.options
        preview: dict[str, Any] = {"is_disabled": not o.link_preview}
        if message.link and o.link_preview:
            preview["url"] = message.link
        body: dict[str, Any] = {
            "chat_id": o.chat_id,
            "text": html.escape(self.post_text(message), quote=False),
            "parse_mode": "HTML",
            "link_preview_options": preview,
        }
        if o.disable_notification:
            body["disable_notification"] = True
        url = f"{o.base_url}/bot{o.token.get_secret_value()}/sendMessage"
        return PreparedCall("POST", url, json=body)

    def parse_response(self, response: requests.Response, message: Message) -> DeliveryResult:
        body = json_body(response)
        if not isinstance(body, dict) or "ok" not in body:
            return self.error_result(response)
        if body["ok"] is True:
            return DeliveryResult.sent(str(body["result"]["message_id"]))
        code = body.get("error_code")
        code = code if isinstance(code, int) else response.status_code
        params = body.get("parameters")
        params = params if isinstance(params, dict) else {}
        text = f"HTTP {code}: {body.get('description') or response.reason}"
        if code == 429:
            return DeliveryResult(
                DeliveryStatus.TRANSIENT, retry_after=self.retry_after(response), error=text
            )
        if "migrate_to_chat_id" in params:
            # Every later post would fail the same way until chat_id is updated.
            new_id = params["migrate_to_chat_id"]
            return DeliveryResult(DeliveryStatus.AUTH, error=f"{text}; set chat_id: {new_id}")
        if code in (401, 403, 404) or "chat not found" in text.lower():
            return DeliveryResult(DeliveryStatus.AUTH, error=text)
        if code >= 500:
            return DeliveryResult(DeliveryStatus.TRANSIENT, error=text)
        return DeliveryResult(DeliveryStatus.PERMANENT, error=text)

    def rate_limit_reset(self, response: requests.Response, now: datetime) -> datetime | None:
        """`parameters.retry_after` seconds, from the body."""
        body = json_body(response)
        params = body.get("parameters") if isinstance(body, dict) else None
        seconds = params.get("retry_after") if isinstance(params, dict) else None
        if isinstance(seconds, int | float) and seconds >= 0:
            return now + timedelta(seconds=seconds)
        return None
