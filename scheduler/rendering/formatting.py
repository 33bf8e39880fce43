"""Locale-aware formatting of the facts in a message (Babel, CLDR data): pure functions.

Every function takes the message language (`lang`, an ISO 639 code Babel knows) and never
the process locale, so a message reads the same whichever machine renders it. Being pure,
the costly ones are memoised: a send of thousands of emails formats each course's dates and
fee once per language, not once per recipient.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_currency
from markupsafe import Markup

_MMM = re.compile(r"(?<!M)MMM(?!M)")
# Line and paragraph separators, and every other control character, end a header line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SAFE_HREF_SCHEMES = frozenset({"http", "https", "mailto"})


@lru_cache(maxsize=64)
def locale(lang: str) -> Locale:
    """The Babel locale of a language code; English for a code Babel does not know."""
    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def is_known_language(lang: str) -> bool:
    """Whether Babel has locale data for `lang`."""
    try:
        Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return False
    return True


@lru_cache(maxsize=256)
@lru_cache(maxsize=256)
def normalize_language(code: str) -> str:
    """`fr-CA`, `FR`, `zh_Hans` → `fr`, `fr`, `zh`: templates exist per primary language."""
    return re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]


@lru_cache(maxsize=256)
def direction(lang: str) -> str:
    """`rtl` for right-to-left scripts (Arabic), else `ltr`."""
    return "rtl" if locale(lang).character_order == "right-to-left" else "ltr"


def as_date(value: date | datetime | str) -> date:
    """A date from a date, a datetime (its own calendar day) or an ISO 8601 string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    raise TypeError(f"not a date: {value!r}")


@lru_cache(maxsize=4096)
def day(value: date | datetime | str, lang: str, format: str = "long") -> str:
    """`January 18, 2027` / `18 janvier 2027` / `2027年1月18日` (CLDR `long` by default)."""
    return format_date(as_date(value), format=format, locale=locale(lang))


@lru_cache(maxsize=4096)
def day_range(start: date | datetime | str, end: date | datetime | str, lang: str) -> str:
    """`February 1 – 26, 2027` / `1–26 février 2027`: a CLDR interval, month names in full."""
    a, b = as_date(start), as_date(end)
    if b <= a:
        return day(a, lang)
    loc = locale(lang)
    # CLDR has full-month interval patterns for few locales; the abbreviated ones, with the
    # month widened where the locale's `long` date spells it in full (`February`, not `12月`
    # widened to `十二月` in Chinese), read the same as the `long` dates elsewhere in a message.
    formats = loc.interval_formats.get("yMMMMd") or loc.interval_formats.get("yMMMd")
    field = "y" if a.year != b.year else "M" if a.month != b.month else "d"
    if not formats or field not in formats:
        return f"{day(a, lang)} – {day(b, lang)}"
    first, second = (str(p) for p in formats[field])
    if "MMMM" in loc.date_formats["long"].pattern:
        first, second = _MMM.sub("MMMM", first), _MMM.sub("MMMM", second)
    return format_date(a, first, locale=loc) + format_date(b, second, locale=loc)


@lru_cache(maxsize=4096)
def money(amount: float | int | None, lang: str, free: str) -> str:
    """`USD 1,200` / `1 200 USD`; `free` for zero; empty for an unknown fee.

    The ISO code rather than `$`: several currencies call themselves dollars.
    """
    if amount is None:
        return ""
    if amount == 0:
        return free
    loc = locale(lang)
    pattern = loc.currency_formats["standard"].pattern
    # CLDR's currency spacing, which Babel does not apply: a code never touches a digit.
    pattern = pattern.replace("¤", "¤¤")
    pattern = re.sub(r"¤¤(?=[#0])", "¤¤\u00a0", pattern)
    pattern = re.sub(r"(?<=[#0])¤¤", "\u00a0¤¤", pattern)
    if float(amount).is_integer():
        pattern = pattern.replace("0.00", "0")
    return format_currency(amount, "USD", format=pattern, locale=loc, currency_digits=False)


@lru_cache(maxsize=4096)
def language_name(code: str, lang: str) -> str:
    """The name of language `code` written in `lang`: `fr` in Spanish is `francés`."""
    names = locale(lang).languages
    key = normalize_language(code)
    return str(names.get(code) or names.get(key) or code)


# UN names whose CLDR short form is the same country under a neutral name. UN long forms
# (Republic of Korea, Russian Federation…) are left out on purpose: CLDR would turn them into
# the short names (South Korea) that UN texts avoid, so those stay as the data writes them.
_COUNTRY_ALIASES = {
    "czech republic": "CZ",
    "türkiye": "TR",
    "turkey": "TR",
    "united states of america": "US",
    "viet nam": "VN",
}


def _fold(name: str) -> str:
    return " ".join(name.replace("’", "'").casefold().split())


@lru_cache(maxsize=1)
def _country_codes() -> dict[str, str]:
    codes = {_fold(n): c for c, n in Locale.parse("en").territories.items() if c.isalpha()}
    return {**codes, **_COUNTRY_ALIASES}


@lru_cache(maxsize=4096)
def country_name(name: str, lang: str) -> str:
    """An English country name (`Kenya`) in `lang` (`Кения`); unknown names stay as given.

    English keeps the data's own spelling: the catalogue already writes it the UN way.
    """
    if locale(lang).language == "en":
        return name
    code = _country_codes().get(_fold(name))
    local = locale(lang).territories.get(code) if code else None
    return str(local) if local else name


def join_list(items: Iterable[object], lang: str) -> str:
    """`a, b, and c` / `a, b et c` / `a、b和c`."""
    return _join(tuple(str(i) for i in items if str(i)), lang)


@lru_cache(maxsize=4096)
def _join(parts: tuple[str, ...], lang: str) -> str:
    return format_list(list(parts), locale=locale(lang)) if parts else ""


def language_names(codes: Iterable[str], lang: str) -> str:
    """The instruction languages as one phrase: `English and French`."""
    return join_list((language_name(c, lang) for c in codes), lang)


def plural(count: int, lang: str, forms: Mapping[str, str]) -> str:
    """The CLDR plural form of `count` in `lang` (`one`, `few`, `many`, `other`…).

    Falls back to `other`, which every call must give.
    """
    form = locale(lang).plural_form(abs(count))
    return forms.get(form, forms["other"])


def place(course: Mapping[str, Any]) -> str:
    """Where a course happens, or empty when that adds nothing (an online course "Online")."""
    location = str(course.get("location") or "").strip()
    online = str(course.get("mode") or "").startswith("online")
    return "" if online and location.casefold() in {"online", "virtual", "remote"} else location


def one_line(text: str) -> str:
    """Line breaks and control characters to spaces, runs of whitespace to one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def safe_href(url: str) -> str:
    """`url` if it is http(s) or mailto, else `#`: data never becomes a `javascript:` link."""
    if (type(url) is str and url.startswith(("https:", "http:", "mailto:"))
            and not url[-1].isspace()):
        return url  # (the common case: what the lines below give for it)
    # Markup (from an autoescaped concatenation) holds escaped text: judge the real URL.
    text = (url.unescape() if isinstance(url, Markup) else str(url)).strip()
    if text[:8].lower().startswith(("https:", "http:", "mailto:")):
        return text  # what urlsplit would find, without parsing the whole URL
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:  # not a URL at all (an unclosed IPv6 bracket)
        return "#"
    return text if scheme in _SAFE_HREF_SCHEMES else "#"
