"""`load_config`: read the four files under config/, resolve `${ENV}`, validate everything.

Every problem in every file is collected before anything is raised, so one run of
`herald channels validate` shows the operator the whole list.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from channels.secrets import scrub
from scheduler.config.channel_checks import NAME, channel_kind, check_channel, report_unset
from scheduler.config.envrefs import (
    EnvRefs,
    is_literal,
    literal_secrets,
    url_password,
)
from scheduler.config.models import (
    CampaignConfig,
    ChannelConfig,
    HeraldConfig,
    Settings,
    SourceConfig,
    validation_reasons,
)
from scheduler.config.yamldoc import PathT, Problems, YamlDoc, display_path, load_yaml
from scheduler.errors import ConfigError

REQUIRED_FILES = ("settings.yaml", "channels.yaml")
OPTIONAL_FILES = ("campaigns.yaml", "sources.yaml")
"""Without campaigns.yaml nothing is planned; without sources.yaml nothing is polled."""

EMAIL_KINDS = frozenset({"course_email", "digest", "catalogue_email", "coe_email"})
_SCHEDULED_KINDS = frozenset({"digest", "catalogue_email", "coe_email"})
_FORMATS = {".csv": "csv", ".json": "json", ".ics": "ical", ".ical": "ical"}


def load_config(config_dir: Path, environ: Mapping[str, str] | None = None) -> HeraldConfig:
    """Load and validate config/; ConfigError lists every problem found across all files.

    `environ` defaults to the process environment; tests pass their own.
    """
    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        raise ConfigError([f"{display_path(config_dir)}: config directory not found (looked in"
                           f" {config_dir.absolute()}; point --config-dir DIR or"
                           " HERALD_CONFIG_DIR at the folder holding settings.yaml)"])
    problems = Problems()
    env = EnvRefs(os.environ if environ is None else environ)
    docs = {
        name: load_yaml(
            config_dir / name,
            display_path(config_dir / name),
            problems,
            required=name in REQUIRED_FILES,
        )
        for name in REQUIRED_FILES + OPTIONAL_FILES
    }
    root = config_dir.resolve()
    settings = _settings(docs["settings.yaml"], problems, env)
    channels, declared = _channels(docs["channels.yaml"], problems, env, root.parent)
    campaigns = _campaigns(docs["campaigns.yaml"], problems, env, channels, declared)
    sources = _sources(docs["sources.yaml"], problems, env, root)
    secrets = frozenset(s for s in env.secrets if s)
    if settings is not None and settings.signing_key is not None:
        secrets |= {settings.signing_key.get_secret_value()}
    if settings is not None:
        secrets |= {k.get_secret_value() for k in settings.previous_signing_keys}
    if problems or settings is None:
        raise ConfigError(problems.lines(lambda text: scrub(text, secrets)))
    return HeraldConfig(root, settings, channels, campaigns, sources, secrets)


def _section(doc: YamlDoc, key: str, problems: Problems) -> dict[Any, Any]:
    """The mapping under the file's one top-level `key`; other top-level keys are errors."""
    data = _mapping(doc, (), problems, f"a mapping with the key '{key}'")
    for other in data:
        if other != key:
            problems.add(doc, (other,), _unknown(other, [key]))
    section = data.get(key)
    if section is None:
        return {}
    if not isinstance(section, dict):
        problems.add(doc, (key,), "expected a mapping of names to entries")
        return {}
    return section


def _mapping(doc: YamlDoc, path: PathT, problems: Problems, expected: str) -> dict[Any, Any]:
    data = doc.data
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.add(doc, path, f"expected {expected}")
        return {}
    return data


