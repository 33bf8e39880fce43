"""The headless-browser harness the browser tests share: Debian's Chromium driven by
Selenium, and axe-core 4 installed from npm for the accessibility checks.

A missing browser or npm skips the test, except in CI (`CI` set), where `make test`
installs them (scripts/packages.d/) and their absence is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def need(condition: bool, why: str) -> None:
    """Skip with `why` unless `condition` holds; under CI, fail instead."""
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{why} (CI installs it: scripts/install-system-packages.sh)")
        pytest.skip(why)


def axe_source(config: pytest.Config) -> str:
    """axe-core 4.x from its npm package, installed once into pytest's cache folder."""
    cache = getattr(config, "cache", None)  # None under -p no:cacheprovider
    folder = cache.mkdir("axe-core-4") if cache else ROOT / ".cache" / "axe-core-4"
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        need(npm is not None, "npm is not installed")
        done = subprocess.run([str(npm), "install", "--prefix", str(folder), "--no-audit",
                               "--no-fund", "--silent", "axe-core@4"],
                              capture_output=True, text=True, timeout=300)
        need(done.returncode == 0 and script.exists(),
             f"npm could not install axe-core: {done.stderr[-300:]}")
    return script.read_text(encoding="utf-8")


@contextmanager
def chrome(profile: Path, *args: str, prefs: dict[str, Any] | None = None,
           console_log: bool = False) -> Iterator[Any]:
    """Headless Chromium with its own profile folder and `args` added; quit on exit.
    `prefs` are Chromium preferences; `console_log` keeps the page's console for get_log."""
    need(CHROMIUM.exists() and CHROMEDRIVER.exists(),
         "chromium and chromium-driver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", *args):
        options.add_argument(arg)
    if prefs:
        options.add_experimental_option("prefs", prefs)
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options,
                              service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
