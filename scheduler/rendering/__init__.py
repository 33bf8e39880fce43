"""Jinja2 rendering of emails and posts: sandboxed, one file per language, English fallback.

Public API: `Renderer` (`render_email`, `render_post`, `languages_for`, `resolve_language`,
`check`), `RenderedEmail`, `RenderError`, `LANGUAGES`.
"""

from __future__ import annotations

from scheduler.rendering.renderer import (
    EMAIL_PARTS,
    LANGUAGES,
    POST_PARTS,
    RenderedEmail,
    Renderer,
    RenderError,
    default_templates_dir,
    parts_for,
)

__all__ = [
    "EMAIL_PARTS",
    "LANGUAGES",
    "POST_PARTS",
    "RenderError",
    "RenderedEmail",
    "Renderer",
    "default_templates_dir",
    "parts_for",
]
