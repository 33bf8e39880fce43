"""Per-network post length counting and fitting.

Each network counts a post its own way: X weights characters and counts every link as 23,
Mastodon counts graphemes with links as 23, Bluesky counts graphemes and caps the UTF-8 size,
Telegram counts UTF-16 units. An adapter declares its `TextRules`; `measure` counts in those
units and `fit_post` / `fit_text` shorten the prose to fit, never the URL and never a hashtag,
and never mid-word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import grapheme

Unit = Literal["weighted", "graphemes", "chars", "utf16"]

ELLIPSIS = "…"

# twitter-text v3 configuration: code points in these ranges weigh 1, every other weighs 2.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

# An http(s) URL runs to the next space; trailing punctuation belongs to the sentence.
_URL = re.compile(r"https?://[^\s<>\"'\u00ab\u00bb\u201c\u201d]+", re.IGNORECASE)
# X also links `example.org/path` without a scheme; we count such tokens conservatively.
_BARE_DOMAIN = re.compile(
    r"(?<![\w@/.\-])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z]{2,}(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
_TRAILING_PUNCT = ".,;:!?'\"…»”’"
# Trimmed from the end of a cut so the ellipsis follows a word, not a dangling comma.
_CUT_STRIP = " \t\r\n,;:.!?&+-–—·|/([{«“‘\"'"

_LITTLE_TEXT_RESERVED = frozenset("\\|{}@[]()<>#*_~")


class TextTooLong(ValueError):
    """Even the shortest acceptable post (one word, an ellipsis and the URL) is too long."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"text too long: the shortest form measures {length}, limit {limit}")
        self.length = length
        self.limit = limit


@dataclass(frozen=True)
class TextRules:
    """How one network counts a post, and its limit in those units."""

    limit: int
    url_weight: int | None = None
    """Every http(s) URL counts this much; None: URLs count like any other text."""
    unit: Unit = "chars"
    max_bytes: int | None = None
    """A second cap on the UTF-8 size (Bluesky's lexicon maxLength)."""
    links_without_scheme: bool = False
    """The network also links bare `example.org/…` tokens (X): count them as at least a URL."""
    escape: Callable[[str], str] | None = None
    """The network counts the text after this escaping (LinkedIn's little text)."""


@dataclass(frozen=True)
class FittedPost:
    """A post text that fits its network, its length in the network's units."""

    text: str
    length: int
    truncated: bool
    hashtags: tuple[str, ...] = ()
    """The hashtags appended by the fitter."""


def escape_little_text(text: str) -> str:
    """Backslash-escape LinkedIn's little-text reserved characters (an unescaped one
    silently truncates the post)."""
    return "".join("\\" + c if c in _LITTLE_TEXT_RESERVED else c for c in text)


RULES: dict[str, TextRules] = {
    "x": TextRules(280, url_weight=23, unit="weighted", links_without_scheme=True),
    "mastodon": TextRules(500, url_weight=23, unit="graphemes"),
    "bluesky": TextRules(300, unit="graphemes", max_bytes=3000),
    # LinkedIn counts "characters" on a Java backend: UTF-16 units of the escaped text are
    # the safe upper bound.
    "linkedin": TextRules(3000, unit="utf16", escape=escape_little_text),
    # Telegram counts UTF-16 units after entity parsing: the plain text we escape and send.
    "telegram": TextRules(4096, unit="utf16"),
    "facebook": TextRules(63206, unit="chars"),
    # Slack truncates a message's text at 40,000 characters; generous for other receivers.
    "webhook": TextRules(40000, unit="chars"),
}


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """Every http(s) URL in `text` as (start, end, url), end exclusive, code point offsets."""
    found = []
    for match in _URL.finditer(text):
        url = _trim_url(match.group())
        if len(url) > len("https://"):
            found.append((match.start(), match.start() + len(url), url))
    return found


def _trim_url(url: str) -> str:
    while url:
        last = url[-1]
        unbalanced = (last == ")" and url.count("(") < url.count(")")) or (
            last == "]" and "[" not in url
        )
        if last not in _TRAILING_PUNCT and not unbalanced:
            break
        url = url[:-1]
    return url


