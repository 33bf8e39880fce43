"""Errors the CLI turns into exit code 2 (bad input or configuration)."""

from __future__ import annotations


class InputError(Exception):
    """Bad input or configuration: one line per problem, each naming where and what.

    A line reads `FILE:LINE: FIELD: reason` (or `FILE: reason` when no line applies).
    Raised before anything is written.
    """

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class ConfigError(InputError):
    """The configuration under config/ is invalid."""
