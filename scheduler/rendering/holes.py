"""Render once per course and language, fill in each recipient: holes in a rendered template.

An announcement to twenty thousand people is the same text twenty thousand times, except for
the recipient's name and their own links. The renderer renders it once with a `Hole` in
place of each per-recipient value and keeps the output; each message is then that output
with the holes filled in, which costs a hundredth of a render.

That is exact only when the template does nothing with a per-recipient value but print it
(or pass it through `href`) and test whether it is empty. So a `Hole` allows exactly that:
printing goes through the environment's `finalize` (which writes a marker, noting whether
the output is HTML-escaped there), `href` hands it on, `bool()` answers for the real value
(the cache key holds every hole's truthiness), and anything else (a filter, a comparison,
an attribute, `~`) raises `Uncacheable`, after which that template is always rendered in
full. Markers carry a random per-process nonce, so no course text can pose as one.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from markupsafe import escape

from channels.email_segments import SegmentedText

NONCE = secrets.token_hex(8)
_MARK = re.compile("\ue000" + NONCE + r":(\d+):([eh]*)\ue001")


class Uncacheable(Exception):
    """The template uses a per-recipient value other than by printing it."""


@dataclass(frozen=True)
class Piece:
    """Output text, then the hole to fill after it (None at the end)."""

    text: str
    hole: int | None
    escaped: bool = False  # the hole was printed where the template escapes HTML
    href: bool = False  # the hole went through the `href` filter


class Hole:
    """A per-recipient value not known when the shared output is rendered."""

    __slots__ = ("href", "index", "truthy")

    def __init__(self, index: int, truthy: bool, href: bool = False) -> None:
        self.index = index
        self.truthy = truthy
        self.href = href

    def marker(self, escaped: bool) -> str:
        flags = ("e" if escaped else "") + ("h" if self.href else "")
        return f"\ue000{NONCE}:{self.index}:{flags}\ue001"

    def through_href(self) -> Hole:
        return Hole(self.index, self.truthy, href=True)

    def __bool__(self) -> bool:
        return self.truthy

    def _refuse(self, *_: Any, **__: Any) -> NoReturn:
        raise Uncacheable("a per-recipient value is used other than by printing it")

    __str__ = __repr__ = __html__ = __len__ = __iter__ = __getitem__ = _refuse
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = _refuse
    __add__ = __radd__ = __mul__ = __mod__ = __contains__ = __format__ = _refuse
    __int__ = __float__ = __call__ = _refuse

    def __getattr__(self, name: str) -> NoReturn:
        self._refuse()


def split(output: str) -> list[Piece]:
    """The output with its markers as a list of pieces."""
    pieces: list[Piece] = []
    last = 0
    for m in _MARK.finditer(output):
        flags = m.group(2)
        pieces.append(Piece(output[last:m.start()], int(m.group(1)), "e" in flags, "h" in flags))
        last = m.end()
    pieces.append(Piece(output[last:], None))
    return pieces


def _escaped(value: str) -> str:
    """`str(escape(value))`: a plain str without a character to escape is itself."""
    if (type(value) is str and "&" not in value and "<" not in value and ">" not in value
            and '"' not in value and "'" not in value):
        return value
    return str(escape(value))


@dataclass(frozen=True)
class Filler:
    """One part's output: shared `texts` and, between each two, the slot of the message's
    printed values (`Plan.printed`) that fills that hole."""

    texts: tuple[str, ...]
    slots: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    """The parts of one shared output, each a `Filler` over one list of printed values:
    each (hole, escaped, through `href`) printed once a message, however often it occurs."""

    variants: tuple[tuple[int, bool, bool], ...]
    fillers: tuple[Filler, ...]

    @classmethod
    def of(cls, parts: Sequence[Sequence[Piece]]) -> Plan:
        variants: dict[tuple[int, bool, bool], int] = {}
        fillers = []
        for pieces in parts:
            slots = [variants.setdefault((p.hole, p.escaped, p.href), len(variants))
                     for p in pieces if p.hole is not None]
            fillers.append(Filler(tuple(p.text for p in pieces), tuple(slots)))
        return cls(tuple(variants), tuple(fillers))

    def printed(self, values: Sequence[str], href: Any) -> list[str]:
        """Each variant's value as the template printed it (through `href`, escaped)."""
        out = []
        for hole, escaped, through_href in self.variants:
            value = values[hole]
            if through_href:
                value = href(value)
            out.append(_escaped(value) if escaped else value)
        return out


def fill(filler: Filler, printed: Sequence[str]) -> str:
    """The part with each hole replaced by its printed value: a `SegmentedText`, whose
    shared segments the email composer encodes once."""
    return SegmentedText.of(filler.texts, [printed[s] for s in filler.slots])


def tidy_safe(filler: Filler, printed: Sequence[str]) -> bool:
    """Whether filling a part split from a tidied output (the renderer's `_tidy`, holes in)
    gives what tidying the filled output gives.

    True when every value printed is non-empty, has no line break and no space at either
    end (its line keeps its ends and its blank-or-not status, `.strip()` at the ends
    included), and is not `-` or `--` (its line cannot become the `-- ` signature line).
    """
    for s in filler.slots:
        value = printed[s]
        if (not value or value.strip() != value or "\n" in value or "\r" in value
                or value in ("-", "--")):
            return False
    return True


@dataclass(frozen=True)
class Shared:
    """A shared render: its parts to fill (subject, text, HTML, tidied text), the subject
    line when it has no hole, the language's direction."""

    plan: Plan
    subject_line: str | None
    direction: str


def with_values(shared: Mapping[str, Any], paths: Sequence[str],
                values: Sequence[Any]) -> dict[str, Any]:
    """`shared` with each dotted path set to its value (dicts along the path are copied)."""
    ctx = dict(shared)
    for path, value in zip(paths, values, strict=True):
        *parents, leaf = path.split(".")
        node = ctx
        for name in parents:
            child = dict(node.get(name) or {})
            node[name] = child
            node = child
        node[leaf] = value
    return ctx