def _links(text: str, rules: TextRules) -> list[tuple[int, int, bool]]:
    """Link spans as (start, end, has_scheme), in order."""
    spans = [(start, end, True) for start, end, _ in find_urls(text)]
    if rules.links_without_scheme:
        pos = 0
        bare: list[tuple[int, int, bool]] = []
        for start, end, _ in [*spans, (len(text), len(text), True)]:
            for match in _BARE_DOMAIN.finditer(text, pos, start):
                token = _trim_url(match.group())
                bare.append((match.start(), match.start() + len(token), False))
            pos = end
        spans = sorted(spans + bare)
    return spans


def _is_emoji(cluster: str) -> bool:
    for ch in cluster:
        cp = ord(ch)
        if (
            cp in (0xFE0F, 0x20E3, 0x200D)
            or 0x1F000 <= cp <= 0x1FAFF
            or 0x2300 <= cp <= 0x23FF
            or 0x2600 <= cp <= 0x27BF
            or 0x2B00 <= cp <= 0x2BFF
        ):
            return True
    return False


def _weight(ch: str) -> int:
    cp = ord(ch)
    return 1 if any(low <= cp <= high for low, high in _LIGHT_RANGES) else 2


def _count(text: str, unit: Unit) -> int:
    if not text:
        return 0
    if unit == "chars":
        return len(text)
    if unit == "utf16":
        return len(text.encode("utf-16-le")) // 2
    if unit == "graphemes":
        return int(grapheme.length(text))
    # Weighted (X): an emoji, with its modifiers and ZWJ sequence, counts 2 as a whole.
    if text.isascii():
        return len(text)
    return sum(
        2 if _is_emoji(cluster) else sum(_weight(ch) for ch in cluster)
        for cluster in grapheme.graphemes(text)
    )


def measure(text: str, rules: TextRules) -> int:
    """The length of `text` as the network counts it, in `rules.unit`."""
    if rules.unit == "weighted":
        text = unicodedata.normalize("NFC", text)
    if rules.escape is not None:
        text = rules.escape(text)
    if rules.url_weight is None:
        return _count(text, rules.unit)
    total, pos = 0, 0
    for start, end, has_scheme in _links(text, rules):
        total += _count(text[pos:start], rules.unit)
        literal = _count(text[start:end], rules.unit)
        total += rules.url_weight if has_scheme else max(literal, rules.url_weight)
        pos = end
    return total + _count(text[pos:], rules.unit)


def fits(text: str, rules: TextRules) -> bool:
    """True when `text` is within the limit (and the byte cap, where there is one)."""
    if rules.max_bytes is not None and len(text.encode("utf-8")) > rules.max_bytes:
        return False
    return measure(text, rules) <= rules.limit


def hashtag(topic: str) -> str | None:
    """`Spectrum management` → `#SpectrumManagement`; None when nothing usable remains.

    Non-alphanumerics separate words; scripts without case join their words with `_`.
    """
    words = [w for w in re.split(r"_+", _alnum_only(topic.removeprefix("#"))) if w]
    if not words:
        return None
    cased = all(w[0].upper() != w[0].lower() or w[0].isdigit() for w in words)
    tag = "".join(w[0].upper() + w[1:] for w in words) if cased else "_".join(words)
    return None if tag.isdigit() else "#" + tag


def _alnum_only(text: str) -> str:
    # Letters, digits and combining marks (Devanagari, Arabic vowels) stay; the rest separates.
    return "".join(c if unicodedata.category(c)[0] in "LNM" else "_" for c in text)


def hashtags(topics: Iterable[str]) -> list[str]:
    """Hashtags for `topics`, in order, without duplicates (case-insensitive)."""
    seen: set[str] = set()
    tags = []
    for topic in topics:
        tag = hashtag(topic)
        if tag is not None and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tags


def _protected(prose: str) -> list[tuple[int, int]]:
    """Spans never cut into: URLs and hashtags (a CJK hashtag has no inner spaces either)."""
    spans = [(start, end) for start, end, _ in find_urls(prose)]
    spans += [m.span() for m in re.finditer(r"#\w+", prose)]
    return spans


