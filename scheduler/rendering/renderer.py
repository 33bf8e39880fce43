"""Renders emails and posts from per-language template files, falling back to English.

A template is a directory under `templates/` holding one file per language and part:

    email/announcement/{lang}.subject.txt   the subject, rendered then folded to one line
    email/announcement/{lang}.txt           the text/plain part
    email/announcement/{lang}.html          the text/html part (extends email/_layout.html)
    social/announce/{lang}.txt              a post (anything not under email/)

Every template sees the caller's context plus `lang`, `dir` (`ltr`/`rtl`), `align` (the
start side, `left`/`right`, for mail clients that ignore `dir`) and `t`, the shared labels
of `i18n/{lang}.yaml`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError

import scheduler
from scheduler.rendering import formatting
from scheduler.rendering.environment import build_environment
from scheduler.rendering.holes import (
    Hole,
    Plan,
    Shared,
    Uncacheable,
    fill,
    tidy_safe,
    with_values,
)
from scheduler.rendering.holes import split as holes_split
from scheduler.rendering.labels import FALLBACK, LabelError, Labels
from scheduler.rendering.samples import sample_context

LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh")
"""The six official languages of the UN, which every shipped template has."""

EMAIL_PARTS = ("subject.txt", "txt", "html")
POST_PARTS = ("txt",)

_NAME = re.compile(r"^[a-z0-9_-]+(?:/[a-z0-9_-]+)+$")
_FILE = re.compile(r"^([a-z]{2,3})\.(subject\.txt|txt|html)$")
_BLANK_RUNS = re.compile(r"\n{3,}")


class RenderError(Exception):
    """A template is missing, malformed, or failed on this context; says file and line."""


@dataclass(frozen=True)
class RenderedEmail:
    """A rendered email: one-line subject, text and HTML bodies, and their language."""

    subject: str
    text: str
    html: str
    language: str
    direction: str  # "rtl" for Arabic, else "ltr"


def default_templates_dir() -> Path:
    """`templates/` at the repository root, beside the `scheduler` package."""
    return Path(scheduler.__file__).resolve().parent.parent / "templates"


def parts_for(template: str) -> tuple[str, ...]:
    """The files each language of `template` needs: emails three, everything else one."""
    return EMAIL_PARTS if template.split("/", 1)[0] == "email" else POST_PARTS


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row: what conditionals leave behind."""
    # "-- " keeps its space: it is the signature delimiter mail clients recognise.
    lines = [
        line if line == "-- " else line.rstrip()
        for line in text.replace("\r\n", "\n").split("\n")
    ]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")


