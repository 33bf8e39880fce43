"""Counting per network, fitting (never the URL, never a hashtag, never mid-word), hashtags."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from channels.text import (
    _CUT_STRIP,
    ELLIPSIS,
    RULES,
    TextRules,
    TextTooLong,
    escape_little_text,
    find_urls,
    fit_post,
    fit_text,
    fits,
    hashtag,
    hashtags,
    measure,
)

X, MASTODON, BLUESKY = RULES["x"], RULES["mastodon"], RULES["bluesky"]
URL = "https://academy.itu.int/training-courses/full-catalogue/spectrum-management-2027"
SHORT_URL = "https://itu.int/c"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        (URL, 23),
        (SHORT_URL, 23),  # t.co wraps short links too
        (f"see {URL}, then {SHORT_URL}.", 4 + 23 + 7 + 23 + 1),
        ("频谱管理", 8),  # CJK weighs 2
        ("スペクトル", 10),
        ("Ελληνικά кириллица עברית", 24),  # below U+10FF: weight 1
        ("—‘’“”", 5),  # U+2010-U+201F are light
        ("…€", 4),  # U+2026 and U+20AC are not
        ("👍", 2),
        ("👍🏽", 2),  # modifier: one emoji
        ("👨‍👩‍👧‍👦", 2),  # ZWJ sequence: one emoji
        ("🇫🇷", 2),
        ("❤️", 2),  # with variation selector
        ("#️⃣", 2),  # keycap
        ("cafe\u0301", 4),  # NFC: é is one character
        ("academy.itu.int", 23),  # X links bare domains
        ("see itu.int/academy/courses/very/long/path/indeed/yes", 4 + 49),  # longer than 23
    ],
)
def test_x_weighted_count(text: str, expected: int) -> None:
    assert measure(text, X) == expected


def test_mastodon_counts_graphemes_and_urls_as_reserved() -> None:
    assert measure(f"Café 👨‍👩‍👧 {URL}", MASTODON) == 7 + 23
    assert measure("academy.itu.int", MASTODON) == 15  # no scheme, no link
    rules = TextRules(500, url_weight=30, unit="graphemes")
    assert measure(SHORT_URL, rules) == 30


def test_bluesky_counts_graphemes_urls_literally_and_caps_bytes() -> None:
    assert measure(f"Café {SHORT_URL}", BLUESKY) == 5 + len(SHORT_URL)
    family = "👨‍👩‍👧‍👦"
    assert measure(family * 300, BLUESKY) == 300
    assert not fits(family * 300, BLUESKY)  # 7,500 bytes > 3,000
    assert fits("a" * 300, BLUESKY) and not fits("a" * 301, BLUESKY)


def test_telegram_counts_utf16_units() -> None:
    assert measure("😀a", RULES["telegram"]) == 3
    assert measure("R&D <b>", RULES["telegram"]) == 7


def test_linkedin_counts_the_escaped_text() -> None:
    assert escape_little_text("#ICT (AI)") == r"\#ICT \(AI\)"
    assert measure("#ICT (AI)", RULES["linkedin"]) == 12


def test_every_network_has_rules() -> None:
    assert set(RULES) == {"x", "mastodon", "bluesky", "linkedin", "telegram", "facebook", "webhook"}
    assert (RULES["facebook"].limit, RULES["telegram"].limit, RULES["linkedin"].limit) == (
        63206,
        4096,
        3000,
    )


def test_find_urls_trims_sentence_punctuation() -> None:
    text = "Read (https://en.wikipedia.org/wiki/Radio_(disambiguation)). And https://a.example/x!"
    assert [u for _, _, u in find_urls(text)] == [
        "https://en.wikipedia.org/wiki/Radio_(disambiguation)",
        "https://a.example/x",
    ]


@pytest.mark.parametrize(
    ("topic", "tag"),
    [
        ("Spectrum management", "#SpectrumManagement"),
        ("spectrum-management", "#SpectrumManagement"),
        ("5G networks", "#5GNetworks"),
        ("ICT & AI", "#ICTAI"),
        ("#AlreadyATag", "#AlreadyATag"),
        ("e-government", "#EGovernment"),
        ("Télécommunications rurales", "#TélécommunicationsRurales"),
        ("إدارة الطيف", "#إدارة_الطيف"),
        ("频谱 管理", "#频谱_管理"),
        ("2027", None),
        (" -- ", None),
    ],
)
def test_hashtag(topic: str, tag: str | None) -> None:
    assert hashtag(topic) == tag


def test_hashtags_dedupe_case_insensitively_in_order() -> None:
    topics = ["Cybersecurity", "spectrum management", "CYBERSECURITY", "Spectrum Management", ""]
    assert hashtags(topics) == ["#Cybersecurity", "#SpectrumManagement"]


def test_short_post_gets_hashtags_while_they_fit() -> None:
    rules = TextRules(60, url_weight=23, unit="weighted")
    fitted = fit_text(f"Short title\n\n{URL}", url=URL, rules=rules, hashtags=["ICT", "Spectrum"])
    # 11 + 2 + 23 = 36; "\n\n#ICT" = 6 → 42; " #Spectrum" = 10 → 52.
    assert fitted.text == f"Short title\n\n{URL}\n\n#ICT #Spectrum"
    assert (fitted.length, fitted.truncated, fitted.hashtags) == (52, False, ("#ICT", "#Spectrum"))
    tighter = fit_text(
        f"Short title\n\n{URL}", url=URL, rules=TextRules(50, 23, "weighted"), hashtags=["ICT"]
    )
    assert tighter.hashtags == ("#ICT",)
    skipped = fit_text(
        f"Short title\n\n{URL}",
        url=URL,
        rules=TextRules(45, 23, "weighted"),
        hashtags=["Spectrum", "ICT"],  # #Spectrum does not fit; #ICT still does
    )
    assert skipped.hashtags == ("#ICT",)


def test_hashtags_already_in_the_text_are_not_repeated() -> None:
    fitted = fit_text(f"Join #ICT week\n\n{URL}", url=URL, rules=X, hashtags=["ict", "Policy"])
    assert fitted.hashtags == ("#Policy",)


def test_long_prose_is_cut_at_a_word_with_an_ellipsis_and_the_url_whole() -> None:
    prose = "Regulators, engineers and policy makers learn spectrum management. " * 10
    fitted = fit_text(f"{prose}\n\n{URL}", url=URL, rules=X, hashtags=["ICT"])
    assert fitted.truncated and fitted.hashtags == ()
    head, tail = fitted.text.split("\n\n")
    assert tail == URL
    assert head.endswith(ELLIPSIS) and prose.startswith(head[:-1])
    assert prose[len(head) - 1] in " ,."  # the cut fell between words
    assert fitted.length <= 280
    assert measure(head + " management", X) + 2 + 23 > 280  # nothing longer would have fitted


def test_cut_drops_a_dangling_comma_and_ampersand() -> None:
    rules = TextRules(25, unit="chars")
    assert fit_text("Radio, TV & satellite services", url=None, rules=rules).text == (
        "Radio, TV & satellite…"
    )
    assert fit_text("Radio, TV & more words", url=None, rules=TextRules(12)).text == "Radio, TV…"


def test_cjk_prose_is_cut_between_characters() -> None:
    prose = "无线电频谱管理培训课程面向监管机构" * 20
    fitted = fit_text(f"{prose}\n\n{URL}", url=URL, rules=X)
    head = fitted.text.split("\n\n")[0]
    assert fitted.length <= 280 and head.endswith(ELLIPSIS)
    assert len(head) == (280 - 2 - 23 - 2) // 2 + 1  # 126 characters, then "…"


def test_an_emoji_sequence_is_never_split() -> None:
    fitted = fit_text("ab 👨‍👩‍👧‍👦 cd ef", url=None, rules=TextRules(10, unit="utf16"))
    assert fitted.text == "ab…"  # "ab 👨‍👩‍👧‍👦…" is 15 units; never half the family
    assert fit_text("👨‍👩‍👧‍👦👨‍👩‍👧‍👦 x", url=None, rules=TextRules(3, unit="graphemes")).text == (
        "👨‍👩‍👧‍👦👨‍👩‍👧‍👦…"
    )


def test_hashtags_and_urls_in_the_prose_are_never_cut_into() -> None:
    fitted = fit_text(
        "学习 #频谱管理培训课程 现在", url=None, rules=TextRules(12, unit="graphemes")
    )
    assert fitted.text == "学习…"
    fitted = fit_text("See https://itu.int/ now please", url=None, rules=TextRules(22))
    assert fitted.text == "See https://itu.int/…"


def test_too_long_even_at_the_minimum() -> None:
    with pytest.raises(TextTooLong) as caught:
        fit_text(f"Word another\n\n{URL}", url=URL, rules=TextRules(20, unit="chars"))
    assert caught.value.limit == 20
    with pytest.raises(TextTooLong):
        fit_text("Incomprehensibilities", url=None, rules=TextRules(10))


def test_a_url_missing_from_the_text_is_appended() -> None:
    assert fit_text("Title", url=SHORT_URL, rules=X).text == f"Title\n\n{SHORT_URL}"


def test_fit_post_shortens_the_body_before_the_title() -> None:
    fitted = fit_post(
        title="Spectrum management for regulators",
        body="A five-day course on national frequency planning and licensing. " * 8,
        url=URL,
        hashtags=["Spectrum management"],
        rules=X,
    )
    assert fitted.text.startswith("Spectrum management for regulators\n\nA five-day course")
    assert fitted.text.endswith(f"…\n\n{URL}") and fitted.truncated
    custom = fit_post(
        title="Title", body="Body", url=None, rules=X, template=lambda t, b: f"{t} — {b}"
    )
    assert custom.text == "Title — Body"


WORDS = st.sampled_from(
    [
        "Spectrum",
        "régulation",
        "频谱管理",
        "спектр",
        "إدارة",
        "ICT4D",
        "e\u0301cole",
        "👍🏽",
        "👨‍👩‍👧",
        "#Tag",
        "(draft)",
        "R&D",
        "x" * 40,
    ]
)
SEPARATORS = st.sampled_from([" ", " ", " ", ", ", "\n", " — ", ". "])
PROSE = st.lists(st.tuples(WORDS, SEPARATORS), max_size=120).map(
    lambda pairs: "".join(w + s for w, s in pairs).strip()
)
NETWORKS = st.sampled_from(["x", "mastodon", "bluesky", "telegram", "linkedin"])
LINKS = st.sampled_from([URL, SHORT_URL, "https://a.example/p?q=(1)&r=_x_#frag"])


def small(rules: TextRules) -> TextRules:
    # Shrink big limits so random prose overflows them often.
    return TextRules(
        min(rules.limit, 280),
        rules.url_weight,
        rules.unit,
        rules.max_bytes,
        rules.links_without_scheme,
        rules.escape,
    )


@settings(max_examples=200, deadline=None)
@given(prose=PROSE, network=NETWORKS, link=LINKS)
@example(prose="频谱管理" * 100, network="x", link=URL)
def test_fitted_text_fits_keeps_the_url_and_cuts_between_words(
    prose: str, network: str, link: str
) -> None:
    rules = small(RULES[network])
    text = f"{prose}\n\n{link}" if prose else link
    try:
        fitted = fit_text(text, url=link, rules=rules, hashtags=["Spectrum management"])
    except TextTooLong:
        first_word = prose.split()[0] if prose.split() else ""
        assert not fits(f"{first_word}{ELLIPSIS}\n\n{link}", rules)
        return
    assert fits(fitted.text, rules) and fitted.length == measure(fitted.text, rules)
    assert fitted.text.count(link) == 1 and link in fitted.text.split()
    if fitted.truncated:
        head = fitted.text[: fitted.text.rindex(link)].rstrip()
        assert head == "" or head.endswith(ELLIPSIS)
        stem = head[:-1]
        assert prose.startswith(stem)
        rest = prose[len(stem) :]
        cjk_boundary = "\u3000" <= stem[-1:] <= "\u9fff" or "\u3000" <= rest[:1] <= "\u9fff"
        assert rest == "" or rest[0] in _CUT_STRIP or cjk_boundary
    else:
        assert fitted.text.startswith(text)


@settings(max_examples=200, deadline=None)
@given(title=st.text(max_size=400), network=NETWORKS)
def test_any_title_fits_or_is_refused(title: str, network: str) -> None:
    rules = RULES[network]
    try:
        fitted = fit_post(title=title, url=URL, rules=rules, hashtags=[title])
    except TextTooLong:
        return
    assert fits(fitted.text, rules)
    assert URL in fitted.text


@given(topics=st.lists(st.text(max_size=30), max_size=10))
def test_hashtags_are_clean_and_unique(topics: list[str]) -> None:
    tags = hashtags(topics)
    assert len({t.casefold() for t in tags}) == len(tags)
    for tag in tags:
        assert tag.startswith("#") and len(tag) > 1
        assert all(c == "_" or unicodedata.category(c)[0] in "LNM" for c in tag[1:])
