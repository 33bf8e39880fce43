"""The validated configuration: settings, channels, campaigns, sources.

Models refuse unknown keys (typo protection). Durations, windows and timings are given as text
in YAML and held parsed here; a channel's options stay as the raw mapping (with `${ENV}`
resolved) because only the channel's own `Options` model knows them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo
from pydantic import field_validator as validator

from channels.secrets import scrub
from scheduler.config.envrefs import secret_key
from scheduler.config.parse import Timing, parse_duration, parse_timing, parse_window
from scheduler.config.policy import ChannelPolicy
from scheduler.config.yamldoc import PathT, Problems
from scheduler.errors import ConfigError

if TYPE_CHECKING:
    from channels.base import Channel

CampaignKind = Literal["course_email", "digest", "course_post", "catalogue_email", "coe_email"]
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
_TEMPLATE = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")


def check_zone(name: str) -> str:
    """`name` if it is an IANA time zone known to this system; ValueError otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f"unknown time zone {name!r} (expected an IANA name such as Europe/Zurich)"
        ) from None
    return name


def _duration(value: Any) -> Any:
    if value is None or isinstance(value, timedelta):
        return value
    return parse_duration(value if isinstance(value, str) else repr(value))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sender(_Model):
    """The default From of every email."""

    name: str
    email: str

    @validator("name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if not value.strip() or "\n" in value or "\r" in value:
            raise ValueError("must be one non-empty line")
        return value.strip()

    @validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _EMAIL.fullmatch(value.strip()):
            raise ValueError(f"invalid email address {value!r}")
        return value.strip()


class HttpSettings(_Model):
    """Where `herald run` serves /healthz and /metrics; port 0 turns it off."""

    host: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65535)


class BouncesSettings(_Model):
    """settings.yaml `bounces:`: the IMAP mailbox that receives bounces and complaints."""

    host: str
    port: int | None = Field(default=None, ge=1, le=65535)
    """Default by `security`: 143 (none, starttls), 993 (ssl)."""
    security: Literal["none", "starttls", "ssl"] = "ssl"
    username: str
    password: SecretStr
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    unparsed_folder: str = "Unparsed"
    every: str = "10m"

    @validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        from scheduler.config.parse import parse_duration

        if parse_duration(value) <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value

    @property
    def resolved_port(self) -> int:
        return self.port or (993 if self.security == "ssl" else 143)


class Settings(_Model):
    """settings.yaml."""

    database_url: str | None = None
    base_url: str
    """Public address of `herald serve`, http(s), without a trailing slash."""
    signing_key: SecretStr | None = None
    previous_signing_keys: list[SecretStr] = []
    """Older keys still accepted for links already sent (key rotation), newest first."""
    timezone: str = "UTC"
    sender: Sender
    http: HttpSettings = HttpSettings()
    bounces: BouncesSettings | None = None
    accept_non_durable_commits: bool = False
    """Dispatch even on a database whose commits are not durable (see scheduler/durability.py)."""

    @validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        if value is None:
            return None
        try:
            make_url(value)
        except (ArgumentError, ValueError):
            # The URL itself is not echoed: it may carry a password.
            raise ValueError(
                "invalid database URL (expected e.g. sqlite:///var/herald.db)"
            ) from None
        return value

    @validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"invalid base URL {value!r} (expected http(s)://host[/path])")
        if parts.query or parts.fragment:
            raise ValueError(f"invalid base URL {value!r} (no query or fragment)")
        return value

    @validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)


