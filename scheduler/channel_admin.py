"""Operator actions on channels: validating the configuration, sending one test message
(a real template, rendered for a real or sample course)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from channels.base import Channel, DeliveryResult, DeliveryStatus, Message
from scheduler.errors import InputError
from scheduler.models import ChannelHealth, Course

if TYPE_CHECKING:
    from scheduler.app import App


def template_problems(app: App, *, enabled_only: bool = False) -> list[str]:
    """Every problem with the campaigns' templates, as `FILE:LINE: campaigns.X.template: ...`."""
    from scheduler.config.yamldoc import Problems, display_path, load_yaml
    from scheduler.rendering import Renderer

    cfg = app.config  # raises ConfigError with every problem
    renderer = Renderer()
    path = cfg.config_dir / "campaigns.yaml"
    doc = load_yaml(path, display_path(path), Problems(), required=False)
    checked: dict[str, list[str]] = {}
    errors: list[str] = []
    for c in cfg.campaigns.values():
        if enabled_only and not c.enabled:
            continue
        if c.template not in checked:
            checked[c.template] = renderer.check(c.template)
        line = doc.line_of(("campaigns", c.name, "template"))
        where = f"{doc.display}:{line}" if line is not None else doc.display
        errors += [f"{where}: campaigns.{c.name}.template: {e}" for e in checked[c.template]]
    return errors


def check_templates(app: App) -> None:
    """InputError (exit 2, nothing sent) when an enabled campaign's template is broken."""
    errors = template_problems(app, enabled_only=True)
    if errors:
        raise InputError(errors)


def validate(app: App) -> str:
    """A one-line summary of a valid configuration; InputError listing every problem."""
    from scheduler.config.public_url import base_url_problems

    cfg = app.config  # raises ConfigError with every problem
    errors = template_problems(app) + base_url_problems(cfg)
    if errors:
        raise InputError(errors)
    return (f"ok: {len(cfg.channels)} channels, {len(cfg.campaigns)} campaigns, "
            f"{len(cfg.sources)} sources")


def is_social(app: App, name: str, kind: str) -> bool:
    """A channel posts to a social network: its kind is `post`, or it is a file sink standing
    in for one (`network:`) or serving a course-post campaign."""
    if kind != "any":
        return kind == "post"
    if app.config.channels[name].raw.get("network"):
        return True
    return any(name in c.channels and c.kind == "course_post"
               for c in app.config.campaigns.values())


@dataclass
class TestSend:
    """A test message built for a channel, and the channel to send it through."""

    channel: Channel
    message: Message


def _template(app: App, name: str, social: bool) -> str:
    """The template a campaign on this channel uses for a course (or the shipped one)."""
    kinds = ("course_post",) if social else ("course_email",)
    for c in app.config.campaigns.values():
        if name in c.channels and c.kind in kinds:
            return c.template
    return "social/announce" if social else "email/announcement"


def _course(app: App) -> dict[str, Any]:
    """The next open course of the catalogue as templates see it, or a sample one (no
    catalogue yet): a test shows what a real message looks like."""
    from scheduler.db import sqlite_file
    from scheduler.message_parts import course_context
    from scheduler.rendering.samples import sample_course

    file = sqlite_file(app.db_url)
    if file is None or file.exists():
        today = app.clock().date()
        with app.sessions() as s:
            course = s.scalars(select(Course).where(Course.status == "open",
                                                    Course.start_date >= today)
                               .order_by(Course.start_date, Course.id).limit(1)).first()
        if course is not None:
            return course_context(course)
    return sample_course()


def build_test(app: App, name: str, to: str | None) -> TestSend:
    """The test message for channel `name`: the announcement of a real (or sample) course in
    the channel's language, as an email to `to` or as a post."""
    from channels.text import TextTooLong, fit_text, hashtags
    from scheduler.posts import rules_for
    from scheduler.rendering import Renderer
    from scheduler.rendering.samples import sample_context

    cfg = app.config
    if name not in cfg.channels:
        raise InputError([f"channels test: no channel named '{name}' "
                          f"(known: {', '.join(cfg.channels)})"])
    channel = cfg.channels[name].build()
    social = is_social(app, name, channel.kind)
    if not social and not to:
        channel.close()
        raise InputError([f"channels test: '{name}' sends email: give the recipient with"
                          " --to ADDRESS"])
    now = app.clock()
    key = f"test:{name}:{now.strftime('%Y%m%dT%H%M%S')}"
    course = _course(app)
    language = channel.options.language
    renderer = Renderer()
    template = _template(app, name, social)
    ctx = {**sample_context(1), "course": course, "courses": [course],
           "hashtags": hashtags(course["topics"]), "campaign": {"name": "test"},
           "sender": cfg.settings.sender.model_dump(),
           "links": {**sample_context(1)["links"], "course": course["url"]}}
    if social:
        text = renderer.render_post(template, language, ctx)
        rules = rules_for(channel)
        if rules is not None:
            try:
                text = fit_text(text, url=course["url"], hashtags=ctx["hashtags"],
                                rules=rules).text
            except TextTooLong as exc:
                raise InputError([f"channels test: the post does not fit '{name}': {exc}"]
                                 ) from exc
        msg = Message(key=key, text=text, language=language, link=course["url"],
                      title=course["title"], meta={"test": True})
    else:
        ctx["participant"] = {"name": "", "email": to, "language": language}
        email = renderer.render_email(template, language, ctx)
        msg = Message(key=key, to=to, subject=f"[test] {email.subject}", text=email.text,
                      html=email.html, language=email.language, link=course["url"],
                      meta={"test": True}, date=now)
    return TestSend(channel, msg)


def send_test(app: App, test: TestSend) -> DeliveryResult:
    """Send the test message; a success clears the channel's `needs attention` flag."""
    try:
        result = test.channel.send(test.message)
    finally:
        test.channel.close()
    if result.status is DeliveryStatus.SENT:
        with app.sessions() as s, s.begin():
            h = s.get(ChannelHealth, test.channel.name)
            # A working test lifts refused credentials, not a pause for complaints.
            if h is not None and not h.reason.startswith("paused:"):
                h.needs_attention = False
                h.reason = ""
    if result.error:
        result = DeliveryResult(result.status, result.provider_id, result.retry_after,
                                app.config.redact(result.error))
    return result
