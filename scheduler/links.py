"""Signed tokens for the links in messages: unsubscribe, preferences, interest, click redirect.

A token is `base64url(json payload) "." base64url(HMAC-SHA256(key, first part)[:16])`, both
unpadded: compact, URL-safe, and verifiable without a database lookup, so a link alone says
who it is for and what it does (RFC 8058 one-click unsubscribe needs exactly that). The payload
is signed, not encrypted: it holds nothing the recipient does not already know.

Each token carries a purpose (`t`), so a preferences token cannot be replayed as an
unsubscribe or a click token. Unsubscribe and preference links do not expire (a link in an
old email must keep working); `verify(max_age=...)` serves links that should, such as
confirmation links, whose tokens are signed with `issued_at`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

MAC_BYTES = 16  # 128 bits: far beyond guessing, and keeps links short
MAX_TOKEN_LENGTH = 4096  # refuse to decode anything larger: tokens come from the internet

UNSUBSCRIBE = "u"
PREFERENCES = "p"
CLICK = "c"
INTEREST = "i"
CONFIRM = "f"
SUBMISSION = "s"
CONFIRM_MAX_AGE = timedelta(days=7)
"""A sign-up confirmation link works for a week; the others do not expire."""

_B64 = re.compile(r"^[A-Za-z0-9_-]+$")
_SAFE_SCHEMES = frozenset({"http", "https"})


class BadToken(ValueError):
    """The token is malformed, forged, tampered with, expired, or not of the expected kind."""


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(data: bytes) -> bytes:
    """Unpadded base64url, as bytes (`base64.urlsafe_b64encode` without its Python layers)."""
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_URLSAFE)


def _b64encode(data: bytes) -> str:
    return _b64(data).decode("ascii")


def _b64decode(text: str) -> bytes:
    if not _B64.match(text):
        raise BadToken("malformed token")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadToken("malformed token") from exc


_BLOCK = 64  # SHA-256's block size (RFC 2104's B)
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))


class _Signer:
    """HMAC-SHA256 under one key, its inner and outer hash states computed once (RFC 2104):
    a token then costs two state copies, half of what a copy of `hmac`'s keyed HMAC does."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("empty signing key")
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        padded = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(padded.translate(_IPAD))
        self._outer = hashlib.sha256(padded.translate(_OPAD))

    def mac(self, body: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(body)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:MAC_BYTES]

    def token(self, raw_json: str) -> str:
        """`base64url(raw_json) "." base64url(mac)`: the token of a JSON text."""
        body = _b64(raw_json.encode("utf-8"))
        return (body + b"." + _b64(self.mac(body))).decode("ascii")


@lru_cache(maxsize=16)
def _signer(key: bytes) -> _Signer:
    return _Signer(key)


def _mac(key: bytes, body: str) -> bytes:
    return _signer(key).mac(body.encode("ascii"))


# json.dumps with these options builds a new encoder on every call.
_encode_json = json.JSONEncoder(separators=(",", ":"), sort_keys=True,
                                ensure_ascii=False).encode


def sign(payload: dict[str, Any], key: bytes, *, issued_at: datetime | None = None) -> str:
    """A token for `payload` (JSON-serialisable); `issued_at` adds `iat` for `max_age` checks."""
    data = dict(payload)
    if issued_at is not None:
        if issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware")
        data["iat"] = int(issued_at.timestamp())
    return _signer(key).token(_encode_json(data))


# The string encoder `_encode_json` uses (ensure_ascii=False): the fixed payloads of the
# links in every email are written with it, the very JSON `_encode_json` gives for them
# (keys in sorted order), without building and sorting a dict per token.
_json_str = json.encoder.encode_basestring


def _fixed(key: bytes, raw_json: str) -> str:
    return _signer(key).token(raw_json)


def _plain(number: object, *texts: object) -> bool:
    """An int and strs exactly (no subclass, no bool): what the fixed payloads are written for."""
    return type(number) is int and all(type(t) is str for t in texts)


