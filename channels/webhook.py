"""Incoming webhooks: a JSON POST to Slack, a Microsoft Teams Workflow, or any receiver.

The target is either `url` (a secret: Slack and Teams webhook URLs carry their credential) or
`base_url` plus `path`. With `signing_secret`, each request carries
`X-Herald-Timestamp: <unix seconds>` and `X-Herald-Signature: sha256=<hex HMAC-SHA256 of
"<timestamp>.<exact body bytes>">`, which a receiver checks with `verify_signature`.
A 404 or 410 means the endpoint is gone (Slack `no_service`): the channel needs attention (AUTH).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import requests
from pydantic import SecretStr, field_validator, model_validator

from channels.base import DeliveryResult, DeliveryStatus, Message
from channels.http import HttpChannel, HttpOptions, PreparedCall, validate_base_url
from channels.text import RULES

Format = Literal["slack", "teams", "generic"]
# Shorter path segments or query values ("services", "1.0") are not credentials.
_MIN_SECRET_PART = 12


class WebhookOptions(HttpOptions):
    base_url: str | None = None  # type: ignore[assignment]  # `url` may stand instead
    url: SecretStr | None = None
    """The whole webhook URL, kept secret."""
    path: str = ""
    """Appended to `base_url`."""
    format: Format = "generic"
    signing_secret: SecretStr | None = None
    signature_header: str = "X-Herald-Signature"
    timestamp_header: str = "X-Herald-Timestamp"

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:  # type: ignore[override]
        return None if value is None else validate_base_url(value)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            # The message must not quote the URL: it is a secret.
            try:
                validate_base_url(value.get_secret_value().split("?", 1)[0])
            except ValueError:
                raise ValueError("must be an absolute http:// or https:// URL") from None
        return value

    @model_validator(mode="after")
    def _one_target(self) -> WebhookOptions:
        if (self.url is None) == (self.base_url is None):
            raise ValueError("give exactly one of url or base_url")
        if self.url is not None and self.path:
            raise ValueError("path goes with base_url, not url")
        return self


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over `"<timestamp>.<body>"`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: float, tolerance: float = 300
) -> bool:
    """For receivers: the signature matches and the timestamp is within `tolerance` seconds."""
    try:
        fresh = abs(now - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


def slack_escape(text: str) -> str:
    """Slack reads `&`, `<` and `>` as control characters in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(message: Message, text: str, fmt: Format) -> dict[str, Any]:
    """The JSON document for `fmt`."""
    if fmt == "slack":
        return {"text": slack_escape(text)}
    if fmt == "teams":
        return _adaptive_card(message, text)
    return {
        "key": message.key,
        "text": text,
        "link": message.link,
        "title": message.title,
        "language": message.language,
        "meta": dict(message.meta),
    }


def _adaptive_card(message: Message, text: str) -> dict[str, Any]:
    """A message with one Adaptive Card, as Teams Workflows webhooks expect."""
    body: list[dict[str, Any]] = []
    if message.title:
        body.append(
            {
                "type": "TextBlock",
                "text": message.title,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            }
        )
    body.append({"type": "TextBlock", "text": text, "wrap": True})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if message.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open", "url": message.link}]
    attachment = {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": None,
        "content": card,
    }
    return {"type": "message", "attachments": [attachment]}


class WebhookChannel(HttpChannel):
    """Posts each message as JSON to one webhook."""

    type = "webhook"
    Options = WebhookOptions
    options: WebhookOptions
    text_rules = RULES["webhook"]
    text_limit = RULES["webhook"].limit

    def __repr__(self) -> str:
        where = self.options.base_url or "<secret url>"
        return f"<{type(self).__name__} {self.name!r} {self.options.format} {where!r}>"

    def secret_values(self) -> list[str]:
        """Also the parts of a secret `url` that libraries quote alone (urllib3 errors give
        the path and query; the credential is a path segment or a query value)."""
        values = super().secret_values()
        if self.options.url is not None:
            parts = urlsplit(self.options.url.get_secret_value())
            values += [parts.path + (f"?{parts.query}" if parts.query else ""), parts.query]
            values += [s for s in parts.path.split("/") if len(s) >= _MIN_SECRET_PART]
            values += [v for _, v in parse_qsl(parts.query) if len(v) >= _MIN_SECRET_PART]
        return [v for v in values if v]

    def endpoint(self) -> str:
        o = self.options
        if o.url is not None:
            return o.url.get_secret_value()
        path = o.path if not o.path or o.path.startswith(("/", "?")) else "/" + o.path
        return f"{o.base_url}{path}"

    def build_request(self, message: Message) -> PreparedCall:
        o = self.options
        document = payload(message, self.post_text(message), o.format)
        # Serialised here so the signature covers exactly the bytes sent.
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str)
        data = body.encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if o.signing_secret is not None:
            timestamp = str(int(self.clock().timestamp()))
            headers[o.timestamp_header] = timestamp
            headers[o.signature_header] = sign(o.signing_secret.get_secret_value(), timestamp, data)
        return PreparedCall("POST", self.endpoint(), headers=headers, data=data)

    def parse_response(self, response: requests.Response, message: Message) -> DeliveryResult:
        if response.ok:
            return DeliveryResult.sent(response.headers.get("X-Request-Id"))
        if response.status_code in (404, 410):
            # Slack `no_service` / `channel_not_found`, a deleted flow: fix the channel.
            return DeliveryResult(DeliveryStatus.AUTH, error=self.error_message(response))
        return self.error_result(response)
