"""The brochure as HTML: the shared sandboxed environment over `templates/brochure/`."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from jinja2 import pass_context
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from scheduler.brochure.content import BrochureContent
from scheduler.brochure.context import build_context
from scheduler.rendering.environment import build_environment
from scheduler.rendering.labels import Labels
from scheduler.rendering.renderer import default_templates_dir

TEMPLATE = "brochure/brochure.html"

_RTL = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc"
_LATIN = "0-9A-Za-z\u00c0-\u024f"
# A Latin run: from a Latin letter or digit to the last one before a right-to-left letter
# (`IMT-2020`, `5G`, `ITU-T X.509 (PKI)`). Isolated left-to-right inside right-to-left
# text, where the bidi algorithm alone would print `IMT-2020` as `2020-IMT`.
_LATIN_RUN = re.compile(rf"[{_LATIN}](?:[^{_RTL}]*[{_LATIN})\]])?")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
_STRONG = re.compile(rf"[{_RTL}]|[A-Za-z\u00c0-\u024f\u0370-\u052f\u3040-\u9fff]")


def first_strong_is_rtl(text: str) -> bool:
    m = _STRONG.search(text)
    return bool(m and re.match(rf"[{_RTL}]", m.group()))


def isolate_latin(text: str) -> Markup:
    """`text` escaped, each Latin run inside `<bdi dir="ltr">` (see `_LATIN_RUN`)."""
    out: list[str] = []
    last = 0
    for m in _LATIN_RUN.finditer(text):
        run = m.group()
        if not _LATIN_LETTER.search(run):
            continue
        out.append(escape(text[last : m.start()]))
        out.append(Markup('<bdi dir="ltr">%s</bdi>') % run)
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


@pass_context
def ltr_filter(ctx: Context, value: object) -> Markup:
    """`{{ course.title|ltr }}`: isolated in a `<bdi>` (its direction its own first strong
    letter's); inside right-to-left text, its Latin runs are fixed left-to-right."""
    text = str(value)
    rtl = ctx.get("dir") == "rtl" and first_strong_is_rtl(text)
    inner = isolate_latin(text) if rtl else escape(text)
    return Markup("<bdi>%s</bdi>") % inner


@lru_cache(maxsize=4)
def environment(templates_dir: Path) -> ImmutableSandboxedEnvironment:
    env = build_environment(templates_dir)
    env.filters["ltr"] = ltr_filter
    return env


@lru_cache(maxsize=4)
def shared_labels(templates_dir: Path) -> Labels:
    return Labels(templates_dir / "i18n")


def render_html(
    content: BrochureContent, lang: str, *, for_print: bool,
    templates_dir: Path | None = None,
) -> str:
    """The brochure in `lang`; `for_print` (the PDF's source) adds a QR code per course."""
    directory = templates_dir or default_templates_dir()
    context = build_context(content, lang, shared_labels(directory), for_print=for_print)
    return environment(directory).get_template(TEMPLATE).render(context)
