"""Bluesky (AT Protocol): `com.atproto.repo.createRecord` of an `app.bsky.feed.post`.

The channel logs in once (`createSession`, with an app password) and reuses the session for
every post: the entryway allows only about 100 logins a day. When the access token expires
(`ExpiredToken`), it refreshes with the refresh token (`refreshSession`), logging in again only
if that fails too, and sends the post once more. Bluesky does not parse markup, so every URL
in the text gets a link facet at UTF-8 byte offsets, and the message's link gets a card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from pydantic import SecretStr

from channels.base import ChannelError, ChannelOptions, DeliveryResult, DeliveryStatus, Message
from channels.http import (
    CallFailed,
    HttpChannel,
    HttpOptions,
    PreparedCall,
    json_body,
    parse_epoch_or_delta,
)
from channels.text import RULES, find_urls

_CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
_REFRESH_SESSION = "/xrpc/com.atproto.server.refreshSession"
_CREATE_RECORD = "/xrpc/com.atproto.repo.createRecord"
_EXPIRED = frozenset({"ExpiredToken", "InvalidToken"})


class BlueskyOptions(HttpOptions):
    identifier: str
    """The account's handle (or email)."""
    app_password: SecretStr
    """An app password (Settings → App passwords), never the account password."""


@dataclass(frozen=True)
class BlueskySession:
    """A logged-in session; the tokens never appear in its repr."""

    did: str
    access_jwt: str = field(repr=False)
    refresh_jwt: str = field(repr=False)
    handle: str = ""


def link_facets(text: str) -> list[dict[str, Any]]:
    """A link facet for every URL in `text`, at UTF-8 byte offsets, end exclusive."""
    facets = []
    for start, _end, url in find_urls(text):
        byte_start = len(text[:start].encode("utf-8"))
        facets.append(
            {
                "index": {"byteStart": byte_start, "byteEnd": byte_start + len(url.encode())},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
            }
        )
    return facets


def created_at(when: datetime) -> str:
    """The AT Protocol datetime form: UTC, milliseconds, `Z`."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class BlueskyChannel(HttpChannel):
    """Posts to one Bluesky account, keeping its session across posts."""

    type = "bluesky"
    Options = BlueskyOptions
    options: BlueskyOptions
    text_rules = RULES["bluesky"]
    text_limit = RULES["bluesky"].limit

    def __init__(self, name: str, options: ChannelOptions) -> None:
        super().__init__(name, options)
        self.bsky_session: BlueskySession | None = None

    def use_session(self, session: BlueskySession | None) -> None:
        """Adopt a session (a stored one, or a fresh login's); None forgets it."""
        old = self.bsky_session
        if old is not None:
            self._runtime_secrets -= {old.access_jwt, old.refresh_jwt}
        self.bsky_session = session
        if session is not None:
            self.add_secret(session.access_jwt)
            self.add_secret(session.refresh_jwt)

    # -- session ---------------------------------------------------------------------------------

    def prepare(self) -> None:
        if self.bsky_session is None:
            self._login()

    def _login(self) -> None:
        o = self.options
        body = {"identifier": o.identifier, "password": o.app_password.get_secret_value()}
        call = PreparedCall("POST", o.base_url + _CREATE_SESSION, json=body, idempotent=True)
        self._adopt(self._perform(call))

    def _refresh(self, session: BlueskySession) -> None:
        headers = {"Authorization": f"Bearer {session.refresh_jwt}"}
        call = PreparedCall(
            "POST", self.options.base_url + _REFRESH_SESSION, headers=headers, idempotent=True
        )
        response = self._perform(call)
        if response.status_code in (400, 401) and _error_name(response) in _EXPIRED:
            self.use_session(None)
            self._login()
        else:
            self._adopt(response)

    def _adopt(self, response: requests.Response) -> None:
        """Take the session from a createSession/refreshSession answer, or fail the send."""
        body = json_body(response)
        if response.ok and isinstance(body, dict):
            try:
                session = BlueskySession(
                    did=str(body["did"]),
                    access_jwt=str(body["accessJwt"]),
                    refresh_jwt=str(body["refreshJwt"]),
                    handle=str(body.get("handle", "")),
                )
            except KeyError:
                pass
            else:
                self.use_session(session)
                return
        result = self.error_result(response)
        if result.status is DeliveryStatus.PERMANENT:
            # A refused login (2FA required, account taken down) is the channel's problem,
            # not the post's: the delivery waits for the operator.
            result = DeliveryResult(DeliveryStatus.AUTH, error=result.error)
        raise CallFailed(result)

    def reauthenticate(self, response: requests.Response) -> bool:
        session = self.bsky_session
        if session is None or response.status_code not in (400, 401):
            return False
        if _error_name(response) not in _EXPIRED:
            return False
        self._refresh(session)
        return True

    # -- the post ----------------------------------------------------------------------------------

    def build_request(self, message: Message) -> PreparedCall:
        session = self.bsky_session
        if session is None:
            raise ChannelError(f"{self.name}: no session; send() logs in first")
        text = self.post_text(message)
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": created_at(self.clock()),
            "langs": [message.language],
        }
        facets = link_facets(text)
        if facets:
            record["facets"] = facets
        if message.link:
            description = message.meta.get("description", "")
            record["embed"] = {
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": message.link,
                    "title": message.title or "",
                    "description": description if isinstance(description, str) else "",
                },
            }
        body = {"repo": session.did, "collection": "app.bsky.feed.post", "record": record}
        headers = {"Authorization": f"Bearer {session.access_jwt}"}
        return PreparedCall(
            "POST", self.options.base_url + _CREATE_RECORD, headers=headers, json=body
        )

    def parse_response(self, response: requests.Response, message: Message) -> DeliveryResult:
        body = json_body(response)
        if response.ok:
            if isinstance(body, dict) and body.get("uri"):
                return DeliveryResult.sent(str(body["uri"]))
            return DeliveryResult(DeliveryStatus.SENT, error="answer without a record uri")
        if _error_name(response) in _EXPIRED:
            # Still expired right after a refresh: the credentials need a look.
            return DeliveryResult(DeliveryStatus.AUTH, error=self.error_message(response))
        return self.error_result(response)

    def error_message(self, response: requests.Response) -> str:
        """XRPC errors: `{"error": "<Name>", "message": "…"}`."""
        body = json_body(response)
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            detail = body.get("message")
            text = f"{body['error']}: {detail}" if isinstance(detail, str) else body["error"]
            return f"HTTP {response.status_code}: {text}"
        return super().error_message(response)

    def rate_limit_reset(self, response: requests.Response, now: datetime) -> datetime | None:
        """`RateLimit-Reset`: seconds from now per the draft, or an epoch as the PDS sends."""
        raw = response.headers.get("RateLimit-Reset")
        return parse_epoch_or_delta(raw, now) if raw else None


def _error_name(response: requests.Response) -> str | None:
    body = json_body(response)
    name = body.get("error") if isinstance(body, dict) else None
    return name if isinstance(name, str) else None
