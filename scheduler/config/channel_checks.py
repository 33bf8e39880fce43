"""Validation of one channel of channels.yaml.

The channel's own `Options` model decides which keys it takes; the options every channel
shares (rate, window, time zone, gap, caps) are checked here, so their errors read the same
for every channel. A channel module that does not exist yet is validated with the common
options only, extra keys allowed.
"""

from __future__ import annotations

import difflib
import re
import typing
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, SecretBytes, SecretStr, ValidationError

from channels.base import ChannelOptions
from channels.registry import CHANNEL_TYPES, channel_class
from scheduler.config.envrefs import UNSET, EnvRefs, literal_secrets, secret_key, suggest_var
from scheduler.config.models import ChannelConfig, check_zone, validation_reasons
from scheduler.config.parse import parse_duration, parse_rate, parse_window
from scheduler.config.yamldoc import PathT, Problems, YamlDoc

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
"""Channel, campaign and source names: they appear in dedup keys, so no `:` or spaces."""
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


class _AnyOptions(ChannelOptions):
    """Stand-in for a channel type whose module is not there: common options, extras allowed."""

    model_config = ConfigDict(extra="allow")


def channel_kind(type_name: str) -> str:
    """`email`, `post`, or `any` (the file channel writes both) for a channel type."""
    if type_name == "file":
        return "any"
    try:
        return channel_class(type_name).kind
    except Exception:
        return "email" if type_name == "smtp" else "post"


def check_channel(
    name: Any,
    spec: Any,
    doc: YamlDoc,
    problems: Problems,
    env: EnvRefs,
    project_root: Path,
) -> ChannelConfig | None:
    """Validate one channel; report every problem; the ChannelConfig, or None when unusable."""
    here: PathT = ("channels", name)
    if not isinstance(name, str) or not NAME.fullmatch(name):
        problems.add(doc, here, "invalid channel name (use letters, digits, '_' and '-')")
        return None
    if not isinstance(spec, dict):
        problems.add(doc, here, "expected a mapping of channel options")
        return None
    known = ", ".join(sorted(CHANNEL_TYPES))
    type_name = spec.get("type")
    if type_name is None:
        problems.add(doc, (*here, "type"), f"required (one of: {known})")
        return None
    if not isinstance(type_name, str) or type_name not in CHANNEL_TYPES:
        problems.add(doc, (*here, "type"), f"unknown channel type {type_name!r} (known: {known})")
        return None
    options = _options_class(type_name, doc, here, problems)
    secret_fields = _secret_fields(options) if options is not None else frozenset()

    for path, value in literal_secrets(spec, here, secret_fields):
        env.secrets.add(str(value))  # only so that no error message can echo it
        problems.add(
            doc, path, f"secrets must come from ${{ENV}} references (e.g. ${{{suggest_var(path)}}})"
        )
    raw: dict[str, Any] = {}
    for key, value in spec.items():
        secret = secret_key(key) or key in secret_fields
        resolved = env.resolve(value, (*here, key), secret=secret)
        if resolved is not UNSET:
            raw[key] = resolved
    enabled = _enabled(raw, doc, here, problems)
    folder = raw.get("path")
    if type_name == "file" and isinstance(folder, str) and folder:
        # A file channel's folder is a place in the project (var/outbox), not in config/.
        # (Other channels' `path` is a URL path: left alone.)
        where = Path(folder).expanduser()
        raw["path"] = str(where if where.is_absolute() else (project_root / where).resolve())
    _check_common(raw, doc, here, problems)
    if options is not None:
        _check_options(options, raw, enabled, doc, here, problems, env)
    if enabled:  # a disabled channel need not have its credentials
        report_unset(env, doc, here, problems)
    lines = {k: v for k, v in doc.lines.items() if k[:2] == here}
    return ChannelConfig(name, type_name, enabled, raw, doc.display, lines)


def report_unset(env: EnvRefs, doc: YamlDoc, under: PathT, problems: Problems) -> None:
    """Name every required `${VAR}` under `under` that is unset (once per field)."""

    def add(path: PathT, reason: str) -> None:
        if not problems.has(doc.display, path):
            problems.add(doc, path, reason)

    env.report_unset(under, add)


