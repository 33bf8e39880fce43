"""Text bodies known as segments: encode what every email of a mailing shares only once.

An announcement's HTML is the same 10 KiB for every recipient of a course and language, but
for a name and three links. The renderer hands it over as a `SegmentedText`: a `str` like
any other, which also knows its shared segments and the per-message values between them.
For such a body the composer takes each shared segment's UTF-8, CRLF form and line
measures from a cache, and works out only the values: the same bytes and the same
Content-Transfer-Encoding as encoding the whole text, at a fraction of the cost. The fast
path covers the 7bit and 8bit forms; anything else (a CR or NUL, a line over the limit)
goes the whole-text way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class SegmentedText(str):
    """A text that is `"".join(segments)`, with `segments[0::2]` (`shared`) the same in
    every message of a mailing (cached by the composer) and `segments[1::2]` (`values`)
    this message's values."""

    shared: tuple[str, ...]
    values: Sequence[str]

    def __new__(cls, segments: Sequence[str]) -> SegmentedText:
        shared = tuple(segments[0::2])
        values = tuple(segments[1::2])
        return cls.of(shared if len(shared) > len(values) else (*shared, ""), values)

    @classmethod
    def of(cls, shared: tuple[str, ...], values: Sequence[str]) -> SegmentedText:
        """The text of `shared[0] values[0] shared[1] …` (one more shared than values);
        `shared` is best the same tuple object in every message (it keys the cache)."""
        segments: list[str] = [""] * (2 * len(shared) - 1)
        segments[0::2] = shared
        segments[1::2] = values
        text = super().__new__(cls, "".join(segments))
        text.shared, text.values = shared, values
        return text

    @property
    def segments(self) -> tuple[str, ...]:
        segments: list[str] = [""] * (2 * len(self.shared) - 1)
        segments[0::2] = self.shared
        segments[1::2] = self.values
        return tuple(segments)

    def __reduce__(self) -> tuple[Any, ...]:
        return SegmentedText, (self.segments,)


def with_tail(text: str, tail: str) -> str:
    """`text + tail`, keeping the segments of a `SegmentedText` (`tail` as a value)."""
    if isinstance(text, SegmentedText):
        return SegmentedText((*text.segments, tail, ""))
    return text + tail


Measures = tuple[bytes, int, bool, bool, bool, int, int, int]
"""One segment's wire form and what the encoding choice needs to know of it: (UTF-8 with
CRLF line ends, UTF-8 size with LF line ends (what line lengths count), is it ASCII, is it
clean (no NUL, no CR: nothing for line-end normalisation or the 8bit rules to change), does
it hold a line end, bytes before the first line end (the size without one), bytes after
the last, the longest line that starts and ends within it). A tuple: made per value."""


def measure(text: str) -> Measures:
    raw = text.encode("utf-8")
    size = len(raw)
    clean = "\x00" not in text and "\r" not in text
    first = raw.find(b"\n")
    if first < 0:
        return raw, size, size == len(text), clean, False, size, size, 0
    last = raw.rfind(b"\n")
    inner = max(map(len, raw[first + 1:last].split(b"\n"))) if last > first else 0
    return (raw.replace(b"\n", b"\r\n"), size, size == len(text), clean, True, first,
            size - last - 1, inner)


_SHARED_MAX = 2048  # like the renderer's shared renders: a few thousand courses × languages
_shared: dict[str, Measures] = {}


def shared_measures(text: str) -> Measures:
    """`measure` of a shared segment, cached (its hash is computed once, on the object the
    renderer keeps)."""
    found = _shared.get(text)
    if found is None:
        if len(_shared) >= _SHARED_MAX:
            _shared.clear()
        found = _shared[text] = measure(text)
    return found


@dataclass(frozen=True)
class _Layout:
    """What encoding needs of a tuple of shared segments, for values on one line each:
    their CRLF forms, whether all are ASCII, the longest line without a value, each line
    holding values as (its shared bytes, the values on it), and how the text ends."""

    crlf: tuple[bytes, ...]
    ascii: bool
    longest: int
    lines: tuple[tuple[int, tuple[int, ...]], ...]
    ends_with_break: bool


