"""What the `/i/` and `/s/` pages share: the Herald app behind the request (set by the app
factory as `current_app.extensions["herald"]`), the signing keys, the page language and
labels (templates/web/admin/i18n), and the refusal page of a bad link."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from flask import current_app, render_template, request

from scheduler.rendering import default_templates_dir
from scheduler.rendering.labels import Labels

if TYPE_CHECKING:
    from scheduler.app import App

LANGUAGES = ("en", "ar", "es", "fr", "ru", "zh")
RTL = frozenset({"ar"})


def herald() -> App:
    app: App = current_app.extensions["herald"]
    return app


def signing_keys(app: App) -> list[bytes]:
    """The current key and the previous ones (`App.signing_keys` where it exists)."""
    keys = getattr(app, "signing_keys", None)
    return list(keys) if keys else [app.signing_key]


@cache
def _labels() -> tuple[Labels, Labels]:
    root = default_templates_dir()
    return Labels(root / "i18n"), Labels(root / "web" / "admin" / "i18n")


def labels(lang: str) -> dict[str, Any]:
    shared, own = _labels()
    return {**shared.get(lang), **own.get(lang)}


def page_language(own: str | None = None) -> str:
    """The recipient's language, else `?lang=`, else Accept-Language, else English."""
    for candidate in (own, request.args.get("lang")):
        if candidate and candidate.lower() in LANGUAGES:
            return candidate.lower()
    return request.accept_languages.best_match(LANGUAGES) or "en"


def render(template: str, lang: str, status: int = 200, **ctx: Any) -> tuple[str, int]:
    html = render_template(f"web/admin/{template}", lang=lang,
                           dir="rtl" if lang in RTL else "ltr", t=labels(lang), **ctx)
    return html, status


def refused(lang: str | None = None) -> tuple[str, int]:
    """The 400 page of a tampered, forged or wrong-purpose link: nothing changed."""
    return render("refused.html", lang or page_language(), 400)
