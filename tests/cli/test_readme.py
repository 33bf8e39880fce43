"""The README keeps up with the command line (issue 18, point 11): every command of `herald
--help`, and every option of each, is in the README on a line naming that command."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

from scheduler.cli.main import build_parser

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def long_options(parser: argparse.ArgumentParser) -> list[str]:
    return [o for a in parser._actions for o in a.option_strings
            if o.startswith("--") and o != "--help"]


def commands(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
             ) -> Iterator[tuple[str, list[str]]]:
    """(`herald courses import`, its long options) for every command that runs something."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        yield " ".join(("herald", *words)), long_options(parser)
    for group in groups:
        for name, sub in group.choices.items():
            yield from commands(sub, (*words, name))


def test_every_command_and_option_is_in_the_readme() -> None:
    parser = build_parser()
    missing = [o for o in long_options(parser) if f"`{o}" not in README]
    found = list(commands(parser))
    assert len(found) > 15  # the walk found the commands
    for command, options in found:
        lines = [line for line in README.splitlines() if f"`{command}" in line]
        if not lines:
            missing.append(command)
        missing += [f"{command} {o}" for o in options if not any(o in line for line in lines)]
    assert missing == []


def test_the_readme_has_the_exit_codes_and_the_differences_section() -> None:
    assert "Exit codes: 0 success; 2 bad input" in README and "3 delivery trouble" in README
    assert "1 any other failure" in README
    differs = README.split("## Where this differs from DESIGN.md")[1].split("\n## ")[0]
    # It stands on its own: each point says what DESIGN.md asks for, not only that it differs.
    points = differs.split("\n- ")[1:]
    assert len(points) >= 5
    assert all("DESIGN.md" in p for p in points)
    for words in ("verify_tls", "helo", "submitted_by", "earliest"):
        assert words in README