class Renderer:
    """Renders the templates under `templates_dir` (default: the repository's `templates/`)."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        self.templates_dir = (
            Path(templates_dir) if templates_dir else default_templates_dir()
        ).resolve()
        self.env = build_environment(self.templates_dir)
        self.labels = Labels(self.templates_dir / "i18n")
        # template → (files by language, the languages it is complete in)
        self._listing: dict[str, tuple[dict[str, set[str]], list[str]]] = {}
        self._shared: dict[Hashable, Shared] = {}
        self._resolved: dict[tuple[str, str], str] = {}  # (template, wanted) → language
        self._uncacheable: set[tuple[str, str]] = set()
        self._checked = float("-inf")
        self._stamp = 0

    # -- languages -----------------------------------------------------------------------

    def _files(self, template: str) -> dict[str, set[str]]:
        """Language → the parts present in the template's directory."""
        return self._listed(template)[0]

    def _listed(self, template: str) -> tuple[dict[str, set[str]], list[str]]:
        """The template's files by language, and the languages it is complete in.

        Listed once, and again after a file under the templates folder was added, removed
        or edited (`_check_generation`, at most once a second): an operator's edit is seen
        within a second, and a large send lists it once.
        """
        self._check_generation()
        cached = self._listing.get(template)
        if cached is not None:
            return cached
        if not _NAME.match(template):
            return {}, []
        directory = self.templates_dir / template
        found = self._list(directory) if directory.is_dir() else {}
        need = set(parts_for(template))
        complete = sorted(lang for lang, parts in found.items() if need <= parts)
        self._listing[template] = (found, complete)
        return found, complete

    @staticmethod
    def _list(directory: Path) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for path in directory.iterdir():
            m = _FILE.match(path.name)
            if m and path.is_file():
                found.setdefault(m.group(1), set()).add(m.group(2))
        return found

    def languages_for(self, template: str) -> list[str]:
        """The languages `template` is complete in (every part present), sorted."""
        return list(self._listed(template)[1])

    def resolve_language(self, template: str, wanted: str) -> str:
        """`wanted` (normalised: `fr-CA` → `fr`) if `template` has it, else `en`."""
        complete = self._listed(template)[1]  # (checks the generation: may clear _resolved)
        found = self._resolved.get((template, wanted))
        if found is None:
            lang = formatting.normalize_language(wanted or FALLBACK)
            found = lang if lang in complete else FALLBACK
            if len(self._resolved) >= _SHARED_MAX:
                self._resolved.clear()
            self._resolved[(template, wanted)] = found
        return found

    # -- rendering -----------------------------------------------------------------------

    def render_email(
        self, template: str, language: str, context: Mapping[str, Any]
    ) -> RenderedEmail:
        """The email `template` in `language` (or English) for `context`.

        `context` holds `course` (id, title, coe, country, region, topics, languages, mode,
        location, start_date, end_date, registration_deadline, fee_usd, url, description)
        or `courses` (a list of such), `participant` (name, email, language), `links`
        (unsubscribe, preferences, course, and `courses` aligned with `courses`), `sender`
        (name, email), `campaign` (name) and `period` (start, end, or None).
        Raises `RenderError`.
        """
        lang = self.resolve_language(template, language)
        ctx = self._context(lang, context)
        subject = formatting.one_line(self._render(f"{template}/{lang}.subject.txt", ctx))
        text = _tidy(self._render(f"{template}/{lang}.txt", ctx)) + "\n"
        html = self._render(f"{template}/{lang}.html", ctx)
        return RenderedEmail(subject, text, html, lang, ctx["dir"])

    def render_email_for(
        self, template: str, language: str,
        shared: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
        holes: Mapping[str, str], scope: Hashable,
    ) -> RenderedEmail:
        """`render_email` of `shared` + `holes`, rendered once per `scope` and language.

        `holes` maps dotted context paths (`participant.name`, `links.course`) to the
        recipient's values; `shared` holds the rest, the same for every message of `scope`
        (which must change whenever `shared` does: course id and content hash, campaign,
        sender). `shared` may be a function giving it, called only when a render is due.
        The output is exactly `render_email`'s (see `holes.py`); a template that does more
        with a recipient's value than print it is rendered in full every time.
        """
        paths = tuple(sorted(holes))
        return self.render_email_filled(template, language, shared, paths,
                                        [holes[p] for p in paths], scope)

    def render_email_filled(
        self, template: str, language: str,
        shared: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
        paths: tuple[str, ...], values: list[str], scope: Hashable,
    ) -> RenderedEmail:
        """`render_email_for` with the holes given as their sorted `paths` and `values` in
        that order (a caller that fills the same paths in every message sorts them once)."""
        lang = self.resolve_language(template, language)
        given = shared

        def full() -> Mapping[str, Any]:
            return given() if callable(given) else given

        if (template, lang) in self._uncacheable:
            return self.render_email(template, lang, with_values(full(), paths, values))
        # (resolve_language has checked the files: `_listed` does)
        key = (template, lang, scope, paths, tuple(map(bool, values)))
        entry = self._shared.get(key)
        if entry is None:
            marked = with_values(full(), paths, [Hole(i, bool(v)) for i, v in enumerate(values)])
            ctx = self._context(lang, marked)
            try:
                outputs = [self._render(f"{template}/{lang}.{part}", ctx) for part in EMAIL_PARTS]
                # The text part is also kept tidied with its holes in (and its last line
                # end): filled with values that cannot change what `_tidy` does
                # (`holes.tidy_safe`), it is final.
                pieces = [*(holes_split(o) for o in outputs),
                          holes_split(_tidy(outputs[1]) + "\n")]
                # A subject without holes is the same line in every message.
                subject_line = (formatting.one_line(outputs[0]) if len(pieces[0]) == 1
                                else None)
            except (Uncacheable, RenderError) as exc:
                if isinstance(exc, RenderError) and not isinstance(exc.__cause__, Uncacheable):
                    raise
                self._uncacheable.add((template, lang))
                return self.render_email(template, lang, with_values(full(), paths, values))
            if len(self._shared) >= _SHARED_MAX:
                self._shared.clear()
            entry = self._shared[key] = Shared(Plan.of(pieces), subject_line,
                                                formatting.direction(lang))
        plan = entry.plan
        printed = plan.printed(values, formatting.safe_href)
        subject_part, text_part, html_part, tidy_part = plan.fillers
        subject = (entry.subject_line if entry.subject_line is not None
                   else formatting.one_line(fill(subject_part, printed)))
        if tidy_safe(tidy_part, printed):
            text = fill(tidy_part, printed)
        else:
            text = _tidy(fill(text_part, printed)) + "\n"
        return RenderedEmail(subject, text, fill(html_part, printed), lang, entry.direction)

    def generation(self) -> int:
        """A number that changes whenever shared renders are forgotten (a template or label
        file edited, added or removed; checked at most once a second)."""
        self._check_generation()
        return self._stamp

    def _check_generation(self) -> None:
        """Forget shared renders and language listings when a template or label file was
        edited, added or removed (checked 1/s).

        The stamp covers every path and its mtime, so a change is seen even when it leaves
        the newest mtime as it was (a file removed, or one with an older mtime copied in).
        """
        now = time.monotonic()
        if now - self._checked < 1.0:
            return
        self._checked = now
        stamp = hash(frozenset((e.path, e.stat().st_mtime_ns)
                               for e in _walk(self.templates_dir)))
        if stamp != self._stamp:
            self._stamp = stamp
            self._shared.clear()
            self._uncacheable.clear()
            self._listing.clear()
            self._resolved.clear()

    def render_post(self, template: str, language: str, context: Mapping[str, Any]) -> str:
        """The post `template` in `language` (or English): plain text, link last.

        `context` holds `course`, `links.course`, `hashtags`, `campaign` (or `text` for
        `social/coe_post`). Raises `RenderError`.
        """
        lang = self.resolve_language(template, language)
        return _tidy(self._render(f"{template}/{lang}.txt", self._context(lang, context)))

    def _context(self, lang: str, context: Mapping[str, Any]) -> dict[str, Any]:
        try:
            labels = self.labels.get(lang)
        except LabelError as exc:
            raise RenderError(str(exc)) from exc
        # Ours last: the caller's data cannot pose as the language or the labels.
        direction = formatting.direction(lang)
        align = "right" if direction == "rtl" else "left"
        return {**context, "lang": lang, "dir": direction, "align": align, "t": labels}

    def _render(self, name: str, ctx: Mapping[str, Any]) -> str:
        try:
            return self.env.get_template(name).render(ctx)
        except TemplateError as exc:
            raise RenderError(self._describe(exc, name)) from exc
        except (TypeError, ValueError, LookupError) as exc:  # raised by a filter on bad data
            raise RenderError(self._describe(exc, name)) from exc

    # -- validation ----------------------------------------------------------------------

    def check(self, template: str) -> list[str]:
        """Every problem with `template`, one line each (for `herald channels validate`).

        Missing English files, languages missing a part, syntax errors, and templates that
        fail on a complete sample context (an unknown variable, a bad filter argument).
        """
        if not _NAME.match(template):
            return [f"{template}: not a template name (expected like email/announcement)"]
        shown = self._show(self.templates_dir / template)
        if not (self.templates_dir / template).is_dir():
            return [f"{shown}: no such template directory"]
        problems: list[str] = []
        files = self._files(template)
        parts = parts_for(template)
        for part in parts:
            if part not in files.get(FALLBACK, set()):
                problems.append(
                    f"{shown}/{FALLBACK}.{part}: missing (English is the fallback of every "
                    "language, so it must exist)"
                )
        for lang, have in sorted(files.items()):
            if lang != FALLBACK:
                problems += [
                    f"{shown}/{lang}.{part}: missing ({lang} is not used without it)"
                    for part in parts
                    if part not in have
                ]
            if not formatting.is_known_language(lang):
                problems.append(f"{shown}/{lang}.*: {lang!r} is not a language code")
        syntax_ok = True
        for lang, have in sorted(files.items()):
            for part in sorted(have & set(parts)):
                try:
                    self.env.get_template(f"{template}/{lang}.{part}")
                except TemplateError as exc:
                    syntax_ok = False
                    problems.append(self._describe(exc, f"{template}/{lang}.{part}"))
        if not syntax_ok:
            return problems
        for lang in self.languages_for(template):
            problems += self.labels.problems(lang)
            problems += self._check_render(template, lang)
        return list(dict.fromkeys(problems))

    def _check_render(self, template: str, lang: str) -> list[str]:
        try:
            if parts_for(template) == EMAIL_PARTS:
                self.render_email(template, lang, sample_context())
            else:
                self.render_post(template, lang, sample_context())
        except RenderError as exc:
            return [str(exc)]
        return []

    # -- error reporting -----------------------------------------------------------------

    def _show(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.templates_dir.parent))
        except ValueError:
            return str(path)

    def _describe(self, exc: BaseException, name: str) -> str:
        """`templates/email/x/fr.html:12: message`: the template line where it went wrong."""
        if isinstance(exc, TemplateNotFound):
            return f"{self._show(self.templates_dir / exc.name)}: missing" if exc.name else (
                f"{self._show(self.templates_dir / name)}: missing")
        where = self._show(self.templates_dir / name)
        if isinstance(exc, TemplateSyntaxError):
            if exc.name:
                where = self._show(self.templates_dir / exc.name)
            message = exc.message or str(exc)
            return f"{where}:{exc.lineno}: {message}"
        located = _template_frame(exc.__traceback__, self.templates_dir)
        if located is not None:
            where = f"{self._show(located[0])}:{located[1]}"
        return f"{where}: {_first_line(exc)}"


_SHARED_MAX = 2048


def _walk(root: Path) -> Iterator[os.DirEntry[str]]:
    """Every file under `root`, and the folders themselves (an added file changes those)."""
    with os.scandir(root) as entries:
        for entry in entries:
            yield entry
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path))


def _template_frame(tb: TracebackType | None, root: Path) -> tuple[Path, int] | None:
    """The innermost traceback frame inside a template file (Jinja maps them to lines)."""
    found: tuple[Path, int] | None = None
    base = str(root.resolve())
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(base):
            found = (Path(filename), tb.tb_lineno)
        tb = tb.tb_next
    return found


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
