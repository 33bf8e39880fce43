"""Reading the sign-up and preferences forms: exactly DESIGN.md's field names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from werkzeug.datastructures import MultiDict

from scheduler.ingest import fields as f
from scheduler.subscriptions import Profile
from scheduler.web.catalogue import Choices
from scheduler.web.pages import LANGUAGES

HONEYPOT = "website"
"""A field people never see nor fill; a form that arrives with it filled is a robot's."""


@dataclass
class Parsed:
    email: str = ""
    profile: Profile = field(default_factory=Profile)
    paused_until: date | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _picked(form: MultiDict[str, str], name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    by_key = {f.norm(v): v for v in allowed}
    return tuple(dict.fromkeys(by_key[f.norm(v)] for v in form.getlist(name)
                               if f.norm(v) in by_key))


def read_profile(form: MultiDict[str, str], choices: Choices, *, with_email: bool,
                 with_pause: bool = False) -> Parsed:
    """The form's values, kept to the offered choices; `errors` by field name."""
    out = Parsed()
    if with_email:
        try:
            out.email = f.email(form.get("email", ""))
        except f.FieldError:
            out.errors["email"] = "email"
    try:
        name = f.text(form.get("name", ""), max_len=200)
    except f.FieldError:
        out.errors["name"], name = "name", ""
    language = form.get("language", "en")
    if language not in LANGUAGES:
        out.errors["language"], language = "language", "en"
    frequency = form.get("frequency", "immediate")
    if frequency not in choices.frequencies:
        out.errors["frequency"], frequency = "frequency", "immediate"
    out.profile = Profile(
        name=name, language=language, frequency=frequency,
        topics=_picked(form, "topics", choices.topics),
        regions=_picked(form, "regions", choices.regions),
        languages=_picked(form, "languages", choices.languages),
        modes=_picked(form, "modes", choices.modes))
    if with_pause and form.get("paused_until", "").strip():
        try:
            out.paused_until = date.fromisoformat(form["paused_until"].strip())
        except ValueError:
            out.errors["paused_until"] = "paused_until"
    return out
