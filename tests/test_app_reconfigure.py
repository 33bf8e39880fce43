"""A reload puts a new (config, channels) pair in force at once, through one method."""

from __future__ import annotations

from scheduler.app import App, load_configured
from tests.conftest import Project


def test_reconfigure_swaps_config_and_channels_together(project: Project) -> None:
    app = App(project.config, project.db_url)
    try:
        first = app.config
        old_channels = app.channels()
        channels = (project.config / "channels.yaml").read_text()
        project.write_config("channels.yaml", channels.replace("max_per_day: 4",
                                                               "max_per_day: 3"))
        fresh = load_configured(project.config, build_channels=True)
        assert fresh.channels is not None
        replaced = app.reconfigure(fresh)
        assert dict(replaced) == old_channels  # for the caller to close
        assert app.config is fresh.config is not first
        assert app.config.policy("x").max_per_day == 3
        assert app.channels() == dict(fresh.channels)
        assert all(app.channels()[n] is not old_channels[n] for n in old_channels)
        for ch in replaced.values():
            ch.close()
    finally:
        app.close()
