"""How commands print: one JSON document on stdout (`--json`), or a plain aligned table."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any, Protocol


def _plain(value: object) -> object:
    """What JSON cannot hold, as text: times in ISO 8601 (with `T`), anything else as str."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def dump_json(doc: object) -> None:
    """Print `doc` as one JSON document on stdout."""
    json.dump(doc, sys.stdout, indent=2, default=_plain, ensure_ascii=False)
    sys.stdout.write("\n")


def cell(value: object) -> str:
    """A value as one line of text (None is empty; a list as `a, b`)."""
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    return " ".join(str("" if value is None else value).split())


def print_table(rows: list[dict[str, Any]], columns: list[str], width: int = 60) -> None:
    """A plain aligned table; cells are folded onto one line and cut at `width` characters."""
    if not rows:
        print("(none)")
        return
    cells = [{c: cell(r.get(c)) for c in columns} for r in rows]
    widths = {c: min(width, max(len(c), *(len(r[c]) for r in cells))) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for r in cells:
        print("  ".join(r[c][: widths[c]].ljust(widths[c]) for c in columns))


def show(rows: list[dict[str, Any]], columns: list[str], *, as_json: bool,
         total: int | None = None, width: int = 60) -> None:
    """`rows` as one JSON document (`--json`) or as a table of `columns` (cells cut at
    `width`); with `total` (the count before a limit), the table says "showing N of M" when
    rows were left out."""
    if as_json:
        dump_json(rows)
        return
    print_table(rows, columns, width)
    if total is not None and total > len(rows):
        print(f"showing {len(rows):,} of {total:,} (--limit to see more)")


class ImportSummary(Protocol):
    """What an upserting import did: the keys it added, updated and left unchanged."""

    @property
    def added(self) -> list[str]: ...
    @property
    def updated(self) -> list[str]: ...
    @property
    def unchanged(self) -> list[str]: ...


def print_import_summary(noun: str, summary: ImportSummary) -> None:
    """One line: `centres: 2 added, 1 updated, 0 unchanged`."""
    print(f"{noun}: {len(summary.added)} added, {len(summary.updated)} updated, "
          f"{len(summary.unchanged)} unchanged")


TROUBLE = 3
"""The exit code of delivery trouble a monitor must see (DESIGN.md, "Exit codes")."""


def checked(problems: list[str]) -> int:
    """Print each problem on stderr as `attention: ...`; the exit code (0, or 3 if any)."""
    from scheduler.logs import print_error

    for line in problems:
        print_error(line, "attention")
    return TROUBLE if problems else 0
