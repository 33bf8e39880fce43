"""A channel's sending policy is parsed once, typed, with one default for each field."""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

from scheduler.config import ChannelPolicy, load_config
from tests.conftest import Project


def test_the_policy_is_parsed_from_channels_yaml(project: Project) -> None:
    config = load_config(project.config)
    x = config.policy("x")
    assert x == ChannelPolicy(tz=ZoneInfo("Europe/Zurich"), window=(time(8), time(18)),
                              max_per_day=4, min_gap=timedelta(hours=2), max_attempts=8)
    assert config.policy("x") is x  # parsed once
    assert not x.unrestricted and config.policy("email").unrestricted


def test_without_a_timezone_a_channel_counts_in_the_settings_zone(project: Project) -> None:
    settings = (project.config / "settings.yaml").read_text()
    project.write_config("settings.yaml", settings.replace("timezone: UTC",
                                                           "timezone: Asia/Tokyo"))
    channels = (project.config / "channels.yaml").read_text()
    project.write_config("channels.yaml", channels.replace(
        "    max_per_day: 4\n", "    max_per_day: 4\n    max_attempts: 3\n    rate: 30/m\n"
    ).replace("    timezone: Europe/Zurich\n    max_per_day: 4",
              "    max_per_day: 4"))
    config = load_config(project.config)
    x = config.policy("x")
    assert x.tz == ZoneInfo("Asia/Tokyo")
    assert (x.max_attempts, x.rate) == (3, (30, timedelta(minutes=1)))
    assert config.policy("mastodon").tz == ZoneInfo("Europe/Zurich")