def _break_points(prose: str, protected: list[tuple[int, int]]) -> list[int]:
    """Offsets where `prose` may be cut: ends of words, and between CJK characters,
    which take no spaces. Never inside a grapheme, a URL or a hashtag."""
    inside = {p for start, end in protected for p in range(start + 1, end)}
    points = []
    pos = 0
    previous = ""
    for cluster in grapheme.graphemes(prose):
        in_word = bool(previous) and not previous.isspace() and pos not in inside
        if in_word and (cluster.isspace() or _wide(previous) or _wide(cluster)):
            points.append(pos)
        pos += len(cluster)
        previous = cluster
    if previous and not previous.isspace():
        points.append(pos)
    return points


def _wide(cluster: str) -> bool:
    return unicodedata.east_asian_width(cluster[0]) in ("W", "F") and not _is_emoji(cluster)


def fit_text(
    text: str,
    *,
    url: str | None,
    rules: TextRules,
    hashtags: Sequence[str] = (),
) -> FittedPost:
    """Fit a rendered post whose URL (if any) is on its last line.

    Everything from the URL to the end is kept whole (a URL missing from `text` is appended
    on its own line); the prose before it is cut at a word boundary and ends with "…".
    Then `hashtags` (topics or tags) are appended one by one while they fit, unless the
    prose had to be cut. Raises `TextTooLong` when not even one word and the URL fit.
    """
    text = text.strip()
    if url:
        at = text.rfind(url)
        if at < 0:
            head, sep, tail = text, "\n\n" if text else "", url
        else:
            head, tail = text[:at].rstrip(), text[at:]
            sep = text[len(head) : at]
    else:
        head, sep, tail = text, "", ""

    def compose(prose: str) -> str:
        return prose + sep + tail if prose else tail

    candidate = compose(head)
    truncated = not fits(candidate, rules)
    if truncated:
        # The cut prose ends in "…": keep only the line breaks of the separator.
        sep = "\n" * sep.count("\n") or (" " if sep else "")
        candidate = _shorten(head, compose, rules)
    added: list[str] = []
    if not truncated:
        present = {m.casefold() for m in re.findall(r"#\w+", candidate)}
        for tag in _tags(hashtags):
            if tag.casefold() in present:
                continue
            joined = candidate + (" " if added else "\n\n") + tag
            if fits(joined, rules):
                candidate = joined
                added.append(tag)
                present.add(tag.casefold())
    return FittedPost(candidate, measure(candidate, rules), truncated, tuple(added))


def _tags(items: Sequence[str]) -> list[str]:
    return hashtags(items)


def _shorten(head: str, compose: Callable[[str], str], rules: TextRules) -> str:
    """The longest `head` prefix ending at a break point, plus "…", that fits."""
    protected = _protected(head)
    points = _break_points(head, protected)

    def cut(point: int) -> str:
        prefix = head[:point].rstrip(_CUT_STRIP)
        for start, end in protected:
            if start < len(prefix) < end:  # the strip ate a URL's closing "/" or ")"
                prefix = head[:end]
        return compose(prefix + ELLIPSIS) if prefix else compose("")

    # Fitting is monotone in the cut point: binary-search the last one that fits.
    low, high, best = 0, len(points) - 1, None
    while low <= high:
        middle = (low + high) // 2
        candidate = cut(points[middle])
        if fits(candidate, rules) and head[: points[middle]].rstrip(_CUT_STRIP):
            best = candidate
            low = middle + 1
        else:
            high = middle - 1
    if best is None:
        shortest = cut(points[0]) if points else compose("")
        raise TextTooLong(measure(shortest, rules), rules.limit)
    return best


def default_template(title: str, body: str) -> str:
    """Title, then the body after a blank line when there is one."""
    title, body = title.strip(), body.strip()
    return f"{title}\n\n{body}" if body else title


def fit_post(
    *,
    title: str,
    body: str = "",
    url: str | None,
    hashtags: Sequence[str] = (),
    rules: TextRules,
    template: Callable[[str, str], str] | None = None,
) -> FittedPost:
    """Build a post from its parts (prose from `template(title, body)`, then the URL on its
    own line, then hashtags as room allows) and fit it; the body is shortened before the title.
    """
    prose = (template or default_template)(title, body).strip()
    text = f"{prose}\n\n{url}" if url and prose else (url or prose)
    return fit_text(text, url=url, rules=rules, hashtags=hashtags)
