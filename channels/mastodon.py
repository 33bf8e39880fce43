"""Mastodon: `POST {base_url}/api/v1/statuses` with a `write:statuses` user token.

Each post carries `Idempotency-Key: sha256(message.key)`: the server remembers it for an hour,
so repeating a post whose answer was lost returns the first status instead of a duplicate. A
lost answer (a read timeout, a dropped connection, a 502/504) is repeated at once, within the
same send and well inside that hour (channels.idempotency); if every try loses its answer the
delivery is UNKNOWN, never retried days later when the key is forgotten. Each instance sets
its own length limit and URL weight (`GET /api/v2/instance`, `configuration.statuses`); the
options say them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Literal

import requests
from pydantic import Field, SecretStr

from channels.base import DeliveryResult, DeliveryStatus, Message
from channels.http import HttpChannel, HttpOptions, PreparedCall, json_body, parse_iso
from channels.text import RULES, TextRules


class MastodonOptions(HttpOptions):
    token: SecretStr
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    max_characters: int = Field(500, ge=1)
    """The instance's `configuration.statuses.max_characters`."""
    characters_reserved_per_url: int = Field(23, ge=0)
    """The instance's `configuration.statuses.characters_reserved_per_url`."""


def idempotency_key(message_key: str) -> str:
    """A deterministic key per delivery: the same post always carries the same key."""
    return hashlib.sha256(message_key.encode("utf-8")).hexdigest()


class MastodonChannel(HttpChannel):
    """Posts a status to one Mastodon account."""

    type = "mastodon"
    Options = MastodonOptions
    options: MastodonOptions
    text_rules = RULES["mastodon"]
    text_limit = RULES["mastodon"].limit
    idempotency_memory = timedelta(hours=1)

    def text_rules_for(self) -> TextRules:
        """Graphemes, each URL counting `characters_reserved_per_url`, up to `max_characters`."""
        o = self.options
        return TextRules(
            o.max_characters, url_weight=o.characters_reserved_per_url, unit="graphemes"
        )

    def build_request(self, message: Message) -> PreparedCall:
        o = self.options
        headers = {
            "Authorization": f"Bearer {o.token.get_secret_value()}",
            "Idempotency-Key": idempotency_key(message.key),
        }
        body = {
            "status": self.post_text(message),
            "visibility": o.visibility,
            "language": message.language,
        }
        return PreparedCall(
            "POST", f"{o.base_url}/api/v1/statuses", headers=headers, json=body, idempotent=True
        )

    def parse_response(self, response: requests.Response, message: Message) -> DeliveryResult:
        body = json_body(response)
        if response.ok:
            if isinstance(body, dict) and body.get("id"):
                return DeliveryResult.sent(str(body["id"]))
            return DeliveryResult(DeliveryStatus.SENT, error="answer without a status id")
        # 422 "Validation failed: …" (blank, too long) falls to PERMANENT there.
        return self.error_result(response)

    def rate_limit_reset(self, response: requests.Response, now: datetime) -> datetime | None:
        """`X-RateLimit-Reset` is an ISO-8601 timestamp on Mastodon, not an epoch."""
        raw = response.headers.get("X-RateLimit-Reset")
        return parse_iso(raw) if raw else None
