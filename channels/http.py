"""The one HTTP base for network channels: one session, timeouts, error translation.

`HttpChannel.send` runs a fixed pipeline; adapters fill in only what differs::

    prepare()                         I/O allowed, once: a login session (Bluesky); usually nothing
    build_request(message)            PURE: a PreparedCall, no I/O
    _perform(call)                    the only network access; transport errors → DeliveryResult
    reauthenticate(response)          optional: renew an expired session, then build and send again
    parse_response(response, message) → DeliveryResult, failures through `error_result`

Every result leaves `send` scrubbed (`channels.secrets`): no form of the channel's secrets
appears in `error`.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from pydantic import ConfigDict, Field, SecretStr, field_validator
from requests.auth import AuthBase

from channels.base import (
    Channel,
    ChannelConfigError,
    ChannelOptions,
    DeliveryResult,
    DeliveryStatus,
    Message,
)
from channels.http_time import (
    parse_epoch,
    parse_epoch_or_delta,
    parse_iso,
    parse_retry_after,
    utc_now,
)
from channels.secrets import LIBRARY_LOGS, scrub
from channels.text import TextRules, TextTooLong, fit_text, fits

log = logging.getLogger(__name__)

__all__ = ["CallFailed", "HttpChannel", "HttpOptions", "PreparedCall", "json_body",
           "parse_epoch", "parse_epoch_or_delta", "parse_iso", "parse_retry_after", "scrub",
           "utc_now", "validate_base_url"]

USER_AGENT = "CoE-Herald/0.1 (+https://academy.itu.int)"
_MAX_ERROR = 500


def validate_base_url(value: str) -> str:
    """An absolute http(s) URL without query or fragment; the trailing slash removed."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http:// or https:// URL")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query or fragment")
    return value.strip().rstrip("/")


class HttpOptions(ChannelOptions):
    """Options common to every HTTP channel."""

    # Inputs may hold secrets: keep them out of validation messages.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    base_url: str
    """Where the network's API lives; a proxy or a test server can stand in."""
    timeout: float = Field(20.0, gt=0, le=600)
    ca_file: str | None = None
    """A PEM file of CA certificates to verify the API (or a TLS-intercepting proxy) with,
    instead of the system's. A certificate that fails verification halts the channel."""

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return validate_base_url(value)


