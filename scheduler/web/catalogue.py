"""The sign-up and preferences forms' choices: the catalogue's topics and languages, the
six regions, the four modes, the two frequencies."""

from __future__ import annotations

import time
from dataclasses import dataclass
from threading import Lock

from babel import Locale
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.ingest.fields import FREQUENCIES, MODES, REGIONS
from scheduler.models import Course

UN_LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh")
REFRESH = 5.0  # seconds a read of the catalogue is reused by the forms' pages


@dataclass(frozen=True)
class Choices:
    topics: tuple[str, ...]
    regions: tuple[str, ...] = REGIONS
    languages: tuple[str, ...] = UN_LANGUAGES
    modes: tuple[str, ...] = MODES
    frequencies: tuple[str, ...] = FREQUENCIES


class Catalogue:
    """The choices, read from the open courses at most every few seconds."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._lock = Lock()
        self._at = -REFRESH
        self._choices = Choices(())

    def choices(self, *, fresh: bool = False) -> Choices:
        """The choices; `fresh` reads them now (a posted form is checked against the
        catalogue as it is, not as the page showed it)."""
        with self._lock:
            if fresh or time.monotonic() - self._at >= REFRESH:
                self._choices = self._read()
                self._at = time.monotonic()
            return self._choices

    def _read(self) -> Choices:
        topics: dict[str, str] = {}
        languages = set(UN_LANGUAGES)
        with self.sessions() as s:
            for course_topics, course_languages in s.execute(
                    select(Course.topics, Course.languages).where(Course.status == "open")):
                for topic in course_topics or ():
                    topics.setdefault(" ".join(topic.split()).casefold(), topic.strip())
                languages.update(code.lower() for code in course_languages or ())
        return Choices(tuple(sorted(topics.values(), key=str.casefold)),
                       languages=tuple(sorted(languages)))


def language_name(code: str, lang: str) -> str:
    """`code`'s name in `lang` (CLDR), else the code."""
    try:
        name = Locale.parse(lang).languages.get(code)
    except (ValueError, TypeError):
        name = None
    return str(name) if name else code
