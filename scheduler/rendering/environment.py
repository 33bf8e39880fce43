"""The Jinja2 environment: sandboxed, strict, escaping HTML, with the message-language filters.

Templates come only from the templates directory (trusted, operator-edited); course and
participant text reaches them only as context values, so it is printed, never evaluated.
The sandbox still guards against a template that reaches for Python internals, and the
immutable variant keeps a template from changing the data it is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    pass_eval_context,
    select_autoescape,
)
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from scheduler.rendering import formatting
from scheduler.rendering.holes import Hole


def _lang(ctx: Context) -> str:
    lang = ctx.get("lang")
    return lang if isinstance(lang, str) else "en"


def _labels(ctx: Context) -> dict[str, Any]:
    labels = ctx.get("t")
    return labels if isinstance(labels, dict) else {}


@pass_context
def date_filter(ctx: Context, value: date | datetime | str, format: str = "long") -> str:
    """`{{ course.registration_deadline|date }}`: a date in the message language."""
    return formatting.day(value, _lang(ctx), format)


@pass_context
def date_range_filter(
    ctx: Context, start: date | datetime | str, end: date | datetime | str
) -> str:
    """`{{ course.start_date|date_range(course.end_date) }}`."""
    return formatting.day_range(start, end, _lang(ctx))


@pass_context
def money_filter(ctx: Context, amount: float | int | None) -> str:
    """`{{ course.fee_usd|money }}`: `USD 400`, the language's word for free, or empty."""
    return formatting.money(amount, _lang(ctx), str(_labels(ctx).get("free", "free")))


@pass_context
def language_name_filter(ctx: Context, code: str) -> str:
    """`{{ "fr"|language_name }}`: `French` in English, `français` in French."""
    return formatting.language_name(code, _lang(ctx))


@pass_context
def languages_filter(ctx: Context, codes: Iterable[str]) -> str:
    """`{{ course.languages|languages }}`: `English and French`."""
    return formatting.language_names(codes, _lang(ctx))


@pass_context
def mode_label_filter(ctx: Context, mode: str) -> str:
    """`{{ course.mode|mode_label }}`: the mode's label from `i18n/{lang}.yaml`."""
    modes = _labels(ctx).get("modes") or {}
    label = modes.get(mode) if isinstance(modes, dict) else None
    return str(label) if label else str(mode).replace("_", " ")


@pass_context
def country_filter(ctx: Context, name: str) -> str:
    """`{{ course.country|country }}`: the country's name in the message language."""
    return formatting.country_name(name, _lang(ctx))


@pass_context
def and_list_filter(ctx: Context, items: Iterable[object]) -> str:
    """`{{ names|and_list }}`: `a, b and c` the way the language says it."""
    return formatting.join_list(items, _lang(ctx))


@pass_context
def plural_filter(ctx: Context, count: int, **forms: str) -> str:
    """`{{ n|plural(one="course", other="courses") }}`, by the language's CLDR plural rules."""
    if "other" not in forms:
        raise ValueError("plural() needs an `other` form")
    return formatting.plural(int(count), _lang(ctx), forms)


@pass_eval_context
def _finalize(eval_ctx: EvalContext, value: Any) -> Any:
    """What `{{ … }}` prints: nothing for None; a marker for a per-recipient hole."""
    if value is None:  # an absent optional value (no description), not "None"
        return ""
    if isinstance(value, Hole):
        return value.marker(escaped=bool(eval_ctx.autoescape))
    return value


def href_filter(url: Any) -> Any:
    """`{{ links.course|href }}`: the URL if http(s) or mailto, else `#`."""
    return url.through_href() if isinstance(url, Hole) else formatting.safe_href(url)


def build_environment(templates_dir: Path) -> ImmutableSandboxedEnvironment:
    """The environment over `templates_dir`; templates re-read when their files change."""
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(templates_dir), encoding="utf-8"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml"), default_for_string=False, default=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=True,
        finalize=_finalize,
    )
    env.filters.update(
        {
            "date": date_filter,
            "date_range": date_range_filter,
            "money": money_filter,
            "language_name": language_name_filter,
            "languages": languages_filter,
            "mode_label": mode_label_filter,
            "country": country_filter,
            "and_list": and_list_filter,
            "plural": plural_filter,
            "place": formatting.place,
            "one_line": formatting.one_line,
            "href": href_filter,
        }
    )
    return env