@dataclass(frozen=True)
class PreparedCall:
    """One HTTP request, fully described, not yet sent. Its repr shows no URL, header or
    body: any of them may hold a token."""

    method: str
    url: str = field(repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    json: Any = field(default=None, repr=False)
    data: Mapping[str, str] | bytes | None = field(default=None, repr=False)
    auth: AuthBase | None = field(default=None, repr=False)
    """A signing hook (OAuth 1.0a) applied when the request is sent."""
    idempotent: bool = False
    """True when repeating the call cannot publish twice (an Idempotency-Key, a login)."""


class CallFailed(Exception):
    """Internal: a call ended without a usable response; carries the result to return."""

    def __init__(self, result: DeliveryResult, *, maybe_sent: bool = False) -> None:
        super().__init__(result.error)
        self.result = result
        self.maybe_sent = maybe_sent
        """The request may have reached the network (the answer was lost)."""


def json_body(response: requests.Response) -> Any:
    """The decoded JSON body, or None when there is none or it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


class HttpChannel(Channel):
    """Base of the HTTP adapters: owns one `requests.Session` and the send pipeline."""

    Options: ClassVar[type[ChannelOptions]] = HttpOptions
    options: HttpOptions
    text_rules: ClassVar[TextRules | None] = None
    """How the network counts a post; `text_rules_for()` may refine it per instance."""
    idempotency_memory: ClassVar[timedelta | None] = None
    """How long the network remembers a call's idempotency key (None: it has no keys)."""
    lost_reply_pauses: ClassVar[tuple[float, ...]] = (1.0, 5.0)
    """Seconds between repeats of a keyed call whose answer was lost (channels.idempotency)."""

    def __init__(self, name: str, options: ChannelOptions) -> None:
        if not isinstance(options, self.Options):
            raise ChannelConfigError(
                f"{name}: options must be {self.Options.__name__}, not {type(options).__name__}"
            )
        super().__init__(name, options)
        self.clock: Callable[[], datetime] = utc_now
        """Now, timezone-aware UTC; tests pin it."""
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self._runtime_secrets: set[str] = set()
        LIBRARY_LOGS.holders.add(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.options.base_url!r}>"

    # -- the pipeline ---------------------------------------------------------------------

    def send(self, message: Message) -> DeliveryResult:
        """Send one message; every failure becomes a result, scrubbed of secrets."""
        try:
            self.prepare()
            response = perform_keyed(self, self.build_request(message))
            if self.reauthenticate(response):
                response = perform_keyed(self, self.build_request(message))
            result = self._parse(response, message)
        except CallFailed as failed:
            result = failed.result
        except TextTooLong as exc:
            result = DeliveryResult(DeliveryStatus.PERMANENT, error=str(exc))
        return self.scrubbed(result)

    def prepare(self) -> None:
        """Establish whatever `build_request` needs (a session); may raise `CallFailed`."""

    def build_request(self, message: Message) -> PreparedCall:
        """Describe the request that publishes `message`. Pure: no I/O."""
        raise NotImplementedError

    def reauthenticate(self, response: requests.Response) -> bool:
        """Renew credentials when `response` says they expired; True to send once more."""
        return False

    def parse_response(self, response: requests.Response, message: Message) -> DeliveryResult:
        """Turn the network's answer into a result; failures usually via `error_result`."""
        raise NotImplementedError

    def _parse(self, response: requests.Response, message: Message) -> DeliveryResult:
        if 300 <= response.status_code < 400:
            # `response.ok` is true for redirects, which are never followed: not a success.
            return self.error_result(response)
        try:
            return self.parse_response(response, message)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            if response.ok:
                # Accepted, but the answer is unreadable: it was published, the id is lost.
                log.warning("%s: accepted but unreadable answer: %s", self.name, type(exc).__name__)
                return DeliveryResult(DeliveryStatus.SENT, error="answer without a post id")
            return self.error_result(response)

    def _perform(self, call: PreparedCall) -> requests.Response:
        """Send `call`: the only place that touches the network. Raises `CallFailed` when
        no response came back, telling apart "never sent" from "may have been sent"."""
        url = self.scrub(call.url)
        try:
            response = self.session.request(
                call.method,
                call.url,
                headers=dict(call.headers),
                json=call.json,
                data=call.data,
                auth=call.auth,
                timeout=self.options.timeout,
                verify=self.options.ca_file or None,  # a path wins over REQUESTS_CA_BUNDLE
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            status = self._transport_status(exc, call)
            error = f"{type(exc).__name__}: {self.scrub(str(exc))}"[:_MAX_ERROR]
            log.warning(
                "%s: %s %s failed (%s): %s", self.name, call.method, url, status.value, error
            )
            raise CallFailed(DeliveryResult(status, error=error),
                             maybe_sent=_maybe_sent(exc)) from None
        log.info("%s: %s %s -> %s", self.name, call.method, url, response.status_code)
        return response

    @staticmethod
    def _transport_status(exc: requests.RequestException, call: PreparedCall) -> DeliveryStatus:
        """TRANSIENT when the request surely never reached the server, or repeating it is safe;
        UNKNOWN when a non-idempotent request may have been received; AUTH for a bad URL."""
        if isinstance(exc, requests.exceptions.SSLError):
            # A certificate that fails verification is a configuration fault (the channel
            # halts and needs attention); another TLS failure may pass.
            return DeliveryStatus.AUTH if _in_chain(exc, ssl.SSLCertVerificationError) \
                else DeliveryStatus.TRANSIENT
        if isinstance(exc, requests.ConnectTimeout):
            return DeliveryStatus.TRANSIENT
        if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
            # A malformed endpoint (a token with odd characters): the channel needs attention.
            return DeliveryStatus.AUTH
        if _maybe_sent(exc) and not call.idempotent:
            return DeliveryStatus.UNKNOWN
        return DeliveryStatus.TRANSIENT

    # -- shared error mapping ----------------------------------------------------------------

    def error_result(self, response: requests.Response, error: str | None = None) -> DeliveryResult:
        """The common mapping of an HTTP failure: 429 → TRANSIENT at the reset time,
        5xx → TRANSIENT (at its Retry-After, if any), 401/403 → AUTH, 3xx → AUTH (check
        base_url), other 4xx → PERMANENT."""
        code = response.status_code
        text = error if error is not None else self.error_message(response)
        if code == 429:
            return DeliveryResult(
                DeliveryStatus.TRANSIENT, retry_after=self.retry_after(response), error=text
            )
        if code >= 500:
            # A 503 may say when the service returns; rate-limit resets do not apply here.
            now = self.clock()
            header = response.headers.get("Retry-After")
            when = parse_retry_after(header, now) if header else None
            return DeliveryResult(
                DeliveryStatus.TRANSIENT,
                retry_after=None if when is None else max(when, now),
                error=text,
            )
        if code in (401, 403):
            return DeliveryResult(DeliveryStatus.AUTH, error=text)
        if 300 <= code < 400:
            where = response.headers.get("Location", "?")
            return DeliveryResult(
                DeliveryStatus.AUTH, error=f"HTTP {code}: redirected to {where}; check base_url"
            )
        if 400 <= code < 500:
            return DeliveryResult(DeliveryStatus.PERMANENT, error=text)
        return DeliveryResult(DeliveryStatus.UNKNOWN, error=text)

    def error_message(self, response: requests.Response) -> str:
        """`HTTP <code>: <the network's own message>`, from common body shapes."""
        body = json_body(response)
        message = _find_message(body) if body is not None else None
        if message is None:
            message = " ".join(response.text.split())[:200] or response.reason or ""
        return f"HTTP {response.status_code}: {message}"[:_MAX_ERROR]

    def retry_after(self, response: requests.Response) -> datetime | None:
        """When to try again: `Retry-After`, else the network's reset (`rate_limit_reset`);
        never before now."""
        now = self.clock()
        header = response.headers.get("Retry-After")
        when = parse_retry_after(header, now) if header else None
        if when is None:
            when = self.rate_limit_reset(response, now)
        return None if when is None else max(when, now)

    def rate_limit_reset(self, response: requests.Response, now: datetime) -> datetime | None:
        """The network's own reset time from its headers or body; None when it gives none."""
        return None

    # -- text and secrets ----------------------------------------------------------------------

    def text_rules_for(self) -> TextRules | None:
        """How this channel counts a post (instance options may refine the class rules)."""
        return self.text_rules

    def post_text(self, message: Message) -> str:
        """The message text, shortened to the limit at a word boundary if the renderer did not
        (the URL kept whole). Raises `TextTooLong`. Pure."""
        rules = self.text_rules_for()
        if rules is None or fits(message.text, rules):
            return message.text
        url = message.link if message.link and message.link in message.text else None
        return fit_text(message.text, url=url, rules=rules).text

    def secret_values(self) -> list[str]:
        """Every secret this channel holds: SecretStr options and session tokens."""
        values = [
            value.get_secret_value()
            for name in type(self.options).model_fields
            if isinstance(value := getattr(self.options, name), SecretStr)
        ]
        return [v for v in (*values, *self._runtime_secrets) if v]

    def add_secret(self, value: str) -> None:
        """Treat a runtime credential (a session token) as a secret from now on."""
        self._runtime_secrets.add(value)

    def scrub(self, text: str) -> str:
        return scrub(text, self.secret_values(), min_length=1)

    def scrubbed(self, result: DeliveryResult) -> DeliveryResult:
        if result.error is None:
            return result
        return DeliveryResult(
            result.status, result.provider_id, result.retry_after, self.scrub(result.error)
        )

    def close(self) -> None:
        self.session.close()
        LIBRARY_LOGS.holders.discard(self)


def _maybe_sent(exc: requests.RequestException) -> bool:
    """Whether the request may have reached the server before `exc` (its answer lost)."""
    if isinstance(exc, (requests.exceptions.SSLError, requests.ConnectTimeout)):
        return False
    return isinstance(
        exc, (requests.ReadTimeout, requests.exceptions.ChunkedEncodingError)
    ) or (isinstance(exc, requests.ConnectionError) and not _never_connected(exc))


def _in_chain(exc: BaseException,
              kind: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
    """Whether `exc`, its causes, contexts, reasons or arguments include a `kind`."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, kind):
            return True
        if isinstance(item, BaseException):
            stack.extend([getattr(item, "reason", None), item.__cause__, item.__context__])
            stack.extend(a for a in item.args if isinstance(a, BaseException))
    return False


def _never_connected(exc: BaseException) -> bool:
    """True when a ConnectionError happened while connecting (DNS, refused, proxy), so the
    request never left."""
    from urllib3.exceptions import NewConnectionError, ProxyError

    return _in_chain(exc, (NewConnectionError, ProxyError, requests.exceptions.ProxyError))


def _find_message(body: Any) -> str | None:
    """The human message in common JSON error shapes."""
    if isinstance(body, dict):
        for key in ("detail", "message", "error_description", "description", "error", "title"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict):
                found = _find_message(value)
                if found:
                    return found
        errors = body.get("errors")
        if isinstance(errors, list):
            messages = [m for m in (_find_message(e) for e in errors) if m]
            if messages:
                return "; ".join(messages)
    return None


from channels.idempotency import perform_keyed  # noqa: E402  (uses HttpChannel)
