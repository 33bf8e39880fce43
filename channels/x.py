"""X (Twitter) API v2: `POST {base_url}/2/tweets` with `{"text": …}` in user context.

Authentication is exactly one of: OAuth 1.0a user context (consumer key and secret, access
token and secret; each request signed) or an OAuth 2.0 user access token (`bearer_token`).
X sends no Retry-After: a 429 waits for the exhausted window's `x-*-reset` epoch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import requests
from pydantic import SecretStr, model_validator
from requests_oauthlib import OAuth1

from channels.base import DeliveryResult, DeliveryStatus, Message
from channels.http import (
    HttpChannel,
    HttpOptions,
    PreparedCall,
    json_body,
    parse_epoch,
)
from channels.text import RULES

_OAUTH1 = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
# Posting responses carry several windows; on a 429 the exhausted one decides.
_WINDOWS = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")


class XOptions(HttpOptions):
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    bearer_token: SecretStr | None = None
    """An OAuth 2.0 user-context access token (PKCE flow), instead of the four OAuth 1.0a keys."""

    @model_validator(mode="after")
    def _one_auth_method(self) -> XOptions:
        given = [name for name in _OAUTH1 if getattr(self, name) is not None]
        if self.bearer_token is not None and given:
            raise ValueError("give either bearer_token or the OAuth 1.0a keys, not both")
        if self.bearer_token is None and len(given) != len(_OAUTH1):
            missing = ", ".join(name for name in _OAUTH1 if name not in given)
            raise ValueError(f"OAuth 1.0a needs all four keys; missing: {missing}")
        return self


class XChannel(HttpChannel):
    """Posts to X as the user whose credentials the options carry."""

    type = "x"
    Options = XOptions
    options: XOptions
    text_rules = RULES["x"]
    text_limit = RULES["x"].limit

    def build_request(self, message: Message) -> PreparedCall:
        url = f"{self.options.base_url}/2/tweets"
        body = {"text": self.post_text(message)}
        token = self.options.bearer_token
        if token is not None:
            headers = {"Authorization": f"Bearer {token.get_secret_value()}"}
            return PreparedCall("POST", url, headers=headers, json=body)
        return PreparedCall("POST", url, json=body, auth=self._oauth1())

    def _oauth1(self) -> OAuth1:
        o = self.options
        keys = [getattr(o, name) for name in _OAUTH1]
        consumer_key, consumer_secret, access_token, access_token_secret = (
            k.get_secret_value() for k in keys
        )
        # The JSON body is not form data, so it is rightly left out of the signature.
        return OAuth1(
            consumer_key,
            client_secret=consumer_secret,
            resource_owner_key=access_token,
            resource_owner_secret=access_token_secret,
            signature_type="AUTH_HEADER",
        )

    def parse_response(self, response: requests.Response, message: Message) -> DeliveryResult:
        body = json_body(response)
        if response.ok:
            if isinstance(body, dict):
                data = body.get("data")
                if isinstance(data, dict) and data.get("id"):
                    return DeliveryResult.sent(str(data["id"]))
                if body.get("errors"):
                    # A 2xx carrying only errors[] created nothing.
                    error = self.error_message(response)
                    return DeliveryResult(DeliveryStatus.PERMANENT, error=error)
            return DeliveryResult(DeliveryStatus.SENT, error="answer without a post id")
        error = self.error_message(response)
        if response.status_code == 403 and "duplicate content" in error.lower():
            return DeliveryResult(DeliveryStatus.PERMANENT, error=error)
        return self.error_result(response, error)

    def error_message(self, response: requests.Response) -> str:
        """X's problem `detail` (or `title`), or the `errors[]` messages."""
        body = json_body(response)
        if isinstance(body, dict):
            parts = [str(body[k]) for k in ("detail", "title") if isinstance(body.get(k), str)]
            message: str | None = parts[0] if parts else None
            errors = body.get("errors")
            if isinstance(errors, list):
                texts = [_error_text(e) for e in errors]
                extra = "; ".join(t for t in texts if t)
                if message is None:
                    message = extra or None
                elif extra and extra not in message:
                    message = f"{message} ({extra})"
            if message:
                return f"HTTP {response.status_code}: {message}"
        return super().error_message(response)

    def rate_limit_reset(self, response: requests.Response, now: datetime) -> datetime | None:
        """The latest reset among exhausted windows (`remaining: 0`), else `x-rate-limit-reset`."""
        resets: list[tuple[datetime, bool]] = []
        for window in _WINDOWS:
            raw = response.headers.get(f"{window}-reset")
            when = parse_epoch(raw) if raw else None
            if when is not None:
                exhausted = response.headers.get(f"{window}-remaining", "").strip() == "0"
                resets.append((when, exhausted))
        spent = [when for when, done in resets if done]
        if spent:
            return max(spent)
        return resets[0][0] if resets else None


def _error_text(error: Any) -> str | None:
    if not isinstance(error, dict):
        return None
    for key in ("message", "detail", "title"):
        if isinstance(error.get(key), str):
            return str(error[key])
    return None
