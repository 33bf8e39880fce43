"""YAML files with line numbers, and the collector of `FILE:LINE: FIELD: reason` lines.

A document is composed once: the node tree gives each key's line (so an error found in the
constructed data can name the line of the key it is about), and duplicate keys, which PyYAML
would silently let the last one win, become errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scheduler.ingest.safe_parse import value_error_text

PathT = tuple[str | int, ...]
"""Where a value sits in a document: mapping keys and sequence indices."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAX_NODES = 200_000  # aliases can multiply a small file; stop mapping lines past this


def render_path(path: PathT) -> str:
    """`("campaigns", "x", "channels", 1)` → `campaigns.x.channels[1]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def display_path(path: Path) -> str:
    """The path relative to the working directory when it lies below it, else as given."""
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
    return str(path)


@dataclass
class YamlDoc:
    """One parsed file: its data (None when missing, empty or unreadable) and key lines."""

    display: str
    data: Any = None
    lines: dict[PathT, int] = field(default_factory=dict)
    ok: bool = True
    """False when the file could not be read or parsed (its data is then None)."""

    def line_of(self, path: PathT) -> int | None:
        """The line of the deepest key on `path` that the file has (a missing key's parent)."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


@dataclass
class _Problem:
    file_rank: int
    line: int
    seq: int
    display: str
    path: PathT
    text: str


class Problems:
    """Collects every problem across files; `lines()` gives them in file then line order."""

    def __init__(self) -> None:
        self._items: list[_Problem] = []
        self._files: dict[str, int] = {}

    def __bool__(self) -> bool:
        return bool(self._items)

    def add(self, doc: YamlDoc | str, path: PathT, reason: str) -> None:
        """Record `reason` about `path` in `doc` (a YamlDoc, or a bare display name)."""
        display = doc.display if isinstance(doc, YamlDoc) else doc
        line = doc.line_of(path) if isinstance(doc, YamlDoc) else None
        self.add_at(display, line, path, reason)

    def add_at(self, display: str, line: int | None, path: PathT, reason: str) -> None:
        where = f"{display}:{line}" if line is not None else display
        text = f"{where}: {render_path(path)}: {reason}" if path else f"{where}: {reason}"
        rank = self._files.setdefault(display, len(self._files))
        self._items.append(_Problem(rank, line or 0, len(self._items), display, path, text))

    def has(self, display: str, path: PathT) -> bool:
        """Whether a problem was already recorded for exactly this field."""
        return any(p.display == display and p.path == path for p in self._items)

    def lines(self, scrub: Callable[[str], str] = str) -> list[str]:
        items = sorted(self._items, key=lambda p: (p.file_rank, p.line, p.seq))
        return [scrub(p.text) for p in items]


def load_yaml(path: Path, display: str, problems: Problems, *, required: bool) -> YamlDoc:
    """Read and parse one file; problems (missing, syntax, duplicate keys) go to `problems`."""
    doc = YamlDoc(display)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        if required:
            problems.add(doc, (), "file not found")
            doc.ok = False
        return doc
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(doc, (), f"cannot read the file: {getattr(exc, 'strerror', None) or exc}")
        doc.ok = False
        return doc
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _map_lines(node, (), doc, problems, [0])
            doc.data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        # Only the parser's own words: its snippet of the line could show a secret.
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
        problems.add_at(display, mark.line + 1 if mark else None, (), f"YAML syntax: {reason}")
        doc.ok, doc.data = False, None
    except yaml.YAMLError as exc:
        problems.add(doc, (), f"YAML syntax: {type(exc).__name__}")
        doc.ok, doc.data = False, None
    except RecursionError:
        problems.add(doc, (), "YAML: nested too deeply")
        doc.ok, doc.data = False, None
    except ValueError as exc:  # e.g. an integer beyond Python's conversion limit
        problems.add(doc, (), f"YAML: {value_error_text(exc)}")
        doc.ok, doc.data = False, None
    finally:
        loader.dispose()
    return doc


def _map_lines(
    node: yaml.Node, path: PathT, doc: YamlDoc, problems: Problems, count: list[int]
) -> None:
    count[0] += 1
    if count[0] > _MAX_NODES or len(path) > 50:
        return
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                _map_lines(value_node, path, doc, problems, count)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key, line = key_node.value, key_node.start_mark.line + 1
            if key in seen:
                problems.add_at(
                    doc.display,
                    line,
                    (*path, key),
                    f"duplicate key (first given on line {seen[key]})",
                )
            else:
                seen[key] = line
                doc.lines[(*path, key)] = line
            _map_lines(value_node, (*path, key), doc, problems, count)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            doc.lines[(*path, index)] = item.start_mark.line + 1
            _map_lines(item, (*path, index), doc, problems, count)
