"""Untrusted text (course titles, descriptions, names) made harmless where it is shown.

- Bidi controls: the embedding, override and isolate characters (U+202A–U+202E,
  U+2066–U+2069) can make a Subject or a display name read differently from what it is
  (an "evil" file extension, a reversed address). They are removed.
- Mentions: `@user@instance` on Mastodon, `@handle` on X (which also reads the fullwidth
  `＠`) notify that account when posted. A WORD JOINER (U+2060, invisible) after an `@`
  that starts a word keeps the text as it reads and stops every network from taking it
  for a mention; an address such as `info@example.org` is left alone.
"""

from __future__ import annotations

import re
from typing import Any

BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_MENTION = re.compile(r"(?<![\w@\uff20\u2060])([@\uff20])(?=\w)")
WORD_JOINER = "\u2060"


def strip_bidi(text: str) -> str:
    """`text` without bidi embedding, override and isolate characters."""
    return BIDI_CONTROLS.sub("", text)


def neutralise_mentions(text: str) -> str:
    """`text` with every would-be mention (`@name`, `@name@instance`) made inert."""
    return _MENTION.sub(lambda m: m[1] + WORD_JOINER, text)


def inert(value: Any) -> Any:
    """A value for a post: strings (and lists of strings) with mentions and bidi controls
    made inert; anything else as it is."""
    if isinstance(value, str):
        return neutralise_mentions(strip_bidi(value))
    if isinstance(value, list):
        return [inert(v) for v in value]
    return value
