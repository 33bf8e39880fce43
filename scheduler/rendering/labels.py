"""Shared labels per language: `templates/i18n/{lang}.yaml`.

Words every template needs the same way (mode names, "Register by", "Unsubscribe", the
footer) live once per language instead of in every template. A language's file is laid
over the English one, so a label missing from a translation reads in English rather than
breaking the send; `problems()` reports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

FALLBACK = "en"


class LabelError(Exception):
    """A labels file cannot be read or is not a mapping."""


class Labels:
    """Reads `{directory}/{lang}.yaml`, re-reading a file when it changes on disk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, tuple[int, dict[str, Any]]] = {}

    def path(self, lang: str) -> Path:
        return self.directory / f"{lang}.yaml"

    def _read(self, lang: str) -> dict[str, Any]:
        path = self.path(lang)
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            return {}
        cached = self._cache.get(lang)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            where = getattr(exc, "problem_mark", None)
            line = f":{where.line + 1}" if where is not None else ""
            raise LabelError(f"{self._show(path)}{line}: cannot read: {_reason(exc)}") from exc
        if not isinstance(data, dict):
            raise LabelError(f"{self._show(path)}: must be a mapping of label names to text")
        self._cache[lang] = (mtime, data)
        return data

    def get(self, lang: str) -> dict[str, Any]:
        """The labels of `lang`, English filling the gaps (one level deep: `modes`)."""
        base = self._read(FALLBACK)
        own = self._read(lang) if lang != FALLBACK else {}
        merged: dict[str, Any] = dict(base)
        for name, value in own.items():
            if isinstance(value, dict) and isinstance(base.get(name), dict):
                merged[name] = {**base[name], **value}
            else:
                merged[name] = value
        return merged

    def problems(self, lang: str) -> list[str]:
        """What is wrong with the labels of `lang`: unreadable, absent, or missing labels."""
        try:
            base = self._read(FALLBACK)
            own = self._read(lang)
        except LabelError as exc:
            return [str(exc)]
        path = self._show(self.path(lang))
        if not self.path(lang).exists():
            return [f"{path}: missing"]
        if lang == FALLBACK:
            return []
        missing = [
            f"{name}.{sub}" if sub else name
            for name, value in base.items()
            for sub in (value if isinstance(value, dict) else [None])
            if (sub is None and name not in own)
            or (sub is not None and sub not in (own.get(name) or {}))
        ]
        return [f"{path}: {m}: missing (the English label is used)" for m in missing]

    def _show(self, path: Path) -> str:
        # Name files from the templates directory down: short and the same on every machine.
        return str(path.relative_to(self.directory.parent.parent))


def _reason(exc: BaseException) -> str:
    problem = getattr(exc, "problem", None)
    return str(problem) if problem else str(exc).splitlines()[0]
