"""The regional annual brochure: HTML and PDF (WeasyPrint), in the six UN languages.

`content` queries what a region's brochure lists, `context` prepares it for one language,
`html` renders the template (`templates/brochure/`), `pdf` draws it (failing on a missing
glyph), `service` writes one file atomically, `runner` builds every region × language.

The names below are imported on first use, so that importing `scheduler.brochure.labels`
(the CLI's help) does not load WeasyPrint.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.brochure.pdf import MissingGlyphError
    from scheduler.brochure.runner import AllSummary, build_all
    from scheduler.brochure.service import BrochureResult, build_brochure

_WHERE = {
    "MissingGlyphError": "pdf",
    "AllSummary": "runner",
    "build_all": "runner",
    "BrochureResult": "service",
    "build_brochure": "service",
}

__all__ = ["AllSummary", "BrochureResult", "MissingGlyphError", "build_all", "build_brochure"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"scheduler.brochure.{_WHERE[name]}"), name)
    raise AttributeError(name)
