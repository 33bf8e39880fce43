"""Field parsers shared by every reader (courses, centres, participants, the web form).

Each parser takes the raw value as a reader found it (a CSV cell, a JSON value, an
iCalendar property) and returns the normalised value, or raises `FieldError` with a
reason fit for an operator: it quotes the bad value and says what was expected.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from urllib.parse import urlsplit

from channels.untrusted import strip_bidi

# Limits on imported text (DESIGN.md "Input formats"): longer is a bad row, checked at import
# so that nothing downstream (an email header, a post) meets a value it cannot carry.
TITLE_MAX = 300
DESCRIPTION_MAX = 10_000
NAME_MAX = 200  # names of people and centres, and course locations
URL_MAX = 2_000
DATE_MIN = date(1990, 1, 1)
DATE_MAX = date(2100, 12, 31)

REGIONS = ("Africa", "Americas", "Arab States", "Asia-Pacific", "CIS", "Europe")
MODES = ("online_instructor", "online_self_paced", "face_to_face", "blended")
FREQUENCIES = ("immediate", "weekly")

_REGION_BY_KEY = {r.casefold(): r for r in REGIONS}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Characters no import has a use for; NUL is also refused by PostgreSQL text columns.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)
_DOMAIN_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


class FieldError(ValueError):
    """One field's value is unacceptable; the message is the reason."""


@cache
def language_codes() -> frozenset[str]:
    """The ISO 639-1 codes, as CLDR (babel) knows them."""
    from babel import Locale

    codes = (k for k in Locale("en").languages if isinstance(k, str))
    return frozenset(k for k in codes if len(k) == 2 and k.isalpha())


@cache
def _timezones() -> dict[str, str]:
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def show(value: object) -> str:
    """The value as an error message quotes it: repr, shortened."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def text(value: object, *, required: bool = False, max_len: int | None = None,
         single_line: bool = True) -> str:
    """A string, trimmed; single-line fields have their whitespace runs collapsed."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(f"expected text, got {show(value)}")
    if _CONTROL.search(value):
        raise FieldError("contains a control character")
    value = strip_bidi(value)  # an override or isolate character only ever misleads
    value = " ".join(value.split()) if single_line else value.strip()
    if required and not value:
        raise FieldError("is empty")
    if max_len is not None and len(value) > max_len:
        raise FieldError(f"is {len(value)} characters long (at most {max_len})")
    return value


def split_list(value: object, *, separators: str = ";") -> list[str]:
    """A `;`-separated cell, or a list of strings, as trimmed non-empty items."""
    if value is None:
        return []
    if isinstance(value, str):
        items: Iterable[object] = re.split("[" + re.escape(separators) + "]", value)
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise FieldError(f"expected a list, got {show(value)}")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise FieldError(f"expected a list of strings, got the item {show(item)}")
        if _CONTROL.search(item):
            raise FieldError("contains a control character")
        item = " ".join(item.split())
        if item:
            out.append(item)
    return out