def _layout(shared: tuple[str, ...]) -> _Layout | None:
    """The layout of `shared`, or None when a segment is not clean (CR, NUL) or the last one
    is empty (how the text ends then depends on the values)."""
    if not shared[-1]:
        return None
    crlf: list[bytes] = []
    ascii_text, longest, line = True, 0, 0
    on_line: list[int] = []
    lines: list[tuple[int, tuple[int, ...]]] = []
    for index, segment in enumerate(shared):
        raw, size, is_ascii, clean, breaks, first, last, inner = shared_measures(segment)
        if not clean:
            return None
        crlf.append(raw)
        ascii_text = ascii_text and is_ascii
        if breaks:
            if on_line:
                lines.append((line + first, tuple(on_line)))
            else:
                longest = max(longest, line + first)
            longest = max(longest, inner)
            line, on_line = last, []
        else:
            line += size
        if index < len(shared) - 1:
            on_line.append(index)
    if on_line:
        lines.append((line, tuple(on_line)))
    else:
        longest = max(longest, line)
    ends = shared[-1].endswith("\n")
    return _Layout(tuple(crlf), ascii_text, longest, tuple(lines), ends)


_layouts: dict[tuple[str, ...], _Layout | None] = {}


def _laid_out(text: SegmentedText, soft_limit: int, hard_limit: int,
              eight_bit: bool) -> tuple[str, bytes] | bool:
    """`wire_body` from the cached layout of the shared segments, when every value is one
    clean line; False when the text needs another encoding, True when this does not apply
    (the segments are looked at one by one)."""
    shared = text.shared
    layout = _layouts.get(shared)
    if layout is None:
        if shared in _layouts or len(shared) < 2:
            return True
        if len(_layouts) >= _SHARED_MAX:
            _layouts.clear()
        layout = _layouts[shared] = _layout(shared)
        if layout is None:
            return True
    encoded: list[bytes] = []
    ascii_text = layout.ascii
    for value in text.values:
        # (`in` on a str: on bytes it first tries the operand as an int, at a cost)
        if "\n" in value or "\r" in value or "\x00" in value:
            return True
        raw = value.encode("utf-8")
        if ascii_text and len(raw) != len(value):
            ascii_text = False
        encoded.append(raw)
    longest = layout.longest
    for shared_bytes, on_line in layout.lines:
        for index in on_line:
            shared_bytes += len(encoded[index])
        if shared_bytes > longest:
            longest = shared_bytes
    if ascii_text and longest <= soft_limit:
        cte = "7bit"
    elif eight_bit and longest <= hard_limit:
        cte = "7bit" if ascii_text else "8bit"
    else:
        return False
    parts: list[bytes] = [b""] * (2 * len(layout.crlf) - 1)
    parts[0::2] = layout.crlf
    parts[1::2] = encoded
    if not layout.ends_with_break:
        parts.append(b"\r\n")
    return cte, b"".join(parts)


def wire_body(text: SegmentedText, soft_limit: int, hard_limit: int,
              eight_bit: bool) -> tuple[str, bytes] | None:
    """(Content-Transfer-Encoding, CRLF body) of `text` made to end with a line end, as
    encoding the whole text would give them when it is 7bit (ASCII, lines within
    `soft_limit`) or, with `eight_bit`, 7bit or 8bit (lines within `hard_limit`); None
    for every other case (CR, NUL, longer lines: quoted-printable or base64)."""
    laid_out = _laid_out(text, soft_limit, hard_limit, eight_bit)
    if laid_out is not True:
        return laid_out or None
    segments = text.segments
    parts: list[bytes] = []
    ascii_text, longest, open_line, ends_with_break = True, 0, 0, False
    for index, segment in enumerate(segments):
        if not segment:
            continue
        if index % 2:  # a value: mostly a name or a link, on one line
            # (`in` on a str: on bytes it first tries the operand as an int, at a cost)
            if "\n" not in segment and "\r" not in segment and "\x00" not in segment:
                raw = segment.encode("utf-8")
                ascii_text = ascii_text and len(raw) == len(segment)
                open_line += len(raw)
                ends_with_break = False
                parts.append(raw)
                continue
            m = measure(segment)
        else:
            m = shared_measures(segment)
        crlf, size, is_ascii, clean, breaks, first, last, inner = m
        if not clean:
            return None
        ascii_text = ascii_text and is_ascii
        if breaks:
            longest = max(longest, open_line + first, inner)
            open_line = last
        else:
            open_line += size
        ends_with_break = breaks and last == 0
        parts.append(crlf)
    longest = max(longest, open_line)
    if not ends_with_break:
        parts.append(b"\r\n")
    if ascii_text and longest <= soft_limit:
        return "7bit", b"".join(parts)
    if eight_bit and longest <= hard_limit:
        return ("7bit" if ascii_text else "8bit"), b"".join(parts)
    return None
