"""config/: loading, `${ENV}`, every error as FILE:LINE: FIELD: reason, redaction, parsers."""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
import types
from datetime import time, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr, model_validator

from channels.base import Channel, ChannelOptions, DeliveryResult, Message
from channels.registry import CHANNEL_TYPES
from scheduler.config import (
    ChannelConfig,
    ConfigError,
    Timing,
    load_config,
)

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cr3t-Value/with+chars"


# -- a channel type of our own, so these tests do not hang on any real channel module ---------


class FakeOptions(ChannelOptions):
    base_url: str
    token: SecretStr
    user: SecretStr | None = None
    password: SecretStr | None = None
    pin: SecretStr | None = None
    """Secret by type, though its name does not look like one."""
    headers: dict[str, str] = {}
    path: str = ""


class FakeChannel(Channel):
    type = "fake"
    kind = "post"
    Options = FakeOptions

    def send(self, message: Message) -> DeliveryResult:
        return DeliveryResult.sent()


class PairOptions(ChannelOptions):
    key_id: SecretStr | None = None
    key_secret: SecretStr | None = None

    @model_validator(mode="after")
    def _both(self) -> PairOptions:
        if self.key_id is None or self.key_secret is None:
            raise ValueError("key_id and key_secret go together")
        return self


class FakeMail(Channel):
    type = "fakemail"
    kind = "email"
    Options = PairOptions

    def send(self, message: Message) -> DeliveryResult:
        return DeliveryResult.sent()


@pytest.fixture(autouse=True)
def fake_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("herald_test_fake_channels")
    module.FakeChannel = FakeChannel  # type: ignore[attr-defined]
    module.FakeMail = FakeMail  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(CHANNEL_TYPES, "fake", f"{module.__name__}:FakeChannel")
    monkeypatch.setitem(CHANNEL_TYPES, "fakemail", f"{module.__name__}:FakeMail")


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    """A copy of the shipped config/ with the demo catalogue beside it."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    (tmp_path / "demo").mkdir()
    shutil.copy(ROOT / "demo" / "courses.csv", tmp_path / "demo" / "courses.csv")
    return tmp_path / "config"


def write(cfg: Path, name: str, text: str) -> str:
    text = textwrap.dedent(text).lstrip("\n")
    (cfg / name).write_text(text, encoding="utf-8")
    return text


def line(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line of `text` containing `needle`."""
    hits = [i for i, row in enumerate(text.splitlines(), 1) if needle in row]
    return hits[nth - 1]