def topics(value: object, *, max_len: int = 200) -> tuple[str, ...]:
    """Topics keep their display spelling; duplicates (ignoring case) are dropped."""
    seen: set[str] = set()
    out: list[str] = []
    for item in split_list(value):
        if len(item) > max_len:
            raise FieldError(f"topic {show(item)} is longer than {max_len} characters")
        key = norm(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return tuple(out)


def norm(value: str) -> str:
    """The matching key of a topic, region or mode: trimmed, lower case."""
    return " ".join(value.split()).casefold()


def region(value: object) -> str:
    """One of the six ITU regions, in its canonical spelling."""
    raw = text(value, required=True)
    found = _REGION_BY_KEY.get(raw.casefold())
    if found is None:
        raise FieldError(f"{show(raw)} is not a region (one of {', '.join(REGIONS)})")
    return found


def mode(value: object) -> str:
    raw = text(value, required=True)
    key = raw.casefold()
    if key not in MODES:
        raise FieldError(f"{show(raw)} is not a mode (one of {', '.join(MODES)})")
    return key


def language(value: object) -> str:
    """An ISO 639-1 code, returned in lower case."""
    raw = text(value, required=True)
    code = raw.lower()
    if code not in language_codes():
        raise FieldError(f"{show(raw)} is not an ISO 639-1 language code (like en, fr, zh)")
    return code


def languages(value: object, *, required: bool) -> tuple[str, ...]:
    codes: list[str] = []
    for item in split_list(value, separators=";,"):
        code = language(item)
        if code not in codes:
            codes.append(code)
    if required and not codes:
        raise FieldError("is empty (at least one language code is needed)")
    return tuple(codes)


def iso_date(value: object, *, required: bool = True) -> date | None:
    """A `YYYY-MM-DD` date between DATE_MIN and DATE_MAX (a `date` object from iCalendar or
    a caller is checked the same way)."""
    if isinstance(value, datetime):
        return bounded_date(value.date())
    if isinstance(value, date):
        return bounded_date(value)
    raw = text(value, required=required)
    if not raw:
        return None
    if not _ISO_DATE.fullmatch(raw):
        raise FieldError(f"{show(raw)} is not a date (YYYY-MM-DD)")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise FieldError(f"{show(raw)} is not a date (YYYY-MM-DD)") from None
    return bounded_date(day)


def bounded_date(value: date) -> date:
    """`value`, when it lies between DATE_MIN and DATE_MAX (a date out there is a typo, and
    date arithmetic near year 9999 overflows)."""
    if not DATE_MIN <= value <= DATE_MAX:
        raise FieldError(f"{value.isoformat()} is out of range ({DATE_MIN.isoformat()} to "
                         f"{DATE_MAX.isoformat()})")
    return value


def fee(value: object) -> float | None:
    """A non-negative amount, or None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise FieldError(f"{show(value)} is not an amount")
    if isinstance(value, int | float):
        try:
            amount = float(value)
        except OverflowError:  # an integer with hundreds of digits
            raise FieldError("is too large") from None
    elif isinstance(value, str):
        raw = value.strip()
        if not re.fullmatch(r"\d+(\.\d+)?", raw):
            raise FieldError(f"{show(raw)} is not an amount (a number like 400 or 99.50)")
        if len(raw) > 40:
            raise FieldError("is too large")
        amount = float(raw)
    else:
        raise FieldError(f"{show(value)} is not an amount")
    if math.isinf(amount):
        raise FieldError("is too large")
    if not math.isfinite(amount) or amount < 0:
        raise FieldError(f"{show(value)} is not a non-negative amount")
    if amount >= 1e10:
        raise FieldError(f"{show(value)} is too large")
    return round(amount, 2)


def url(value: object) -> str:
    """An absolute http(s) URL of at most URL_MAX characters."""
    raw = text(value, required=True, max_len=URL_MAX)
    if any(c.isspace() for c in raw):
        raise FieldError(f"{show(raw)} contains spaces")
    try:
        parts = urlsplit(raw)
        host = parts.hostname
    except ValueError:
        raise FieldError(f"{show(raw)} is not a URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise FieldError(f"{show(raw)} is not an http(s) URL")
    return raw


def email(value: object) -> str:
    """An address, RFC 5321-ish, lower-cased whole; an IDN domain is stored as punycode."""
    raw = text(value, required=True)
    if _PLAIN_EMAIL.fullmatch(raw) and len(raw) <= 254 and len(raw.partition("@")[0]) <= 64:
        return raw.lower()  # the common case, without the IDNA codec
    if len(raw) > 254:
        raise FieldError("is longer than 254 characters")
    local, at, domain = raw.rpartition("@")
    if not at or not local or not domain:
        raise FieldError(f"{show(raw)} is not an email address")
    if len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        raise FieldError(f"{show(raw)} is not an email address (bad local part)")
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise FieldError(f"{show(raw)} is not an email address (bad domain)") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(lb) for lb in labels):
        raise FieldError(f"{show(raw)} is not an email address (bad domain)")
    if labels[-1].isdigit():
        raise FieldError(f"{show(raw)} is not an email address (bad domain)")
    return f"{local}@{ascii_domain}".lower()


def timezone(value: object, *, default: str = "UTC") -> str:
    """An IANA time zone name in its canonical spelling; empty gives `default`."""
    raw = text(value)
    if not raw:
        return default
    found = _timezones().get(raw.casefold())
    if found is None:
        raise FieldError(f"{show(raw)} is not an IANA time zone (like Europe/Paris)")
    return found


def choice(value: object, options: tuple[str, ...], *, default: str | None = None) -> str:
    raw = text(value)
    if not raw and default is not None:
        return default
    key = raw.casefold()
    if key not in options:
        raise FieldError(f"{show(raw)} is not one of {', '.join(options)}")
    return key
