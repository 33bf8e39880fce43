"""The one secret scrubber: every form a credential travels in becomes `***`.

A secret leaves the process in more shapes than its own: URL-encoded in a query or path,
base64 in HTTP Basic and SMTP AUTH (LOGIN sends `b64(user)` and `b64(password)`, PLAIN sends
`b64("\\0user\\0password")`), and a server may quote any of them back in a reply that ends up in
a log line, an error, `--json` output or the database. `scrub` masks:

- the value itself, and its URL-encodings (`quote`, `quote_plus`, upper- and lower-case hex);
- its base64 (standard and URL-safe, padded or not);
- the base64 of every pairing of two secrets as SMTP AUTH PLAIN joins them
  (`\\0a\\0b`, `a\\0b`, `a\\0a\\0b`);
- the part of its base64 that does not depend on what surrounds it, at each of the three
  alignments, so that the secret is hidden inside any longer base64 text too (a literal
  user name joined with a secret password, say).

Logs, channel results, `--json` output and the database all go through `scrub` (or a
`Scrubber` built once for a fixed set of secrets).
"""

from __future__ import annotations

import base64
import logging
import re
import weakref
from collections.abc import Iterable
from functools import lru_cache
from itertools import permutations
from typing import Protocol
from urllib.parse import quote, quote_plus

REDACTED = "***"

MIN_SECRET_LENGTH = 4
"""Shorter values are not masked by default: hiding every `a` or `42` would garble all output,
and a credential that short protects nothing anyway. Channels holding their own credentials
pass `min_length=1`."""

_MIN_CORE = 4
"""Base64 fragments shorter than this (under three bytes of the secret) are not masked."""

_PERCENT = re.compile(r"%[0-9A-F]{2}")


def _url_forms(value: str) -> set[str]:
    forms = {quote(value, safe=""), quote(value), quote_plus(value), quote_plus(value, safe="")}
    forms |= {_PERCENT.sub(lambda m: m.group().lower(), f) for f in forms}
    return forms


def _b64_forms(data: bytes) -> set[str]:
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        text = encode(data).decode("ascii")
        forms |= {text, text.rstrip("=")}
    return forms


def _b64_cores(data: bytes) -> set[str]:
    """The base64 characters that depend on `data` alone, at each alignment in a stream."""
    cores: set[str] = set()
    for offset in range(3):
        first = 0 if offset == 0 else 1  # the first group mixes in the bytes before
        last = (offset + len(data)) // 3  # groups after it mix in the bytes after
        if last <= first:
            continue
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * offset + data).decode("ascii")
            core = text[4 * first: 4 * last]
            if len(core) >= _MIN_CORE:
                cores.add(core)
    return cores


@lru_cache(maxsize=64)
def _pattern(secrets: frozenset[str]) -> re.Pattern[str] | None:
    forms: set[str] = set()
    for secret in secrets:
        raw = secret.encode()
        forms |= {secret, *_url_forms(secret), *_b64_forms(raw), *_b64_cores(raw)}
    for a, b in permutations(sorted(secrets), 2):
        for joined in (f"\0{a}\0{b}", f"{a}\0{b}", f"{a}\0{a}\0{b}"):
            forms |= _b64_forms(joined.encode())
    forms.discard("")
    if not forms:
        return None
    # Longest first, so that a form containing another is hidden whole.
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))


def _usable(secrets: Iterable[str], min_length: int) -> frozenset[str]:
    return frozenset(s for s in secrets if s and len(s) >= min_length)


def scrub(text: str, secrets: Iterable[str], *, min_length: int = MIN_SECRET_LENGTH) -> str:
    """`text` with every form of every secret (see the module) replaced by `***`."""
    if not text:
        return text
    pattern = _pattern(_usable(secrets, min_length))
    return pattern.sub(REDACTED, text) if pattern is not None else text


class Scrubber:
    """`scrub` for one fixed set of secrets, prepared once; callable on text."""

    def __init__(self, secrets: Iterable[str] = (), *, min_length: int = MIN_SECRET_LENGTH
                 ) -> None:
        self.secrets = _usable(secrets, min_length)
        self._pattern = _pattern(self.secrets)

    def __call__(self, text: str) -> str:
        if not text or self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)

    def __bool__(self) -> bool:
        return self._pattern is not None


class SecretHolder(Protocol):
    """Anything that can list the secrets it holds right now (a channel, with its tokens)."""

    def secret_values(self) -> list[str]: ...


class LibraryLogFilter(logging.Filter):
    """Scrubs live holders' secrets from the HTTP libraries' debug lines: urllib3 prints
    request URLs (Telegram's token is in the path), oauthlib prints the OAuth parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.holders: weakref.WeakSet[SecretHolder] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [s for holder in list(self.holders) for s in holder.secret_values()]
        if secrets:
            text = record.getMessage()
            cleaned = scrub(text, secrets, min_length=1)
            if cleaned != text:
                record.msg, record.args = cleaned, None
        return True


LIBRARY_LOGS = LibraryLogFilter()
"""The filter on the loggers of the HTTP libraries; channels add themselves to `holders`."""
# Filters are not inherited by child loggers: name each module that logs URLs, headers or
# OAuth base strings at DEBUG.
for _name in (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "requests_oauthlib.oauth1_auth",
    "oauthlib",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
):
    logging.getLogger(_name).addFilter(LIBRARY_LOGS)