def errors(cfg: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(cfg, environ or {})
    assert str(caught.value) == "\n".join(caught.value.errors)
    return caught.value.errors


FAKE_CHANNELS = """
channels:
  email:
    type: file
    path: var/outbox/email
  social:
    type: fake
    base_url: https://fake.example
    token: ${FAKE_TOKEN}
    user: ${FAKE_USER:-}
"""


# -- the shipped configuration ------------------------------------------------------------------


def test_shipped_config_loads_without_any_environment(cfg: Path) -> None:
    config = load_config(cfg, {})

    assert config.config_dir == cfg.resolve()
    assert config.settings.base_url == "http://localhost:8080"
    assert config.settings.signing_key is None
    assert config.settings.sender.email == "academy@example.org"
    assert config.secrets == frozenset()
    assert set(config.channels) == {"email", "mastodon", "x", "linkedin"}
    for name, channel in config.channels.items():
        assert channel.type == "file" and channel.enabled
        assert channel.raw["path"] == str(cfg.parent / "var" / "outbox" / name)
    mastodon = config.channels["mastodon"].raw
    assert (mastodon["network"], mastodon["window"], mastodon["max_per_day"]) == (
        "mastodon",
        "08:00-18:00",
        6,
    )
    assert config.campaigns["announce"].min_lead == timedelta(days=7)
    assert config.campaigns["reminder"].timing == Timing(
        "before", field="registration_deadline", offset=timedelta(days=10)
    )
    assert config.campaigns["weekly"].timing == Timing("cron", cron="0 8 * * MON")
    assert config.campaigns["social_announce"].channels == ["mastodon", "x", "linkedin"]
    source = config.sources["catalogue"]
    assert source.location == str(cfg.parent / "demo" / "courses.csv")
    assert source.every == timedelta(hours=1)


def test_shipped_config_by_relative_path_from_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    config = load_config(Path("config"), {})
    assert config.config_dir == ROOT / "config"
    assert config.sources["catalogue"].location == str(ROOT / "demo" / "courses.csv")


def test_errors_name_the_file_relative_to_the_working_directory(
    cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (cfg / "channels.yaml").read_text().replace("min_gap: 90m", "min_gap: 9x")
    (cfg / "channels.yaml").write_text(text)
    monkeypatch.chdir(cfg.parent)

    found = errors(cfg)  # absolute, but below the working directory
    assert found == [
        f"config/channels.yaml:{line(text, 'min_gap: 9x')}: channels.mastodon.min_gap: "
        "invalid duration '9x' (expected e.g. 30s, 90m, 1h, 7d, 2w, 1h30m)"
    ]


# -- YAML problems ------------------------------------------------------------------------------


def test_yaml_syntax_error_gives_its_line(cfg: Path) -> None:
    text = write(
        cfg,
        "campaigns.yaml",
        """
        campaigns:
          announce:
            kind: course_email
           template: [unclosed
        """,
    )
    [error] = errors(cfg)
    assert error.startswith(f"{cfg}/campaigns.yaml:{line(text, 'template')}: YAML syntax: ")


def test_duplicate_key_is_an_error(cfg: Path) -> None:
    text = write(
        cfg,
        "sources.yaml",
        """
        sources:
          catalogue:
            location: ../demo/courses.csv
          catalogue:
            location: ../demo/courses.csv
        """,
    )
    assert errors(cfg) == [
        f"{cfg}/sources.yaml:{line(text, 'catalogue', 2)}: sources.catalogue: "
        f"duplicate key (first given on line {line(text, 'catalogue')})"
    ]


def test_missing_required_file_and_unknown_top_level_keys(cfg: Path) -> None:
    (cfg / "settings.yaml").unlink()
    text = write(cfg, "channels.yaml", FAKE_CHANNELS + "chanels: {}\n")
    write(cfg, "campaigns.yaml", "campaigns: {}\ncampaign: {}\n")
    assert errors(cfg, {"FAKE_TOKEN": "t"}) == [
        f"{cfg}/settings.yaml: file not found",
        f"{cfg}/channels.yaml:{line(text, 'chanels')}: chanels: "
        "unknown key (did you mean 'channels'?)",
        f"{cfg}/campaigns.yaml:2: campaign: unknown key (did you mean 'campaigns'?)",
    ]


def test_missing_optional_files_mean_no_campaigns_and_no_sources(cfg: Path) -> None:
    (cfg / "campaigns.yaml").unlink()
    (cfg / "sources.yaml").unlink()
    config = load_config(cfg, {})
    assert config.campaigns == {} and config.sources == {}


def test_missing_config_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config directory not found"):
        load_config(tmp_path / "nope", {})


# -- channels -----------------------------------------------------------------------------------


def test_unknown_channel_type_lists_the_known_ones(cfg: Path) -> None:
    text = write(
        cfg,
        "channels.yaml",
        """
        channels:
          email:
            type: file
            path: var/outbox/email
          mastodon:
            type: mastadon
          x: {path: var/outbox/x}
        """,
    )
    write(cfg, "campaigns.yaml", "campaigns: {}\n")
    known = ", ".join(sorted(CHANNEL_TYPES))
    assert errors(cfg) == [
        f"{cfg}/channels.yaml:{line(text, 'mastadon')}: channels.mastodon.type: "
        f"unknown channel type 'mastadon' (known: {known})",
        f"{cfg}/channels.yaml:{line(text, 'x:')}: channels.x.type: required (one of: {known})",
    ]


def test_common_options_are_checked_for_every_channel(cfg: Path) -> None:
    text = write(
        cfg,
        "channels.yaml",
        """
        channels:
          email:
            type: file
            path: var/outbox/email
            rate: 100/fortnight
          social:
            type: fake
            base_url: https://fake.example
            token: ${FAKE_TOKEN}
            window: "18:00-18:00"
            timezone: Europe/Atlantis
            max_per_day: 0
            min_gap: 9x
            language: English
        """,
    )
    write(cfg, "campaigns.yaml", "campaigns: {}\n")
    found = errors(cfg, {"FAKE_TOKEN": "t"})
    at = f"{cfg}/channels.yaml"
    assert found == [
        f"{at}:{line(text, 'rate')}: channels.email.rate: invalid rate '100/fortnight' "
        "(expected COUNT/UNIT, e.g. 100/s, 30/m, 600/h, 1000/d)",
        f"{at}:{line(text, 'window')}: channels.social.window: invalid window '18:00-18:00' "
        "(start and end are the same)",
        f"{at}:{line(text, 'timezone')}: channels.social.timezone: unknown time zone "
        "'Europe/Atlantis' (expected an IANA name such as Europe/Zurich)",
        f"{at}:{line(text, 'max_per_day')}: channels.social.max_per_day: "
        "expected a whole number of at least 1, not 0",
        f"{at}:{line(text, 'min_gap')}: channels.social.min_gap: invalid duration '9x' "
        "(expected e.g. 30s, 90m, 1h, 7d, 2w, 1h30m)",
        f"{at}:{line(text, 'language')}: channels.social.language: invalid language "
        "'English' (e.g. en, fr, zh)",
    ]


def test_channel_options_model_catches_unknown_and_bad_options(cfg: Path) -> None:
    text = write(
        cfg,
        "channels.yaml",
        """
        channels:
          social:
            type: fake
            base_url: https://fake.example
            tokne: ${FAKE_TOKEN}
            max_attempts: many
        """,
    )
    write(cfg, "campaigns.yaml", "campaigns: {}\n")
    at = f"{cfg}/channels.yaml"
    assert errors(cfg, {"FAKE_TOKEN": "t"}) == [
        f"{at}:{line(text, 'social:')}: channels.social.token: required",
        f"{at}:{line(text, 'tokne')}: channels.social.tokne: unknown option "
        "(did you mean 'token'?)",
        f"{at}:{line(text, 'max_attempts')}: channels.social.max_attempts: "
        "expected a whole number of at least 1, not 'many'",
    ]


def test_unset_variable_is_reported_for_an_enabled_channel_only(cfg: Path) -> None:
    text = write(
        cfg,
        "channels.yaml",
        FAKE_CHANNELS
        + """
          spare:
            type: fake
            enabled: false
            base_url: https://spare.example
            token: ${SPARE_TOKEN}
        """.replace("\n        ", "\n"),
    )
    write(cfg, "campaigns.yaml", "campaigns: {}\n")
    assert errors(cfg) == [
        f"{cfg}/channels.yaml:{line(text, 'FAKE_TOKEN')}: channels.social.token: "
        "environment variable FAKE_TOKEN is not set"
    ]

    config = load_config(cfg, {"FAKE_TOKEN": SECRET})
    assert config.channels["spare"].enabled is False
    assert "token" not in config.channels["spare"].raw
    assert config.channels["social"].raw["token"] == SECRET
    assert "user" not in config.channels["social"].raw  # optional credential, simply absent
    assert config.secrets == {SECRET}


def test_disabled_channel_is_still_checked_for_typos(cfg: Path) -> None:
    text = write(
        cfg,
        "channels.yaml",
        """
        channels:
          spare:
            type: fake
            enabled: false
            base_ulr: https://spare.example
            token: ${SPARE_TOKEN}
        """,
    )
    write(cfg, "campaigns.yaml", "campaigns: {}\n")
    at = f"{cfg}/channels.yaml"
    assert errors(cfg) == [
        f"{at}:{line(text, 'spare:')}: channels.spare.base_url: required",
        f"{at}:{line(text, 'base_ulr')}: channels.spare.base_ulr: unknown option "
        "(did you mean 'base_url'?)",
    ]


def test_a_rule_across_options_names_the_unset_variables(cfg: Path) -> None:
    text = write(
        cfg,
        "channels.yaml",
        """
        channels:
          mail:
            type: fakemail
            key_id: ${MAIL_KEY_ID}
            key_secret: ${MAIL_KEY_SECRET}
        """,
    )
    write(cfg, "campaigns.yaml", "campaigns: {}\n")
    assert errors(cfg, {"MAIL_KEY_ID": "id"}) == [
        f"{cfg}/channels.yaml:{line(text, 'mail:')}: channels.mail: key_id and key_secret go "
        "together (environment variables not set: MAIL_KEY_SECRET)",
        f"{cfg}/channels.yaml:{line(text, 'MAIL_KEY_SECRET')}: channels.mail.key_secret: "
        "environment variable MAIL_KEY_SECRET is not set",
    ]


def test_literal_secrets_are_refused_and_never_echoed(cfg: Path) -> None:
    text = write(
        cfg,
        "channels.yaml",
        f"""
        channels:
          social:
            type: fake
            base_url: https://fake.example
            token: {SECRET}
            pin: 4711
            user: ${{FAKE_USER:-}}
            headers:
              Authorization: Bearer {SECRET}x
        """,
    )
    write(cfg, "campaigns.yaml", "campaigns: {}\n")
    found = errors(cfg)
    at = f"{cfg}/channels.yaml"
    assert found[:3] == [
        f"{at}:{line(text, 'token')}: channels.social.token: secrets must come from ${{ENV}} "
        "references (e.g. ${SOCIAL_TOKEN})",
        f"{at}:{line(text, 'pin')}: channels.social.pin: secrets must come from ${{ENV}} "
        "references (e.g. ${SOCIAL_PIN})",
        f"{at}:{line(text, 'Authorization')}: channels.social.headers.Authorization: secrets "
        "must come from ${ENV} references (e.g. ${SOCIAL_HEADERS_AUTHORIZATION})",
    ]
    assert not any(SECRET in e or "4711" in e for e in found)


def test_env_secrets_never_appear_in_errors(cfg: Path) -> None:
    write(
        cfg,
        "channels.yaml",
        FAKE_CHANNELS.replace(
            "user: ${FAKE_USER:-}", "min_gap: ${FAKE_TOKEN}\n    window: ${WINDOW_PASSWORD}"
        ),
    )
    write(
        cfg,
        "settings.yaml",
        """
        base_url: ${BASE_URL}
        signing_key: ${HERALD_SIGNING_KEY}
        timezone: ${HERALD_SIGNING_KEY}
        sender: {name: ITU Academy, email: academy@example.org}
        """,
    )
    environ = {
        "FAKE_TOKEN": SECRET,
        "HERALD_SIGNING_KEY": "sign-" + SECRET,
        "WINDOW_PASSWORD": "pw-" + SECRET,
    }
    found = errors(cfg, environ)
    text = "\n".join(found)
    assert "environment variable BASE_URL is not set" in text
    assert "unknown time zone '***'" in text
    assert "invalid duration '***'" in text
    assert "invalid window '***'" in text
    assert SECRET not in text and "s3cr3t" not in text


def test_build_makes_the_channel_and_reports_bad_options(cfg: Path) -> None:
    write(cfg, "channels.yaml", FAKE_CHANNELS)
    write(cfg, "campaigns.yaml", "campaigns: {}\n")
    config = load_config(cfg, {"FAKE_TOKEN": SECRET})
    channel = config.channels["social"].build()
    assert isinstance(channel, FakeChannel)
    assert channel.options.token.get_secret_value() == SECRET  # type: ignore[attr-defined]

    broken = ChannelConfig(
        "social",
        "fake",
        True,
        {"type": "fake", "token": SECRET},
        "config/channels.yaml",
        {("channels", "social"): 7},
    )
    with pytest.raises(ConfigError) as caught:
        broken.build()
    assert caught.value.errors == ["config/channels.yaml:7: channels.social.base_url: required"]
    assert SECRET not in repr(broken) and SECRET not in repr(config)


def test_missing_channel_module_falls_back_to_common_options(
    cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(CHANNEL_TYPES, "future", "channels.not_written_yet:FutureChannel")
    monkeypatch.setitem(CHANNEL_TYPES, "broken", "herald_no_such_dependency:Broken")
    text = write(
        cfg,
        "channels.yaml",
        """
        channels:
          email: {type: file, path: var/outbox/email}
          later:
            type: future
            anything: goes
            min_gap: 2h
            secret: ${LATER_SECRET}
          bad:
            type: broken
        """,
    )
    write(cfg, "campaigns.yaml", "campaigns: {}\n")
    [error] = errors(cfg, {"LATER_SECRET": SECRET})
    assert error.startswith(
        f"{cfg}/channels.yaml:{line(text, 'type: broken')}: channels.bad.type: "
        "channel type 'broken' cannot be loaded: "
    )
    (cfg / "channels.yaml").write_text(text.split("  bad:")[0])
    config = load_config(cfg, {"LATER_SECRET": SECRET})
    assert config.channels["later"].raw["anything"] == "goes"
    assert config.secrets == {SECRET}


def test_env_references_defaults_embedding_and_url_passwords(cfg: Path) -> None:
    write(
        cfg,
        "channels.yaml",
        """
        channels:
          social:
            type: fake
            base_url: ${FAKE_URL:-https://default.example}
            token: ${FAKE_TOKEN}
            user: "id-${FAKE_ID}"
        """,
    )
    write(
        cfg,
        "settings.yaml",
        """
        database_url: postgresql+psycopg://herald:${PGPASSWORD}@db/herald
        base_url: https://herald.example.org/
        sender: {name: ITU Academy, email: academy@example.org}
        """,
    )
    write(cfg, "campaigns.yaml", "campaigns: {}\n")
    environ = {"FAKE_TOKEN": "tok-123", "FAKE_ID": "4242", "PGPASSWORD": "pg-pw"}
    config = load_config(cfg, environ)
    raw = config.channels["social"].raw
    assert raw["base_url"] == "https://default.example"
    assert raw["user"] == "id-4242"
    assert config.settings.database_url == "postgresql+psycopg://herald:pg-pw@db/herald"
    assert config.settings.base_url == "https://herald.example.org"
    assert config.secrets == {"tok-123", "4242", "pg-pw"}
    assert config.redact("dsn postgresql://herald:pg-pw@db, token=tok-123 id=4242") == (
        "dsn postgresql://herald:***@db, token=*** id=***"
    )
    # Too short to be worth hiding: redacting it would garble every line.
    assert config.redact("a 42") == "a 42"


def test_commented_examples_in_shipped_channels_yaml_are_valid(cfg: Path) -> None:
    """The real forms shown in comments validate against the real channel modules."""
    examples = ["channels:"]
    for row in (ROOT / "config" / "channels.yaml").read_text().splitlines():
        if re.fullmatch(r"  # [a-z_]+:\s*", row):
            name = row.strip("# :")
            examples.append(f"  {name}_example:")
        elif row.startswith("  #   "):
            examples.append("  " + row[len("  # ") :])
    names = [row.strip(" :") for row in examples if re.fullmatch(r"  \w+:", row)]
    assert len(names) >= 8  # smtp, mastodon, x, linkedin, facebook, bluesky, telegram, webhook
    (cfg / "channels.yaml").write_text("\n".join(examples) + "\n")
    write(cfg, "campaigns.yaml", "campaigns: {}\n")
    variables = set(re.findall(r"\$\{(\w+)\}", "\n".join(examples)))
    environ = {var: f"value-of-{var}" for var in variables}
    environ["SLACK_WEBHOOK_URL"] = "https://hooks.slack.com/services/T0/B0/secret"

    config = load_config(cfg, environ)
    assert sorted(c.type for c in config.channels.values()) == sorted(
        ["smtp", "mastodon", "x", "linkedin", "facebook", "bluesky", "telegram", "webhook"]
    )
    assert environ["X_CONSUMER_SECRET"] in config.secrets
    assert environ["SLACK_WEBHOOK_URL"] in config.secrets
    for channel in config.channels.values():
        channel.build().close()
    # Without the environment, each enabled example names the variables it needs.
    found = "\n".join(errors(cfg))
    for var in ("MASTODON_TOKEN", "LINKEDIN_TOKEN", "FACEBOOK_PAGE_TOKEN", "TELEGRAM_BOT_TOKEN"):
        assert f"environment variable {var} is not set" in found
    assert "SMTP_USER" not in found  # optional
    assert "slack_example" not in found  # disabled


def test_numbers_and_flags_from_the_environment(cfg: Path) -> None:
    write(
        cfg,
        "channels.yaml",
        """
        channels:
          email: {type: file, path: var/outbox/email}
          social:
            type: fake
            enabled: ${SOCIAL_ON:-no}
            base_url: https://fake.example
            token: ${FAKE_TOKEN}
            max_per_day: ${SOCIAL_CAP}
            path: hooks/herald
        """,
    )
    write(cfg, "campaigns.yaml", "campaigns: {}\n")
    config = load_config(cfg, {"SOCIAL_CAP": "5"})
    assert config.channels["social"].enabled is False  # the default, and no token needed

    config = load_config(cfg, {"SOCIAL_CAP": "5", "SOCIAL_ON": "yes", "FAKE_TOKEN": "tok-1"})
    social = config.channels["social"]
    assert social.enabled is True and social.raw["max_per_day"] == 5
    assert social.raw["path"] == "hooks/herald"  # only a file channel's path is a folder


def test_unreadable_channels_file_does_not_flood_campaign_errors(cfg: Path) -> None:
    (cfg / "channels.yaml").write_text("channels:\n  email: [unclosed\n")
    found = errors(cfg)
    assert len(found) == 1 and "channels.yaml:" in found[0] and "YAML syntax" in found[0]


# -- settings -----------------------------------------------------------------------------------


def test_settings_errors(cfg: Path) -> None:
    text = write(
        cfg,
        "settings.yaml",
        """
        database_url: postgresql://herald:hunter2@db/herald
        base_url: ftp://example.org
        signing_key: literally-in-the-file
        timezone: Mars/Olympus
        sender: {name: ITU Academy, email: not-an-address}
        colour: blue
        """,
    )
    at = f"{cfg}/settings.yaml"
    found = errors(cfg)
    assert found == [
        f"{at}:1: database_url: the password must come from an ${{ENV}} reference "
        "(e.g. postgresql://herald:${PGPASSWORD}@db/herald)",
        f"{at}:2: base_url: invalid base URL 'ftp://example.org' (expected http(s)://host[/path])",
        f"{at}:3: signing_key: secrets must come from ${{ENV}} references",
        f"{at}:4: timezone: unknown time zone 'Mars/Olympus' (expected an IANA name such as "
        "Europe/Zurich)",
        f"{at}:{line(text, 'sender')}: sender.email: invalid email address 'not-an-address'",
        f"{at}:6: colour: unknown key (expected: database_url, base_url, signing_key, "
        "previous_signing_keys, timezone, "
        "sender, http, bounces, accept_non_durable_commits)",
    ]
    assert not any("hunter2" in e or "literally-in-the-file" in e for e in found)


def test_signing_key_is_a_secret(cfg: Path) -> None:
    config = load_config(cfg, {"HERALD_SIGNING_KEY": SECRET})
    assert config.settings.signing_key is not None
    assert config.secrets == {SECRET}
    assert SECRET not in repr(config.settings)
    assert config.redact(f"key={SECRET}") == "key=***"


# -- campaigns ----------------------------------------------------------------------------------


def test_campaign_errors(cfg: Path) -> None:
    text = write(
        cfg,
        "campaigns.yaml",
        """
        campaigns:
          announce:
            kind: course_email
            channel: email
            template: email/announcement
            timing: before start_date 10d
            min_lead: 7d
          social:
            kind: course_post
            channels: [mastodon, tiktok, mastodon]
            template: social/announce
            timing: before start_date 3d
          both:
            kind: course_email
            channel: email
            channels: [email]
            template: email/x
            timing: on_publish
          weekly:
            kind: digest
            channel: email
            templet: email/digest
            timing: "cron: 0 8 * * MON"
            local_window: "8-20"
          noisy:
            kind: course_post
            channels: [x]
            template: social/announce
            timing: on_publish
            local_window: "08:00-20:00"
          "bad name":
            kind: course_email
        """,
    )
    at = f"{cfg}/campaigns.yaml"
    assert errors(cfg) == [
        f"{at}:{line(text, 'min_lead')}: campaigns.announce.min_lead: applies only to timing "
        "on_publish, not before start_date 10d",
        f"{at}:{line(text, 'tiktok')}: campaigns.social.channels[2]: channel 'mastodon' is "
        "named twice",
        f"{at}:{line(text, 'tiktok')}: campaigns.social.channels[1]: unknown channel 'tiktok' "
        "(channels.yaml has: email, linkedin, mastodon, x)",
        f"{at}:{line(text, 'channels: [email]')}: campaigns.both.channels: give either channel "
        "or channels, not both",
        f"{at}:{line(text, 'weekly:')}: campaigns.weekly.template: required",
        f"{at}:{line(text, 'templet')}: campaigns.weekly.templet: unknown key "
        "(did you mean 'template'?)",
        f"{at}:{line(text, '8-20')}: campaigns.weekly.local_window: invalid window '8-20': "
        "invalid time '8' (expected HH:MM)",
        f"{at}:{line(text, '08:00-20:00')}: campaigns.noisy.local_window: applies to email "
        "campaigns only; a social channel has its own window in channels.yaml",
        f"{at}:{line(text, 'bad name')}: campaigns.bad name: invalid campaign name (use "
        "letters, digits, '_' and '-')",
    ]


def test_campaign_channel_kinds_and_timing_rules(cfg: Path) -> None:
    write(
        cfg,
        "channels.yaml",
        FAKE_CHANNELS
        + """
          paused:
            type: file
            enabled: false
            path: var/outbox/paused
        """.replace("\n        ", "\n"),
    )
    text_c = write(
        cfg,
        "campaigns.yaml",
        """
        campaigns:
          announce:
            kind: course_email
            channel: social
            template: email/announcement
            timing: on_publish
          posts:
            kind: course_post
            channels: [social, paused, email]
            template: social/announce
            timing:
              cron: 0 9 * * TUE
          digest:
            kind: digest
            channel: email
            template: email/digest
            timing: before start_date 10d
          odd:
            kind: course_post
            channel: social
            template: social/announce
            timing: after start_date 3d
        """,
    )
    at = f"{cfg}/campaigns.yaml"
    assert errors(cfg, {"FAKE_TOKEN": "t"}) == [
        f"{at}:{line(text_c, 'channel: social')}: campaigns.announce.channel: channel 'social' "
        "(fake) cannot send a course_email campaign's emails; use an email channel "
        "(smtp or file)",
        f"{at}:{line(text_c, 'before start_date 10d')}: campaigns.digest.timing: a digest "
        "campaign is not tied to one course's dates; give a schedule such as "
        "'cron: 0 8 * * MON'",
        f"{at}:{line(text_c, 'after start_date')}: campaigns.odd.timing: invalid timing "
        "'after start_date 3d' (expected on_publish, 'before start_date 45d', "
        "'before registration_deadline 10d' or 'cron: 0 8 * * MON')",
    ]
    # The file channel serves both kinds, and a disabled channel may be named.
    write(
        cfg,
        "campaigns.yaml",
        """
        campaigns:
          posts:
            kind: course_post
            channels: [social, paused, email]
            template: social/announce
            timing:
              cron: 0 9 * * TUE
          mails: {kind: course_email, channel: paused, template: email/a, timing: on_publish}
        """,
    )
    config = load_config(cfg, {"FAKE_TOKEN": "t"})
    assert config.campaigns["posts"].channels == ["social", "paused", "email"]
    assert config.campaigns["posts"].timing == Timing("cron", cron="0 9 * * TUE")
    assert config.campaigns["mails"].channels == ["paused"]


def test_mail_channel_cannot_carry_posts(cfg: Path) -> None:
    write(
        cfg,
        "channels.yaml",
        """
        channels:
          mail: {type: fakemail, key_id: "${ID}", key_secret: "${SECRET}"}
        """,
    )
    text = write(
        cfg,
        "campaigns.yaml",
        """
        campaigns:
          posts: {kind: course_post, channel: mail, template: social/a, timing: on_publish}
          mails: {kind: course_email, channel: mail, template: email/a, timing: on_publish,
                  local_window: "22:00-06:00"}
        """,
    )
    assert errors(cfg, {"ID": "i", "SECRET": "s"}) == [
        f"{cfg}/campaigns.yaml:{line(text, 'posts')}: campaigns.posts.channel: channel 'mail' "
        "(fakemail) sends email; a course_post campaign needs social channels"
    ]
    write(cfg, "campaigns.yaml", "\n".join(text.splitlines()[:1] + text.splitlines()[2:]))
    config = load_config(cfg, {"ID": "i", "SECRET": "s"})
    assert config.campaigns["mails"].local_window == (time(22), time(6))


# -- sources ------------------------------------------------------------------------------------


def test_source_errors(cfg: Path) -> None:
    (cfg / "notes.txt").write_text("x")
    text = write(
        cfg,
        "sources.yaml",
        """
        sources:
          missing: {location: ../demo/nope.csv}
          ftp: {location: "ftp://example.org/courses.csv"}
          txt: {location: notes.txt, every: 0s}
          guess: {location: notes.txt, every: 90}
          fine: {location: notes.txt, format: csv, every: 1h30m}
          remote: {location: "https://example.org/courses", format: ical, every: 15m}
          typo: {location: ../demo/courses.csv, evry: 1h}
        """,
    )
    at = f"{cfg}/sources.yaml"
    nope = cfg.parent / "demo" / "nope.csv"
    assert errors(cfg) == [
        f"{at}:2: sources.missing.location: file not found: {nope}",
        f"{at}:3: sources.ftp.location: location must be a file path or an http(s) URL",
        f"{at}:4: sources.txt.every: must be longer than 0s",
        f"{at}:5: sources.guess.every: invalid duration '90' (expected e.g. 30s, 90m, 1h, 7d, "
        "2w, 1h30m)",
        f"{at}:{line(text, 'evry')}: sources.typo.evry: unknown key (did you mean 'every'?)",
    ]
    write(cfg, "sources.yaml", "\n".join(text.splitlines()[:1] + text.splitlines()[5:7]))
    sources = load_config(cfg, {}).sources
    assert sources["fine"].location == str(cfg / "notes.txt")
    assert sources["fine"].every == timedelta(hours=1, minutes=30)
    assert sources["remote"].location == "https://example.org/courses"


def test_source_format_must_be_knowable(cfg: Path) -> None:
    (cfg / "notes.txt").write_text("x")
    write(cfg, "sources.yaml", "sources:\n  notes: {location: notes.txt}\n")
    assert errors(cfg) == [
        f"{cfg}/sources.yaml:2: sources.notes.location: cannot tell the format from the file "
        "name; add format: csv, json or ical"
    ]


# -- everything at once -------------------------------------------------------------------------


def test_every_problem_in_every_file_is_reported_at_once(cfg: Path) -> None:
    for name, old, new in [
        ("settings.yaml", "timezone: UTC", "timezone: Nowhere/Land"),
        ("channels.yaml", "max_per_day: 4", "max_per_day: -4"),
        ("channels.yaml", "min_gap: 3h", "min_gap: soon"),
        ("campaigns.yaml", "template: email/digest", "template: ../../etc/passwd"),
        ("sources.yaml", "every: 1h", "every: hourly"),
    ]:
        path = cfg / name
        path.write_text(path.read_text().replace(old, new))
    found = errors(cfg)
    assert [e.split(":")[0].rsplit("/", 1)[-1] for e in found] == [
        "settings.yaml",
        "channels.yaml",
        "channels.yaml",
        "campaigns.yaml",
        "sources.yaml",
    ]
    assert [e.split(": ")[1] for e in found] == [
        "timezone",
        "channels.x.max_per_day",
        "channels.linkedin.min_gap",
        "campaigns.weekly.template",
        "sources.catalogue.every",
    ]


def test_bounces_settings(cfg: Path) -> None:
    base = "base_url: http://localhost:8080\nsender: {name: A, email: a@example.org}\n"
    write(cfg, "settings.yaml", base + "bounces:\n  host: imap.example.org\n"
          "  username: b@example.org\n  password: hunter2\n  every: 0s\n")
    at = f"{cfg}/settings.yaml"
    assert errors(cfg) == [
        f"{at}:6: bounces.password: secrets must come from ${{ENV}} references",
        f"{at}:7: bounces.every: must be longer than 0s",
    ]
    write(cfg, "settings.yaml", base + "bounces:\n  host: imap.example.org\n"
          "  username: b@example.org\n  password: ${IMAP_PW}\n  security: none\n")
    config = load_config(cfg, {"IMAP_PW": "s3cret-imap"})
    bounces = config.settings.bounces
    assert bounces is not None and bounces.resolved_port == 143
    assert bounces.processed_folder == "Processed" and bounces.every == "10m"
    assert "s3cret-imap" not in config.redact("login s3cret-imap failed")


def test_a_required_reference_left_unset_is_named_an_optional_one_is_absent(cfg: Path) -> None:
    """`${VAR}` unset is an error wherever it is (settings, an optional option, a campaign);
    `${VAR:-}` unset leaves the key out; an SMTP username goes with its password."""
    text = write(
        cfg,
        "channels.yaml",
        """
        channels:
          email:
            type: smtp
            host: localhost
            username: ${SMTP_USER}
            password: ${SMTP_PASSWORD}
            from: "A <a@example.org>"
          spare:
            type: smtp
            host: localhost
            username: ${SPARE_USER:-}
            password: ${SPARE_PASSWORD:-}
            from: "A <a@example.org>"
        """,
    )
    write(cfg, "campaigns.yaml", "campaigns: {}\n")
    settings = (cfg / "settings.yaml").read_text()
    settings = settings.replace("${HERALD_SIGNING_KEY:-}", "${HERALD_SIGNING_KEY}")
    (cfg / "settings.yaml").write_text(settings)
    found = errors(cfg)
    assert f"{cfg}/channels.yaml:{line(text, 'SMTP_USER')}: channels.email.username: " \
        "environment variable SMTP_USER is not set" in found
    assert f"{cfg}/channels.yaml:{line(text, 'SMTP_PASSWORD')}: channels.email.password: " \
        "environment variable SMTP_PASSWORD is not set" in found
    assert any("settings.yaml" in e and "signing_key: environment variable "
               "HERALD_SIGNING_KEY is not set" in e for e in found)
    assert not any("SPARE" in e for e in found)  # optional, both unset: no AUTH, by design

    # With only one of an optional pair set, the pair rule names the channel.
    (cfg / "settings.yaml").write_text(settings.replace("${HERALD_SIGNING_KEY}",
                                                        "${HERALD_SIGNING_KEY:-}"))
    env = {"SMTP_USER": "u-1234", "SMTP_PASSWORD": "p-12345", "SPARE_USER": "spare-user"}
    assert errors(cfg, env) == [
        f"{cfg}/channels.yaml:{line(text, 'spare:')}: channels.spare: username is set but "
        "password is not: give both (AUTH) or neither (no AUTH)"]
    env = {"SMTP_USER": "u-1234", "SMTP_PASSWORD": "p-12345", "SPARE_PASSWORD": "spare-pw"}
    assert errors(cfg, env) == [
        f"{cfg}/channels.yaml:{line(text, 'spare:')}: channels.spare: password is set but "
        "username is not: give both (AUTH) or neither (no AUTH)"]
    config = load_config(cfg, {"SMTP_USER": "u-1234", "SMTP_PASSWORD": "p-12345"})
    assert "username" not in config.channels["spare"].raw
    assert "password" not in config.channels["spare"].raw


@pytest.mark.parametrize(("value", "seconds"), [("30", 30), ("2.5", 2.5), ("2m", 120),
                                                 (None, 60)])
def test_source_timeout_in_seconds_or_a_duration(cfg: Path, value: str | None,
                                                  seconds: float) -> None:
    extra = f"    timeout: {value}\n" if value is not None else ""
    write(cfg, "sources.yaml", "sources:\n  feed:\n    location: https://example.org/c.csv\n"
          + extra)
    assert load_config(cfg, {}).sources["feed"].timeout.total_seconds() == seconds


@pytest.mark.parametrize("value", ["0", "fast", "-5"])
def test_a_bad_source_timeout_is_named(cfg: Path, value: str) -> None:
    text = write(cfg, "sources.yaml", "sources:\n  feed:\n    location: "
                 f"https://example.org/c.csv\n    timeout: {value}\n")
    found = errors(cfg)
    assert len(found) == 1
    assert found[0].startswith(f"{cfg}/sources.yaml:{line(text, 'timeout')}: sources.feed.timeout:")
