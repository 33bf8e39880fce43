"""Configuration under config/: YAML + `${ENV}` + validation + redaction.

`load_config(dir)` reads settings.yaml, channels.yaml, campaigns.yaml and sources.yaml and
returns a `HeraldConfig`, or raises `ConfigError` listing every problem as
`FILE:LINE: FIELD: reason`. No secret appears in those lines, in a repr, or (after
`install_redaction`) in a log record.
"""

from __future__ import annotations

from scheduler.config.cadence import Cadence
from scheduler.config.loader import load_config
from scheduler.config.models import (
    CampaignConfig,
    ChannelConfig,
    HeraldConfig,
    Sender,
    Settings,
    SourceConfig,
)
from scheduler.config.parse import (
    Timing,
    format_duration,
    parse_duration,
    parse_rate,
    parse_timing,
    parse_window,
)
from scheduler.config.policy import ChannelPolicy
from scheduler.config.redaction import install_redaction
from scheduler.config.signing import signing_key_bytes
from scheduler.errors import ConfigError

__all__ = [
    "Cadence",
    "CampaignConfig",
    "ChannelConfig",
    "ChannelPolicy",
    "ConfigError",
    "HeraldConfig",
    "Sender",
    "Settings",
    "SourceConfig",
    "Timing",
    "format_duration",
    "install_redaction",
    "load_config",
    "parse_duration",
    "parse_rate",
    "parse_timing",
    "parse_window",
    "signing_key_bytes",
]
