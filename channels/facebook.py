"""Facebook Page (Graph API): `POST {base_url}/{graph_version}/{page_id}/feed`.

Form fields `message`, `link` and `access_token` (a Page access token, sent in the body, never
in the URL). The Graph API's error `code` decides the outcome, not the HTTP status:

=====================================  ===========================================
code                                   result
=====================================  ===========================================
4, 17, 32, 613, 80000-80014 (throttle)  TRANSIENT, when X-Business-Use-Case-Usage
                                       says access returns (else in 15 minutes)
2, or any HTTP 500                     UNKNOWN: a retry after these can publish a
                                       duplicate (the operator checks the page)
1                                      TRANSIENT
102, 190, 10, 200-299                  AUTH (token expired or revoked, permission)
368, 506, 1609005                      PERMANENT (blocked, duplicate, link unreadable)
=====================================  ===========================================
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import requests
from pydantic import SecretStr, field_validator

from channels.base import DeliveryResult, DeliveryStatus, Message
from channels.http import HttpChannel, HttpOptions, PreparedCall, json_body
from channels.text import RULES

_THROTTLED = frozenset({4, 17, 32, 613, *range(80000, 80015)})
_AUTH = frozenset({10, 102, 190, *range(200, 300)})
_PERMANENT = frozenset({368, 506, 1609005})
_DEFAULT_WAIT = timedelta(minutes=15)


class FacebookOptions(HttpOptions):
    page_id: str
    access_token: SecretStr
    """A Page access token (from `GET /{user-id}/accounts`), with `pages_manage_posts`."""
    graph_version: str = "v25.0"

    @field_validator("page_id")
    @classmethod
    def _check_page_id(cls, value: str) -> str:
        if not value.isdigit():
            raise ValueError("must be the page's numeric id")
        return value

    @field_validator("graph_version")
    @classmethod
    def _check_version(cls, value: str) -> str:
        if not re.fullmatch(r"v\d+\.\d+", value):
            raise ValueError("must look like v25.0")
        return value


class FacebookChannel(HttpChannel):
    """Posts to a Facebook Page's feed."""

    type = "facebook"
    Options = FacebookOptions
    options: FacebookOptions
    text_rules = RULES["facebook"]
    text_limit = RULES["facebook"].limit

    def build_request(self, message: Message) -> PreparedCall:
        o = self.options
        form = {"message": self.post_text(message)}
        if message.link:
            form["link"] = message.link
        form["access_token"] = o.access_token.get_secret_value()
        url = f"{o.base_url}/{o.graph_version}/{o.page_id}/feed"
        return PreparedCall("POST", url, data=form)

    def parse_response(self, response: requests.Response, message: Message) -> DeliveryResult:
        body = json_body(response)
        if response.ok and isinstance(body, dict) and body.get("id"):
            return DeliveryResult.sent(str(body["id"]))
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return self._graph_error(response, error)
        if response.status_code == 500:
            return self._unknown(self.error_message(response))
        return self.error_result(response)

    def _graph_error(self, response: requests.Response, error: dict[str, Any]) -> DeliveryResult:
        code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
        text = _describe(response.status_code, error, code, subcode)
        if code in _THROTTLED:
            return DeliveryResult(
                DeliveryStatus.TRANSIENT, retry_after=self.retry_after(response), error=text
            )
        if code == 2 or response.status_code == 500:
            return self._unknown(text)
        if code == 1:
            return DeliveryResult(DeliveryStatus.TRANSIENT, error=text)
        if code in _AUTH:
            return DeliveryResult(DeliveryStatus.AUTH, error=text)
        if code in _PERMANENT or subcode in _PERMANENT:
            return DeliveryResult(DeliveryStatus.PERMANENT, error=text)
        return self.error_result(response, text)

    @staticmethod
    def _unknown(text: str) -> DeliveryResult:
        return DeliveryResult(
            DeliveryStatus.UNKNOWN, error=f"{text}; may have been published: check the page"
        )

    def rate_limit_reset(self, response: requests.Response, now: datetime) -> datetime:
        """The longest `estimated_time_to_regain_access` (minutes) in
        X-Business-Use-Case-Usage, else 15 minutes from now."""
        minutes = 0.0
        try:
            usage = json.loads(response.headers.get("X-Business-Use-Case-Usage", "{}"))
        except ValueError:
            usage = {}
        entries = usage.values() if isinstance(usage, dict) else []
        for entry in (e for group in entries if isinstance(group, list) for e in group):
            if isinstance(entry, dict):
                value = entry.get("estimated_time_to_regain_access")
                if isinstance(value, int | float):
                    minutes = max(minutes, float(value))
        return now + (timedelta(minutes=minutes) if minutes > 0 else _DEFAULT_WAIT)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _describe(status: int, error: dict[str, Any], code: int | None, subcode: int | None) -> str:
    message = error.get("message") or "unknown error"
    user_message = error.get("error_user_msg")
    if user_message and user_message != message:
        message = f"{message} ({user_message})"
    ref = f"#{code}" + (f"/{subcode}" if subcode else "")
    trace = f" fbtrace_id={error['fbtrace_id']}" if error.get("fbtrace_id") else ""
    return f"HTTP {status}: {message} [{ref}]{trace}"
