from __future__ import annotations

import re
import shutil
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from babel.dates import format_date
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from scheduler.rendering import LANGUAGES, Renderer, RenderError
from scheduler.rendering.formatting import country_name, day_range, money, one_line, safe_href
from scheduler.rendering.samples import sample_context

EMAILS = ("email/announcement", "email/reminder", "email/digest")
POSTS = ("social/announce",)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture
def tmp_templates(tmp_path: Path) -> Path:
    """A private copy of the shipped templates, free to break."""
    target = tmp_path / "templates"
    shutil.copytree(Renderer().templates_dir, target)
    return target


def ctx_with_title(title: str, **course: Any) -> dict[str, Any]:
    ctx = sample_context()
    for c in [ctx["course"], *ctx["courses"]]:
        c["title"] = title
        c.update(course)
    return ctx


class _TagBalance(HTMLParser):
    VOID = {"meta", "br", "img", "hr", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()


# -- untrusted data stays data ------------------------------------------------------------


@pytest.mark.parametrize("template", EMAILS)
def test_script_in_title_is_escaped_in_html_and_literal_in_text(
    renderer: Renderer, template: str
) -> None:
    evil = "<script>alert(1)</script> & \"quotes\""
    email = renderer.render_email(template, "en", ctx_with_title(evil))
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;" in email.html
    assert evil in email.text
    if template != "email/digest":
        assert evil in email.subject


@pytest.mark.parametrize("title", ["{{ 7*7 }}", "{% raw %}x{% endraw %}", "{{ ''.__class__ }}"])
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_template_syntax_in_data_is_never_evaluated(
    renderer: Renderer, title: str, lang: str
) -> None:
    ctx = ctx_with_title(title)
    ctx["participant"]["name"] = title
    ctx["course"]["description"] = title
    email = renderer.render_email("email/announcement", lang, ctx)
    for part in (email.subject, email.text):
        assert title in part
    assert str(escape(title)) in email.html
    for part in (email.subject, email.text, email.html):
        assert "49" not in part
    post = renderer.render_post("social/announce", lang, ctx)
    assert title in post
    assert renderer.render_post("social/coe_post", lang, {"text": title}) == title


def test_subject_is_one_line_whatever_the_title(renderer: Renderer) -> None:
    title = "Cyber\r\nBcc: x@y\nSubject: free money\u2028\x0b  course"
    for lang in LANGUAGES:
        subject = renderer.render_email("email/announcement", lang, ctx_with_title(title)).subject
        assert "\r" not in subject and "\n" not in subject and "\u2028" not in subject
        assert "Cyber Bcc: x@y Subject: free money course" in subject
        assert subject == subject.strip() and "  " not in subject


def test_data_urls_cannot_become_script_links(renderer: Renderer) -> None:
    ctx = sample_context()
    ctx["links"]["course"] = "javascript:alert(1)"
    html = renderer.render_email("email/announcement", "en", ctx).html
    assert "javascript:" not in html
    assert 'href="#"' in html


def test_sandbox_refuses_python_internals(tmp_templates: Path) -> None:
    (tmp_templates / "social" / "announce" / "en.txt").write_text(
        "{{ course.title.__class__.__mro__[1].__subclasses__() }}"
    )
    with pytest.raises(RenderError, match=r"en\.txt"):
        Renderer(tmp_templates).render_post("social/announce", "en", sample_context())


def test_renderer_context_cannot_be_overridden_by_data(renderer: Renderer) -> None:
    ctx = sample_context()
    ctx.update(lang="fr", dir="rtl", t={"unsubscribe": "x"})
    email = renderer.render_email("email/announcement", "en", ctx)
    assert '<html lang="en" dir="ltr"' in email.html
    assert ">Unsubscribe</a>" in email.html


# -- languages ----------------------------------------------------------------------------


def test_every_shipped_template_has_all_six_languages(renderer: Renderer) -> None:
    for template in (*EMAILS, *POSTS, "social/coe_post"):
        assert renderer.languages_for(template) == sorted(LANGUAGES)


@pytest.mark.parametrize(
    ("wanted", "got"), [("de", "en"), ("fr", "fr"), ("fr-CA", "fr"), ("ZH_hans", "zh"), ("", "en")]
)
def test_resolve_language(renderer: Renderer, wanted: str, got: str) -> None:
    assert renderer.resolve_language("email/announcement", wanted) == got


def test_unknown_language_falls_back_to_english(renderer: Renderer) -> None:
    email = renderer.render_email("email/announcement", "de", sample_context())
    assert (email.language, email.direction) == ("en", "ltr")
    assert '<html lang="en" dir="ltr"' in email.html
    assert email.subject.startswith("New course:")


def test_partial_translation_is_not_used(tmp_templates: Path) -> None:
    (tmp_templates / "email" / "announcement" / "fr.html").unlink()
    r = Renderer(tmp_templates)
    assert "fr" not in r.languages_for("email/announcement")
    assert r.render_email("email/announcement", "fr", sample_context()).language == "en"


def test_added_or_removed_language_is_seen_within_a_second(
    tmp_templates: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scheduler.rendering.renderer as renderer_module

    clock = [1000.0]
    monkeypatch.setattr(renderer_module.time, "monotonic", lambda: clock[0])
    r = Renderer(tmp_templates)
    assert "fr" in r.languages_for("email/announcement")
    html = tmp_templates / "email" / "announcement" / "fr.html"
    kept = html.read_bytes()
    html.unlink()
    assert "fr" in r.languages_for("email/announcement")  # looked at once a second
    clock[0] += 1.5
    assert "fr" not in r.languages_for("email/announcement")
    assert r.render_email("email/announcement", "fr", sample_context()).language == "en"
    html.write_bytes(kept)
    clock[0] += 1.5
    assert r.render_email("email/announcement", "fr", sample_context()).language == "fr"


def test_arabic_is_right_to_left(renderer: Renderer) -> None:
    email = renderer.render_email("email/announcement", "ar", sample_context())
    assert (email.language, email.direction) == ("ar", "rtl")
    assert '<html lang="ar" dir="rtl"' in email.html
    assert 'text-align:right' in email.html and 'text-align:left' not in email.html


# -- every template in every language -----------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("template", EMAILS)
def test_every_email_renders_the_facts_and_links(
    renderer: Renderer, template: str, lang: str
) -> None:
    ctx = sample_context(3)
    email = renderer.render_email(template, lang, ctx)
    assert email.language == lang
    assert "\n" not in email.subject and email.subject
    courses = ctx["courses"] if template == "email/digest" else [ctx["course"]]
    urls = ctx["links"]["courses"] if template == "email/digest" else [ctx["links"]["course"]]
    for body in (email.text, email.html):
        assert ctx["links"]["unsubscribe"] in body
        assert ctx["links"]["preferences"] in body
        for course, url in zip(courses, urls, strict=True):
            assert url in body
            assert format_date(course["registration_deadline"], "long", locale=lang) in body
            assert course["title"] in body
            assert course["coe"] in body
    # a date ending in an abbreviation ("2027 г.") never ends a sentence: no ".."
    for body in (email.subject, email.text, email.html):
        assert not re.search(r"(?<!\.)\.\.(?!\.)", body)
    # the HTML is one well-formed document made for mail clients
    html = email.html
    parser = _TagBalance()
    parser.feed(html)
    assert parser.errors == [] and parser.stack == []
    assert "max-width:600px" in html and "<script" not in html and "<link" not in html
    assert f'href="{ctx["links"]["unsubscribe"]}"' in html
    assert "display:none" in html  # the preheader
    assert html.count(ctx["sender"]["name"]) >= 2
    assert "ITU Academy <academy@example.org>" in email.text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_post_renders_with_the_link_last(renderer: Renderer, lang: str) -> None:
    ctx = sample_context()
    ctx["links"]["course"] = ctx["course"]["url"]
    post = renderer.render_post("social/announce", lang, ctx)
    assert post.splitlines()[-1] == ctx["course"]["url"]
    assert ctx["course"]["title"] in post and ctx["course"]["coe"] in post
    assert format_date(ctx["course"]["registration_deadline"], "long", locale=lang) in post
    assert "#" not in post  # hashtags are the fitter's job


def test_facts_are_localised(renderer: Renderer) -> None:
    ctx = sample_context()
    fr = renderer.render_email("email/announcement", "fr", ctx).text
    assert "Langues\u00a0: anglais et français" in fr
    assert "Frais de participation\u00a0: 400\u00a0USD" in fr
    assert "Mixte (en ligne et en présentiel)" in fr
    assert "1–21 février 2027" in fr
    ctx["course"].update(fee_usd=0, mode="online_self_paced", location="Online", languages=["ar"])
    ar = renderer.render_email("email/announcement", "ar", ctx).text
    assert "مجاناً" in ar and "بالتعلّم الذاتي" in ar and "كينيا" in ar
    assert "لغة التدريب: العربية" in ar  # one language: the singular label
    assert "Online" not in ar  # an online course's "Online" location adds nothing


def test_unknown_fee_and_missing_description_leave_no_trace(renderer: Renderer) -> None:
    ctx = sample_context()
    ctx["course"].update(fee_usd=None, description=None)
    email = renderer.render_email("email/announcement", "en", ctx)
    assert "Fee" not in email.text and "None" not in email.text and "None" not in email.html


@pytest.mark.parametrize(("n", "words"), [(1, "1 новый курс"), (3, "3 новых курса"),
                                          (5, "5 новых курсов"), (21, "21 новый курс")])
def test_digest_subject_uses_cldr_plurals(renderer: Renderer, n: int, words: str) -> None:
    subject = renderer.render_email("email/digest", "ru", sample_context(n)).subject
    assert subject.startswith(words + " ")


def test_digest_without_period_start(renderer: Renderer) -> None:
    ctx = sample_context()
    ctx["period"] = None
    text = renderer.render_email("email/digest", "en", ctx).text
    assert "since" not in text


# -- check() ------------------------------------------------------------------------------


def test_check_passes_the_shipped_templates(renderer: Renderer) -> None:
    for template in (*EMAILS, *POSTS, "social/coe_post"):
        assert renderer.check(template) == []


def test_check_reports_a_syntax_error_with_file_and_line(tmp_templates: Path) -> None:
    path = tmp_templates / "email" / "reminder" / "es.txt"
    path.write_text(path.read_text() + "\n{% if course.title %}unclosed\n")
    problems = Renderer(tmp_templates).check("email/reminder")
    assert len(problems) == 1
    assert problems[0].startswith("templates/email/reminder/es.txt:")
    assert "endif" in problems[0] or "end of template" in problems[0]


def test_check_reports_a_syntax_error_in_the_layout(tmp_templates: Path) -> None:
    layout = tmp_templates / "email" / "_layout.html"
    layout.write_text(layout.read_text().replace("{% endblock %}</title>", "{% endblok %}</title>"))
    problems = Renderer(tmp_templates).check("email/digest")
    assert problems and all(p.startswith("templates/email/_layout.html:") for p in problems)


def test_check_reports_unknown_variables_and_missing_files(tmp_templates: Path) -> None:
    d = tmp_templates / "email" / "announcement"
    (d / "en.subject.txt").unlink()
    (d / "ru.html").unlink()
    (d / "fr.txt").write_text("{{ course.titel }}\n")
    problems = Renderer(tmp_templates).check("email/announcement")
    joined = "\n".join(problems)
    assert "templates/email/announcement/en.subject.txt: missing" in joined
    assert "templates/email/announcement/ru.html: missing" in joined
    assert "templates/email/announcement/fr.txt:1: " in joined and "titel" in joined


def test_check_reports_bad_names_and_missing_labels(tmp_templates: Path) -> None:
    r = Renderer(tmp_templates)
    assert r.check("../etc")[0].startswith("../etc: not a template name")
    assert r.check("email/nothing") == ["templates/email/nothing: no such template directory"]
    fr = tmp_templates / "i18n" / "fr.yaml"
    fr.write_text(fr.read_text().replace("unsubscribe: Se désabonner\n", ""))
    assert r.check("email/announcement") == [
        "templates/i18n/fr.yaml: unsubscribe: missing (the English label is used)"
    ]
    # the send itself still works, in English for that one label
    html = r.render_email("email/announcement", "fr", sample_context()).html
    assert ">Unsubscribe</a>" in html


def test_broken_labels_file_is_a_render_error(tmp_templates: Path) -> None:
    (tmp_templates / "i18n" / "es.yaml").write_text("modes: [unclosed\n")
    r = Renderer(tmp_templates)
    with pytest.raises(RenderError, match=r"templates/i18n/es.yaml:\d+"):
        r.render_email("email/announcement", "es", sample_context())
    assert any(p.startswith("templates/i18n/es.yaml") for p in r.check("email/announcement"))


def test_edited_template_is_picked_up_without_restart(tmp_templates: Path) -> None:
    r = Renderer(tmp_templates)
    path = tmp_templates / "social" / "coe_post" / "en.txt"
    assert r.render_post("social/coe_post", "en", {"text": "a"}) == "a"
    path.write_text("[{{ text }}]\n")
    import os

    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert r.render_post("social/coe_post", "en", {"text": "a"}) == "[a]"


# -- formatting ---------------------------------------------------------------------------


def test_formatting_helpers() -> None:
    assert day_range(date(2027, 2, 1), date(2027, 2, 26), "en") == "February 1\u2009–\u200926, 2027"
    assert day_range(date(2027, 2, 20), date(2027, 3, 6), "fr") == (
        "20 février\u2009–\u20096 mars 2027"
    )
    # Chinese months are numbers, as in its long dates; CLDR's joiner changed between releases
    # (`至` up to CLDR 46, a thin-spaced dash since), so only the two dates are pinned.
    chinese = day_range(date(2027, 12, 28), date(2028, 1, 3), "zh")
    assert chinese.startswith("2027年12月28日") and chinese.endswith("2028年1月3日"), chinese
    assert chinese[len("2027年12月28日"):-len("2028年1月3日")] in {"至", "\u2009–\u2009", " – "}
    assert day_range(date(2027, 5, 4), date(2027, 5, 4), "es") == "4 de mayo de 2027"
    assert money(1200, "en", "Free") == "USD\u00a01,200"
    assert money(99.5, "fr", "Gratuit") == "99,50\u00a0USD"
    assert money(0, "ru", "Бесплатно") == "Бесплатно"
    assert money(None, "en", "Free") == ""
    assert country_name("Kenya", "ru") == "Кения"
    assert country_name("Republic of Korea", "fr") == "Republic of Korea"  # UN name kept
    assert one_line(" a\r\nb\tc\x00d ") == "a b c d"
    assert safe_href("JavaScript:alert(1)") == "#"
    assert safe_href("mailto:a@example.org") == "mailto:a@example.org"


@settings(max_examples=300, deadline=None)
@given(prefix=st.sampled_from(["", " ", "\t", "HTTPS:", "https://", "Http:", "mailto:",
                               "javascript:", "JaVaScRiPt:", "data:", "http", "https//",
                               "//", "\x00", "ht\ttp:", "mailto"]),
       rest=st.text(max_size=40))
def test_safe_href_judges_the_scheme_as_urlsplit_does(prefix: str, rest: str) -> None:
    text = prefix + rest
    stripped = text.strip()
    try:
        scheme = urlsplit(stripped).scheme.lower()
    except ValueError:
        assume(False)  # below: what urlsplit cannot read
    assert safe_href(text) == (stripped if scheme in {"http", "https", "mailto"} else "#")


def test_safe_href_of_what_urlsplit_cannot_read() -> None:
    assert safe_href("https://[") == "https://["  # a safe scheme all the same
    assert safe_href("//[") == "#"
