"""Parsing untrusted JSON and YAML into values, with every failure an `InputError`.

Python's parsers fail in ways that are not syntax errors: a number of thousands of digits
(`ValueError`: int conversion limit), a document nested 100,000 deep (`RecursionError`).
Both are bad input (exit 2, `FILE:LINE: reason`), never a crash.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from scheduler.errors import InputError

MAX_INT_DIGITS = 30
"""A longer integer is read as infinity (every field that takes a number refuses it as too
large) rather than converted: Python refuses beyond 4,300 digits, and nothing we import
needs more than a few."""


def _bounded_int(text: str) -> int | float:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else float("inf")


DECODER = json.JSONDecoder(parse_int=_bounded_int)


def raw_decode(text: str, index: int, name: str, line: int) -> tuple[Any, int]:
    """`DECODER.raw_decode(text, index)`; an `InputError` at `name:line` when it fails."""
    try:
        return DECODER.raw_decode(text, index)
    except json.JSONDecodeError as exc:
        raise InputError([f"{name}:{exc.lineno}: invalid JSON: {exc.msg}"]) from None
    except RecursionError:
        raise InputError([f"{name}:{line}: invalid JSON: nested too deeply"]) from None
    except ValueError as exc:  # belt and braces: any other conversion limit
        raise InputError([f"{name}:{line}: invalid JSON: {value_error_text(exc)}"]) from None


def loads_json(text: str, name: str) -> Any:
    """A whole JSON document."""
    value, end = raw_decode(text, _skip(text, 0), name, 1)
    if _skip(text, end) != len(text):
        line = text.count("\n", 0, end) + 1
        raise InputError([f"{name}:{line}: invalid JSON: extra data after the document"])
    return value


def loads_yaml(text: str, name: str) -> Any:
    """A whole YAML document (safe loader)."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}" if mark else name
        reason = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
        raise InputError([f"{where}: invalid YAML: {reason}"]) from None
    except yaml.YAMLError as exc:
        raise InputError([f"{name}: invalid YAML: {type(exc).__name__}"]) from None
    except RecursionError:
        raise InputError([f"{name}: invalid YAML: nested too deeply"]) from None
    except ValueError as exc:  # e.g. an integer beyond Python's conversion limit
        raise InputError([f"{name}: invalid YAML: {value_error_text(exc)}"]) from None


def value_error_text(exc: ValueError) -> str:
    """A parser's ValueError in an operator's words."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "integer string conversion" in text:
        return "a number with too many digits"
    return text


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\n\r":
        i += 1
    return i