def _unknown(key: object, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected: {', '.join(known)}"
    return f"unknown key ({hint})"


def _validate(
    model: type[BaseModel],
    data: dict[str, Any],
    doc: YamlDoc,
    here: PathT,
    problems: Problems,
    env: EnvRefs,
    rename: Mapping[PathT, PathT] | None = None,
    context: dict[str, Any] | None = None,
) -> Any:
    """`model` validated from `data`, or None with every error reported under `here`."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        known = [info.alias or name for name, info in model.model_fields.items()]
        for loc, kind, reason in validation_reasons(exc):
            for old, new in (rename or {}).items():
                if loc[: len(old)] == old:
                    loc = (*new, *loc[len(old) :])
            path = (*here, *loc)
            if kind == "missing" and path in env.omitted:
                reason = f"environment variable {env.omitted[path]} is not set"
            elif kind == "extra_forbidden" and loc:
                reason = _unknown(loc[-1], [k for k in known if k != "name"])
            problems.add(doc, path, reason)
        return None


def _settings(doc: YamlDoc, problems: Problems, env: EnvRefs) -> Settings | None:
    data = _mapping(doc, (), problems, "a mapping of settings")
    for path, value in literal_secrets(data, ()):
        env.secrets.add(str(value))  # only so that no error message can echo it
        problems.add(doc, path, "secrets must come from ${ENV} references")
    database_url = data.get("database_url")
    if isinstance(database_url, str) and is_literal(database_url):
        password = url_password(database_url)
        if password:
            env.secrets.add(password)
            problems.add(
                doc,
                ("database_url",),
                "the password must come from an ${ENV} reference "
                "(e.g. postgresql://herald:${PGPASSWORD}@db/herald)",
            )
    if not doc.ok:
        return None
    resolved = env.resolve(data, ())
    settings: Settings | None = _validate(Settings, resolved, doc, (), problems, env)
    for key in data:
        report_unset(env, doc, (key,), problems)
    return settings


def _channels(
    doc: YamlDoc, problems: Problems, env: EnvRefs, project_root: Path
) -> tuple[dict[str, ChannelConfig], set[str] | None]:
    """The valid channels, and every name declared (valid or not, to avoid knock-on errors);
    None for the names when channels.yaml could not be read at all."""
    channels: dict[str, ChannelConfig] = {}
    section = _section(doc, "channels", problems)
    for name, spec in section.items():
        channel = check_channel(name, spec, doc, problems, env, project_root)
        if channel is not None:
            channels[name] = channel
    if not doc.ok:
        return channels, None
    return channels, {str(name) for name in section}


def _campaigns(
    doc: YamlDoc,
    problems: Problems,
    env: EnvRefs,
    channels: dict[str, ChannelConfig],
    declared: set[str] | None,
) -> dict[str, CampaignConfig]:
    campaigns: dict[str, CampaignConfig] = {}
    for name, spec in _section(doc, "campaigns", problems).items():
        here: PathT = ("campaigns", name)
        if not isinstance(name, str) or not NAME.fullmatch(name):
            problems.add(doc, here, "invalid campaign name (use letters, digits, '_' and '-')")
            continue
        if not isinstance(spec, dict):
            problems.add(doc, here, "expected a mapping")
            continue
        data = env.resolve(spec, here)
        targets = _campaign_channels(data, doc, here, problems)
        data["name"] = name
        rename: dict[PathT, PathT] = {}
        if targets is None:
            data.setdefault("channels", [])
        else:
            data["channels"] = [target for _, target in targets]
            if "channel" in spec:
                rename[("channels", 0)] = ("channel",)
            if declared is not None:
                _check_targets(targets, data.get("kind"), doc, problems, channels, declared)
        campaign = _validate(CampaignConfig, data, doc, here, problems, env, rename)
        report_unset(env, doc, here, problems)
        if campaign is not None and targets is not None:
            _check_timing(campaign, doc, here, problems)
            campaigns[name] = campaign
    return campaigns


def _campaign_channels(
    data: dict[str, Any], doc: YamlDoc, here: PathT, problems: Problems
) -> list[tuple[PathT, str]] | None:
    """(path, name) of each channel a campaign names, taken out of `data`; None when the
    campaign names none usably (after reporting why). Bad items are reported and skipped."""
    one, many = data.pop("channel", None), data.pop("channels", None)
    if one is not None and many is not None:
        problems.add(doc, (*here, "channels"), "give either channel or channels, not both")
        return None
    if one is not None:
        items: list[tuple[PathT, Any]] = [((*here, "channel"), one)]
    elif many is not None:
        if isinstance(many, str):
            many = [many]
        if not isinstance(many, list) or not many:
            problems.add(doc, (*here, "channels"), "expected a list of one or more channel names")
            return None
        items = [((*here, "channels", i), item) for i, item in enumerate(many)]
    else:
        problems.add(doc, here, "channel (or channels) is required")
        return None
    targets: list[tuple[PathT, str]] = []
    for path, item in items:
        if not isinstance(item, str):
            problems.add(doc, path, f"expected a channel name, not {item!r}")
        elif any(item == seen for _, seen in targets):
            problems.add(doc, path, f"channel {item!r} is named twice")
        else:
            targets.append((path, item))
    return targets or None


def _check_targets(
    targets: list[tuple[PathT, str]],
    kind: Any,
    doc: YamlDoc,
    problems: Problems,
    channels: dict[str, ChannelConfig],
    declared: set[str],
) -> None:
    for path, name in targets:
        channel = channels.get(name)
        if channel is None:
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none defined"
                problems.add(doc, path, f"unknown channel {name!r} (channels.yaml has: {known})")
            continue
        has = channel_kind(channel.type)
        if kind in EMAIL_KINDS and has not in ("email", "any"):
            problems.add(
                doc,
                path,
                f"channel {name!r} ({channel.type}) cannot send a {kind} campaign's "
                "emails; use an email channel (smtp or file)",
            )
        elif kind == "course_post" and has not in ("post", "any"):
            problems.add(
                doc,
                path,
                f"channel {name!r} ({channel.type}) sends email; a course_post "
                "campaign needs social channels",
            )


def _check_timing(campaign: CampaignConfig, doc: YamlDoc, here: PathT, problems: Problems) -> None:
    timing = campaign.timing
    if campaign.min_lead is not None and timing.kind != "on_publish":
        problems.add(doc, (*here, "min_lead"), f"applies only to timing on_publish, not {timing}")
    for key in ("horizon", "remind_after"):
        if getattr(campaign, key) is not None and campaign.kind != "catalogue_email":
            problems.add(doc, (*here, key), f"applies only to catalogue_email campaigns, "
                         f"not {campaign.kind}")
    if campaign.kind in _SCHEDULED_KINDS and timing.kind != "cron":
        problems.add(
            doc,
            (*here, "timing"),
            f"a {campaign.kind} campaign is not tied to one course's "
            "dates; give a schedule such as 'cron: 0 8 * * MON'",
        )
    if campaign.local_window is not None and campaign.kind not in EMAIL_KINDS:
        problems.add(
            doc,
            (*here, "local_window"),
            "applies to email campaigns only; a social channel has its own window in channels.yaml",
        )


def _sources(
    doc: YamlDoc, problems: Problems, env: EnvRefs, config_dir: Path
) -> dict[str, SourceConfig]:
    sources: dict[str, SourceConfig] = {}
    for name, spec in _section(doc, "sources", problems).items():
        here: PathT = ("sources", name)
        if not isinstance(name, str) or not NAME.fullmatch(name):
            problems.add(doc, here, "invalid source name (use letters, digits, '_' and '-')")
            continue
        if not isinstance(spec, dict):
            problems.add(doc, here, "expected a mapping with a location")
            continue
        data = {**env.resolve(spec, here), "name": name}
        context = {"config_dir": config_dir}
        source: SourceConfig | None = _validate(
            SourceConfig, data, doc, here, problems, env, context=context
        )
        report_unset(env, doc, here, problems)
        if source is None:
            continue
        is_url = source.location.startswith(("http://", "https://"))
        if source.format is None and not is_url and Path(source.location).suffix not in _FORMATS:
            problems.add(
                doc,
                (*here, "location"),
                "cannot tell the format from the file name; add format: csv, json or ical",
            )
            continue
        sources[name] = source
    return sources
