"""What every page needs: the Herald app behind the request, the page's language and
labels, rendering, the error page, and the rate-limit check."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from flask import current_app, render_template, request
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from scheduler.rendering import default_templates_dir
from scheduler.rendering.labels import Labels

if TYPE_CHECKING:
    from scheduler.app import App

LANGUAGES = ("en", "ar", "es", "fr", "ru", "zh")
"""The pages' six languages (the United Nations' official ones)."""
RTL = frozenset({"ar"})
AUTONYMS = {"ar": "العربية", "en": "English", "es": "Español", "fr": "Français",
            "ru": "Русский", "zh": "中文"}
"""Each language named in itself (the language menu reads the same on every page)."""
CLIENT_LIMIT = (10, 60.0)
"""Form posts per client per minute (sign-up, "email me my link"): never below 5."""
ADDRESS_LIMIT = (5, 3600.0)
"""Emails asked for one address per hour."""


_SQLITE_WRITES = threading.Lock()


@contextmanager
def transaction(app: App | None = None) -> Iterator[Session]:
    """A session in one transaction, committed at the end. On SQLite (one writer at a
    time) this process's request threads queue here rather than in SQLite's busy handler,
    which sleeps in steps of up to 100 ms. `app`: outside a request (a background thread)."""
    app = app or herald()
    lock = _SQLITE_WRITES if app.engine.dialect.name == "sqlite" else nullcontext()
    with lock, app.sessions() as session, session.begin():
        yield session


def herald() -> App:
    app: App = current_app.extensions["herald"]
    return app


def now() -> datetime:
    return herald().clock()


@cache
def _labels() -> tuple[Labels, Labels]:
    root = default_templates_dir()
    return Labels(root / "i18n"), Labels(root / "web" / "i18n")


def labels(lang: str) -> dict[str, Any]:
    """The pages' labels in `lang` over the labels every email shares (mode names...)."""
    shared, own = _labels()
    return {**shared.get(lang), **own.get(lang)}


def page_language(own: str | None = None) -> str:
    """The participant's language, else `?lang=`, else Accept-Language, else English."""
    for candidate in (own, request.args.get("lang"), request.form.get("lang")):
        if candidate and candidate.lower() in LANGUAGES:
            return candidate.lower()
    return request.accept_languages.best_match(LANGUAGES) or "en"


class FormValues:
    """A form's values as templates read them: from a posted form or a stored profile."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def get(self, name: str) -> str:
        value = self.values.get(name)
        return value if isinstance(value, str) else ""

    def list(self, name: str) -> list[str]:
        if isinstance(self.values, MultiDict):
            return list(self.values.getlist(name))
        value = self.values.get(name)
        return list(value) if isinstance(value, list | tuple) else []


class LanguageNames:
    """Language codes' names in the page's language (CLDR)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def get(self, code: str, default: str = "") -> str:
        from scheduler.web.catalogue import language_name

        return language_name(code, self.lang) or default


def render(template: str, lang: str, status: int = 200, **ctx: Any) -> tuple[str, int]:
    """`templates/web/{template}` in `lang`, with its labels and direction; `values` (a
    form's or a profile's) are given to the template as `v`."""
    t = labels(lang)
    v = FormValues(ctx.pop("values", {}))
    html = render_template(f"web/{template}", lang=lang, dir="rtl" if lang in RTL else "ltr",
                           t=t, languages=LANGUAGES, language_names=AUTONYMS, v=v,
                           language_of=LanguageNames(lang), **ctx)
    return html, status


def error_page(kind: str, status: int, lang: str | None = None) -> tuple[str, int]:
    """The page of a refused request (bad link, missing CSRF token, too many requests):
    it changes nothing."""
    return render("error.html", lang or page_language(), status, kind=kind)


def client_key() -> str:
    return request.remote_addr or "?"


def allowed(scope: str, address: str | None) -> bool:
    """Count one post from this client (and for this address): False when over a limit."""
    limiter = current_app.extensions["herald_limiter"]
    if not limiter.allow(f"{scope}:client:{client_key()}", *CLIENT_LIMIT):
        return False
    return address is None or limiter.allow(f"{scope}:address:{address.lower()}",
                                            *ADDRESS_LIMIT)