def _options_class(
    type_name: str, doc: YamlDoc, here: PathT, problems: Problems
) -> type[ChannelOptions] | None:
    try:
        return channel_class(type_name).Options
    except ModuleNotFoundError as exc:
        # A channels.* module not written yet: still check what every channel shares.
        if exc.name and (exc.name == "channels" or exc.name.startswith("channels.")):
            return _AnyOptions
        problems.add(doc, (*here, "type"), f"channel type {type_name!r} cannot be loaded: {exc}")
    except Exception as exc:
        problems.add(doc, (*here, "type"), f"channel type {type_name!r} cannot be loaded: {exc!r}")
    return None


def _secret_fields(options: type[ChannelOptions]) -> frozenset[str]:
    """YAML keys of the options declared as SecretStr / SecretBytes (possibly optional)."""

    def mentions_secret(annotation: Any) -> bool:
        if annotation in (SecretStr, SecretBytes):
            return True
        return any(mentions_secret(arg) for arg in typing.get_args(annotation))

    keys: set[str] = set()
    for field_name, info in options.model_fields.items():
        if mentions_secret(info.annotation):
            keys.add(info.alias or field_name)
    return frozenset(keys)


def _enabled(raw: dict[str, Any], doc: YamlDoc, here: PathT, problems: Problems) -> bool:
    value = raw.get("enabled", True)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        raw["enabled"] = value.strip().lower() in _TRUE
        return bool(raw["enabled"])
    problems.add(doc, (*here, "enabled"), "expected true or false")
    return True


def _check_common(raw: dict[str, Any], doc: YamlDoc, here: PathT, problems: Problems) -> None:
    text_checks = {
        "rate": parse_rate,
        "window": parse_window,
        "min_gap": parse_duration,
        "timezone": check_zone,
    }
    for key, check in text_checks.items():
        value = raw.get(key)
        if value is None:
            continue
        try:
            check(value if isinstance(value, str) else repr(value))
        except ValueError as exc:
            problems.add(doc, (*here, key), str(exc))
    for key in ("max_per_day", "max_attempts"):
        value = raw.get(key)
        if isinstance(value, str) and value.strip().isdigit():
            value = raw[key] = int(value)  # from an ${ENV} reference
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            problems.add(doc, (*here, key), f"expected a whole number of at least 1, not {value!r}")
    language = raw.get("language")
    if language is not None and not (isinstance(language, str) and _LANGUAGE.fullmatch(language)):
        problems.add(doc, (*here, "language"), f"invalid language {language!r} (e.g. en, fr, zh)")


def _check_options(
    options: type[ChannelOptions],
    raw: dict[str, Any],
    enabled: bool,
    doc: YamlDoc,
    here: PathT,
    problems: Problems,
    env: EnvRefs,
) -> None:
    # What an unset variable left out, by top-level key of this channel.
    unset = {str(path[2]): var for path, var in env.omitted.items() if path[:2] == here}
    data = dict(raw)
    if not enabled:
        # A disabled channel need not have its credentials: validate the rest as if they were
        # there, so a typo in it is still caught.
        data.update({key: f"${{{var}}}" for key, var in unset.items()})
    try:
        options.model_validate(data)
    except ValidationError as exc:
        fields = [info.alias or name for name, info in options.model_fields.items()]
        for loc, kind, reason in validation_reasons(exc):
            path = (*here, *loc)
            if problems.has(doc.display, path) or (not enabled and loc and loc[0] in unset):
                continue  # already told in the common checks' words, or a stand-in value
            if kind == "missing" and path in env.omitted:
                reason = f"environment variable {env.omitted[path]} is not set"
            elif kind == "extra_forbidden" and loc:
                close = difflib.get_close_matches(str(loc[-1]), fields, n=1)
                reason = f"unknown option{f' (did you mean {close[0]!r}?)' if close else ''}"
            elif not loc and unset:
                # A rule across options (such as "all four OAuth keys") that unset variables broke.
                names = ", ".join(sorted(set(unset.values())))
                reason = f"{reason} (environment variables not set: {names})"
            problems.add(doc, path, reason)