class CampaignConfig(_Model):
    """One campaign of campaigns.yaml (`channel: x` is read as `channels: [x]`)."""

    name: str
    kind: CampaignKind
    channels: list[str]
    template: str
    timing: Timing
    min_lead: timedelta | None = None
    horizon: timedelta | None = None
    """catalogue_email: list the courses starting within this of the cron's fire."""
    remind_after: timedelta | None = None
    """catalogue_email: one reminder this long after the fire, to contacts who did not answer."""
    local_window: tuple[time, time] | None = None
    enabled: bool = True
    audience: dict[str, Any] = {}

    @validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        if not _TEMPLATE.fullmatch(value):
            raise ValueError(f"invalid template name {value!r} (expected e.g. email/announcement)")
        return value

    @validator("timing", mode="before")
    @classmethod
    def _timing(cls, value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"cron"}:
            # `timing: cron: 0 8 * * MON` unquoted is a YAML mapping; read it as meant.
            value = f"cron: {value['cron']}"
        return value if isinstance(value, Timing) else parse_timing(value)

    @validator("min_lead", "horizon", "remind_after", mode="before")
    @classmethod
    def _min_lead(cls, value: Any) -> Any:
        return _duration(value)

    @validator("local_window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> Any:
        if value is None or isinstance(value, tuple):
            return value
        return parse_window(value)


class SourceConfig(_Model):
    """One course source of sources.yaml."""

    name: str
    location: str
    """An absolute path (given relative to the config dir) or an http(s) URL."""
    every: timedelta = timedelta(hours=1)
    format: Literal["csv", "json", "ical"] | None = None
    timeout: timedelta = timedelta(seconds=60)
    """A URL is abandoned when its whole download takes longer (a number is seconds)."""

    @validator("location")
    @classmethod
    def _location(cls, value: str, info: ValidationInfo) -> str:
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", value):
            if urlsplit(value).scheme not in ("http", "https"):
                raise ValueError("location must be a file path or an http(s) URL")
            return value
        base = (info.context or {}).get("config_dir")
        path = Path(value).expanduser()
        if base is not None and not path.is_absolute():
            path = Path(base) / path
        path = path.resolve()
        if base is not None and not path.is_file():
            raise ValueError(f"file not found: {path}")
        return str(path)

    @validator("every", "timeout", mode="before")
    @classmethod
    def _every(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name == "timeout" and isinstance(value, int | float) \
                and not isinstance(value, bool):
            value = f"{int(value)}s" if value == int(value) else timedelta(seconds=value)
        every = _duration(value)
        if every is not None and every <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return every


@dataclass
class ChannelConfig:
    """One named channel of channels.yaml, ready to be built into a `Channel`."""

    name: str
    type: str
    enabled: bool
    raw: dict[str, Any] = field(repr=False)
    """The YAML mapping with `${ENV}` resolved (unset → key left out), paths made absolute."""
    file: str = field(default="config/channels.yaml", repr=False, compare=False)
    lines: Mapping[PathT, int] = field(default_factory=dict, repr=False, compare=False)

    def build(self) -> Channel:
        """The channel instance; ConfigError (one line per problem) when its options are bad."""
        from channels.base import ChannelConfigError
        from channels.registry import channel_class

        problems = Problems()
        here: PathT = ("channels", self.name)
        try:
            cls = channel_class(self.type)
            return cls.from_config(self.name, self.raw)
        except KeyError:
            problems.add_at(self.file, self._line(()), (*here, "type"), "unknown channel type")
        except ImportError as exc:
            problems.add_at(self.file, self._line(()), (*here, "type"), f"cannot load: {exc}")
        except ValidationError as exc:
            for loc, _kind, reason in validation_reasons(exc):
                problems.add_at(self.file, self._line(loc), (*here, *loc), reason)
        except ChannelConfigError as exc:
            problems.add_at(self.file, self._line(()), here, str(exc))
        raise ConfigError(problems.lines(lambda text: scrub(text, self._secrets())))

    def _line(self, loc: PathT) -> int | None:
        for end in range(len(loc), -1, -1):
            line = self.lines.get(("channels", self.name, *loc[:end]))
            if line is not None:
                return line
        return None

    def _secrets(self) -> set[str]:
        found: set[str] = set()

        def walk(value: Any, secret: bool) -> None:
            if isinstance(value, dict):
                for key, item in value.items():
                    walk(item, secret or secret_key(key))
            elif isinstance(value, list):
                for item in value:
                    walk(item, secret)
            elif secret and isinstance(value, str) and value:
                found.add(value)

        walk(self.raw, False)
        return found


@dataclass
class HeraldConfig:
    """Everything under config/, validated."""

    config_dir: Path
    settings: Settings
    channels: dict[str, ChannelConfig]
    campaigns: dict[str, CampaignConfig]
    sources: dict[str, SourceConfig]
    secrets: frozenset[str] = field(default=frozenset(), repr=False)
    """Every credential resolved from the environment, and the signing key."""
    _policies: dict[str, ChannelPolicy] = field(default_factory=dict, init=False, repr=False,
                                                compare=False)

    def policy(self, channel: str) -> ChannelPolicy:
        """The typed sending policy of `channel` (window, zone, cap, gap, attempts, rate),
        parsed once from its validated options."""
        found = self._policies.get(channel)
        if found is None:
            found = self._policies[channel] = ChannelPolicy.parse(
                self.channels[channel].raw, self.settings.timezone)
        return found

    def channel_hash(self, name: str) -> str:
        """A short fingerprint of a channel's options: a flag raised under it holds only
        while they are unchanged."""
        blob = json.dumps(self.channels[name].raw, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @property
    def project_root(self) -> Path:
        """The directory relative `path` options are resolved against (config dir's parent)."""
        return self.config_dir.parent

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by `***`."""
        return scrub(text, self.secrets)


def validation_reasons(exc: ValidationError) -> list[tuple[PathT, str, str]]:
    """(location, error type, operator-facing reason) for each error of a pydantic model.

    Pydantic's messages never quote the input, so no secret can leak through them; our own
    validators quote only values that are not credentials.
    """
    out: list[tuple[PathT, str, str]] = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = tuple(part for part in error["loc"] if isinstance(part, (str, int)))
        kind, reason = error["type"], error["msg"]
        if kind == "missing":
            reason = "required"
        elif kind == "extra_forbidden":
            reason = "unknown key"
        elif kind == "value_error":
            reason = reason.removeprefix("Value error, ")
        out.append((loc, kind, reason))
    return out


__all__ = [
    "CampaignConfig",
    "ChannelConfig",
    "HeraldConfig",
    "Sender",
    "Settings",
    "SourceConfig",
    "check_zone",
    "validation_reasons",
]
