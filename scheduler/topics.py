"""One topic vocabulary: the catalogue's topics, plus `config/topics.yaml`'s synonyms.

`config/topics.yaml` (optional) maps a topic to the other ways people write it::

    topics:
      cybersecurity: [cyber security, cyber-security, information security]
      spectrum management: [spectrum]

A participant's topic that is a synonym is stored as its topic, so `Cyber Security` matches
courses on `cybersecurity`. A topic that is neither a course's topic nor a listed one is
reported: a warning, or an error with `--strict`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.config.yamldoc import Problems, display_path, load_yaml
from scheduler.errors import InputError
from scheduler.matching import normalise
from scheduler.models import CourseTerm
from scheduler.participants import ParticipantRecord

FILE = "topics.yaml"


@dataclass(frozen=True)
class Vocabulary:
    """The topics known (matching keys) and the synonyms that stand for them."""

    known: frozenset[str] = frozenset()
    synonyms: dict[str, str] = field(default_factory=dict)

    def resolve(self, topic: str) -> str | None:
        """The known topic `topic` stands for, or None when it is unknown."""
        key = normalise(topic)
        if key in self.known:
            return key
        return self.synonyms.get(key)

    def __bool__(self) -> bool:
        return bool(self.known)


def read_synonyms(config_dir: Path) -> dict[str, str]:
    """`config/topics.yaml` as {synonym: topic} (matching keys); InputError naming the line."""
    problems = Problems()
    doc = load_yaml(config_dir / FILE, display_path(config_dir / FILE), problems,
                    required=False)
    data = doc.data
    synonyms: dict[str, str] = {}
    if data is not None:
        section = data.get("topics") if isinstance(data, dict) else None
        if not isinstance(section, dict):
            problems.add(doc, (), "expected a mapping under 'topics' (topic: [synonyms])")
            section = {}
        for topic, others in section.items():
            if not isinstance(others, list) or not all(isinstance(o, str) for o in others):
                problems.add(doc, ("topics", topic), "expected a list of synonyms")
                continue
            for other in others:
                synonyms[normalise(other)] = normalise(str(topic))
    if problems:
        raise InputError(problems.lines())
    return synonyms


def vocabulary(session: Session, config_dir: Path) -> Vocabulary:
    """The catalogue's topics and the configured ones with their synonyms."""
    synonyms = read_synonyms(config_dir)
    known = set(session.scalars(select(CourseTerm.value).where(CourseTerm.kind == "topic")
                                .distinct()))
    return Vocabulary(frozenset(known | set(synonyms.values())), synonyms)


def resolve_topics(records: Sequence[ParticipantRecord], vocab: Vocabulary, name: str
                   ) -> tuple[list[ParticipantRecord], list[str]]:
    """`records` with synonyms replaced by their topic, and one line per unknown topic.

    With an empty vocabulary (no course yet, no topics.yaml) nothing is reported.
    """
    if not vocab:
        return list(records), []
    unknown: dict[str, list[str]] = {}
    out: list[ParticipantRecord] = []
    for record in records:
        topics: list[str] = []
        for topic in record.topics:
            known = vocab.resolve(topic)
            if known is None:
                unknown.setdefault(topic, []).append(record.email)
                known = normalise(topic)
            if known not in topics:
                topics.append(known)
        out.append(dataclasses.replace(record, topics=tuple(topics))
                   if tuple(topics) != record.topics else record)
    lines = [f"{name}: topics: '{topic}' is no course's topic and no synonym in "
             f"config/{FILE} ({len(who)} participant(s), e.g. {who[0]})"
             for topic, who in sorted(unknown.items())]
    return out, lines