def verify(
    token: str,
    key: bytes | Sequence[bytes],
    *,
    max_age: timedelta | None = None,
    now: datetime | None = None,
    purpose: str | None = None,
) -> dict[str, Any]:
    """The payload of a genuine token, else `BadToken`.

    `key` may be a list of keys, newest first, so links signed before a key rotation keep
    working. With `max_age`, the token must carry `iat` and be no older than that at `now`
    (default: the real clock). With `purpose`, its `t` must equal it.
    """
    keys = [key] if isinstance(key, bytes | bytearray) else list(key)
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise BadToken("malformed token")
    body, mac_text = token.split(".")
    mac = _b64decode(mac_text)
    if not any(hmac.compare_digest(mac, _mac(bytes(k), body)) for k in keys):
        raise BadToken("bad signature")
    try:
        payload = json.loads(_b64decode(body).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadToken("malformed payload") from exc
    if not isinstance(payload, dict):
        raise BadToken("malformed payload")
    if purpose is not None and payload.get("t") != purpose:
        raise BadToken("token is not for this action")
    if max_age is not None:
        iat = payload.get("iat")
        if not isinstance(iat, int) or isinstance(iat, bool):
            raise BadToken("token has no issue time")
        at = now if now is not None else datetime.now(UTC)
        age = at - datetime.fromtimestamp(iat, UTC)
        if age > max_age:
            raise BadToken("token expired")
        if age < -timedelta(minutes=5):  # a little clock skew between replicas is normal
            raise BadToken("token issued in the future")
    return payload


# -- the links Herald puts in messages -------------------------------------------------------


@dataclass(frozen=True)
class RecipientLink:
    """What an unsubscribe, preferences or interest token says: who, and for which list."""

    participant_id: int
    email: str
    campaign: str | None = None
    course_id: str | None = None


@dataclass(frozen=True)
class ClickLink:
    """What a click token says: which delivery was clicked, and where to send the browser."""

    delivery_key: str
    target_url: str


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


@lru_cache(maxsize=1024)  # a course's link is the same in every one of its emails
def _check_target(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.netloc:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    return url


def _unsubscribe_json(participant_id: int, email: str, campaign: str) -> str:
    """An unsubscribe token's payload as `sign` writes it (sorted keys, compact)."""
    return (f'{{"c":{_json_str(campaign)},"e":{_json_str(email)},"p":{participant_id},'
            f'"t":"{UNSUBSCRIBE}"}}')


def _preferences_json(participant_id: int, email: str) -> str:
    """A preferences token's payload as `sign` writes it."""
    return f'{{"e":{_json_str(email)},"p":{participant_id},"t":"{PREFERENCES}"}}'


def _click_json(delivery_key: str, target: str) -> str:
    """A click token's payload as `sign` writes it."""
    return f'{{"d":{_json_str(delivery_key)},"t":"{CLICK}","u":{_json_str(target)}}}'


def unsubscribe_url(
    base_url: str, key: bytes, participant_id: int, email: str, campaign: str
) -> str:
    """`{base_url}/u/{token}`: one-click unsubscribe (RFC 8058) of this recipient from a list."""
    if _plain(participant_id, email, campaign):
        token = _fixed(key, _unsubscribe_json(participant_id, email, campaign))
    else:
        token = sign({"t": UNSUBSCRIBE, "p": participant_id, "e": email, "c": campaign}, key)
    return f"{_base(base_url)}/u/{token}"


def preferences_url(base_url: str, key: bytes, participant_id: int, email: str) -> str:
    """`{base_url}/p/{token}`: the recipient's interest profile, without a password."""
    if _plain(participant_id, email):
        token = _fixed(key, _preferences_json(participant_id, email))
    else:
        token = sign({"t": PREFERENCES, "p": participant_id, "e": email}, key)
    return f"{_base(base_url)}/p/{token}"


def interest_url(
    base_url: str, key: bytes, participant_id: int, email: str, course_id: str, campaign: str
) -> str:
    """`{base_url}/i/{token}`: "we are interested in this course" (catalogue emails)."""
    token = sign(
        {"t": INTEREST, "p": participant_id, "e": email, "k": course_id, "c": campaign}, key
    )
    return f"{_base(base_url)}/i/{token}"


def confirm_url(base_url: str, key: bytes, participant_id: int, email: str,
                issued_at: datetime) -> str:
    """`{base_url}/confirm/{token}`: double opt-in; the token expires after 7 days."""
    token = sign({"t": CONFIRM, "p": participant_id, "e": email}, key, issued_at=issued_at)
    return f"{_base(base_url)}/confirm/{token}"


def click_url(base_url: str, key: bytes, delivery_key: str, target_url: str) -> str:
    """`{base_url}/c/{token}`: counts the click, then redirects to `target_url` (http(s) only).

    The target is inside the signed token, so the redirect cannot be pointed elsewhere.
    """
    target = _check_target(target_url)
    if _plain(0, delivery_key, target):
        token = _fixed(key, _click_json(delivery_key, target))
    else:
        token = sign({"t": CLICK, "d": delivery_key, "u": target}, key)
    return f"{_base(base_url)}/c/{token}"


class MessageLinks:
    """`unsubscribe_url`, `preferences_url` and `click_url` for one base URL and key, made
    for message after message: the base, the signer and the type checks settled once.
    The same URLs, byte for byte."""

    def __init__(self, base_url: str, key: bytes) -> None:
        self.base_url, self.key = base_url, key
        self._signer = _signer(key)
        base = _base(base_url)
        self._unsubscribe, self._preferences, self._click = f"{base}/u/", f"{base}/p/", f"{base}/c/"

    def unsubscribe(self, participant_id: int, email: str, campaign: str) -> str:
        if not _plain(participant_id, email, campaign):
            return unsubscribe_url(self.base_url, self.key, participant_id, email, campaign)
        return self._unsubscribe + self._signer.token(
            _unsubscribe_json(participant_id, email, campaign))

    def preferences(self, participant_id: int, email: str) -> str:
        if not _plain(participant_id, email):
            return preferences_url(self.base_url, self.key, participant_id, email)
        return self._preferences + self._signer.token(_preferences_json(participant_id, email))

    def click(self, delivery_key: str, target_url: str) -> str:
        target = _check_target(target_url)
        if not _plain(0, delivery_key, target):
            return click_url(self.base_url, self.key, delivery_key, target_url)
        return self._click + self._signer.token(_click_json(delivery_key, target))


def _recipient(payload: dict[str, Any], *, course: bool = False) -> RecipientLink:
    pid, email = payload.get("p"), payload.get("e")
    campaign, course_id = payload.get("c"), payload.get("k")
    if not isinstance(pid, int) or isinstance(pid, bool) or not isinstance(email, str):
        raise BadToken("malformed payload")
    if campaign is not None and not isinstance(campaign, str):
        raise BadToken("malformed payload")
    if course and not isinstance(course_id, str):
        raise BadToken("malformed payload")
    return RecipientLink(pid, email, campaign, course_id if course else None)


def read_unsubscribe(token: str, key: bytes | Sequence[bytes]) -> RecipientLink:
    """The recipient and campaign of an unsubscribe token, else `BadToken`."""
    return _recipient(verify(token, key, purpose=UNSUBSCRIBE))


def read_preferences(token: str, key: bytes | Sequence[bytes]) -> RecipientLink:
    """The recipient of a preferences token, else `BadToken`."""
    return _recipient(verify(token, key, purpose=PREFERENCES))


def read_interest(token: str, key: bytes | Sequence[bytes]) -> RecipientLink:
    """The recipient, course and campaign of an interest token, else `BadToken`."""
    return _recipient(verify(token, key, purpose=INTEREST), course=True)


def read_confirm(token: str, key: bytes | Sequence[bytes], *,
                 now: datetime | None = None) -> tuple[RecipientLink, datetime]:
    """The recipient of a confirmation token and when it was issued, else `BadToken`
    (also when older than `CONFIRM_MAX_AGE` at `now`)."""
    payload = verify(token, key, purpose=CONFIRM, max_age=CONFIRM_MAX_AGE, now=now)
    return _recipient(payload), datetime.fromtimestamp(payload["iat"], UTC)


def read_click(token: str, key: bytes | Sequence[bytes]) -> ClickLink:
    """The delivery and target of a click token, else `BadToken`; the target is http(s)."""
    payload = verify(token, key, purpose=CLICK)
    delivery_key, target = payload.get("d"), payload.get("u")
    if not isinstance(delivery_key, str) or not isinstance(target, str):
        raise BadToken("malformed payload")
    try:
        return ClickLink(delivery_key, _check_target(target))
    except ValueError as exc:
        raise BadToken("unsafe redirect target") from exc
