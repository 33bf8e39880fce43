"""LinkedIn Posts API: a text post, with a link card, on an organization page.

`POST {base_url}/rest/posts` with a 3-legged member token holding `w_organization_social`.
The commentary is in LinkedIn's "little text" format: every reserved character is
backslash-escaped, hashtags included (`\\#SpectrumManagement` shows as plain text
`#SpectrumManagement`, not a hashtag link) because an unescaped one makes LinkedIn silently
truncate the post there. LinkedIn gives no rate-limit headers: its quotas are daily and reset
at midnight UTC, so a 429 without `Retry-After` waits until then.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import requests
from pydantic import SecretStr, field_validator

from channels.base import DeliveryResult, Message
from channels.http import HttpChannel, HttpOptions, PreparedCall, json_body
from channels.text import RULES, escape_little_text

_AUTHOR = re.compile(r"urn:li:(organization|person):[A-Za-z0-9_-]+")
_VERSION = re.compile(r"20\d\d(0[1-9]|1[0-2])")
_TITLE_MAX = 400


class LinkedInOptions(HttpOptions):
    token: SecretStr
    """A 3-legged member access token with `w_organization_social`."""
    author: str
    """The page posting: `urn:li:organization:<id>` (or a member `urn:li:person:<id>`)."""
    version: str = "202610"
    """The `LinkedIn-Version` header, YYYYMM; LinkedIn sunsets versions after about a year."""
    visibility: str = "PUBLIC"

    @field_validator("author")
    @classmethod
    def _check_author(cls, value: str) -> str:
        if not _AUTHOR.fullmatch(value):
            raise ValueError("must be urn:li:organization:<id> (or urn:li:person:<id>)")
        return value

    @field_validator("version")
    @classmethod
    def _check_version(cls, value: str) -> str:
        if not _VERSION.fullmatch(value):
            raise ValueError("must be YYYYMM, e.g. 202610")
        return value

    @field_validator("visibility")
    @classmethod
    def _check_visibility(cls, value: str) -> str:
        if value not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN"):
            raise ValueError("must be PUBLIC, CONNECTIONS or LOGGED_IN")
        return value


class LinkedInChannel(HttpChannel):
    """Posts to a LinkedIn page."""

    type = "linkedin"
    Options = LinkedInOptions
    options: LinkedInOptions
    text_rules = RULES["linkedin"]
    text_limit = RULES["linkedin"].limit

    def build_request(self, message: Message) -> PreparedCall:
        o = self.options
        body: dict[str, Any] = {
            "author": o.author,
            "commentary": escape_little_text(self.post_text(message)),
            "visibility": o.visibility,
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if message.link:
            # LinkedIn does not fetch the page: the card needs our own title.
            body["content"] = {"article": {"source": message.link, "title": _title(message)}}
        headers = {
            "Authorization": f"Bearer {o.token.get_secret_value()}",
            "LinkedIn-Version": o.version,
            "X-Restli-Protocol-Version": "2.0.0",
            "Content-Type": "application/json",
        }
        return PreparedCall("POST", f"{o.base_url}/rest/posts", headers=headers, json=body)

    def parse_response(self, response: requests.Response, message: Message) -> DeliveryResult:
        if response.ok:
            body = json_body(response)
            urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
            if not urn and isinstance(body, dict) and isinstance(body.get("id"), str):
                urn = body["id"]
            return DeliveryResult.sent(urn or None)
        # 422 DUPLICATE_POST and 400 over-length commentary fall to PERMANENT there.
        return self.error_result(response)

    def error_message(self, response: requests.Response) -> str:
        """LinkedIn's `message`, with its `errorDetailType` / input error codes."""
        body = json_body(response)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"]
            codes = _input_error_codes(body)
            kind = body.get("errorDetailType") or body.get("code")
            if isinstance(kind, str):
                codes.insert(0, kind.rsplit(".", 1)[-1])
            suffix = f" [{', '.join(codes)}]" if codes else ""
            return f"HTTP {response.status_code}: {message}{suffix}"
        return super().error_message(response)

    def rate_limit_reset(self, response: requests.Response, now: datetime) -> datetime | None:
        """Daily quotas reset at midnight UTC."""
        return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def _title(message: Message) -> str:
    title = message.title or next((line for line in message.text.splitlines() if line), "")
    title = title.strip() or message.link or ""
    return title if len(title) <= _TITLE_MAX else title[: _TITLE_MAX - 1] + "…"


def _input_error_codes(body: dict[str, Any]) -> list[str]:
    details = body.get("errorDetails")
    errors = details.get("inputErrors") if isinstance(details, dict) else None
    if not isinstance(errors, list):
        return []
    return [str(e["code"]) for e in errors if isinstance(e, dict) and "code" in e]
