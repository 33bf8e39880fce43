"""One text part of an email: its headers and its body, in 7bit or 8bit as it is, or
quoted-printable or base64, with CRLF line ends (`channels.email_message` joins them).

A `SegmentedText` body is encoded from its segments (`channels.email_segments`), the same
bytes as the whole text; anything else, or what the segments do not cover, as a whole.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from channels.email_segments import SegmentedText, wire_body

HARD_LIMIT = 998  # RFC 5322 section 2.1.1: characters per line, excluding CRLF
SOFT_LIMIT = 78
_ASCII = bytes(range(128))


def text_part(subtype: str, body: str, eight_bit: bool = False) -> tuple[bytes, bytes, bool]:
    """One text part: its headers and a blank line, its body, CRLF line ends; is it 8bit?

    Measured on the UTF-8 bytes, in C: a line's bytes bound its characters (at most four
    bytes each), so "every line within 998 bytes" is the 8-bit form's whole condition.
    """
    if isinstance(body, SegmentedText):
        wire = wire_body(body, SOFT_LIMIT, HARD_LIMIT, eight_bit)
        if wire is not None:
            return _part_head(subtype, wire[0]), wire[1], wire[0] == "8bit"
    text = _body(body)
    raw = text.encode("utf-8")
    ascii_text = len(raw) == len(text)
    # 7bit and 8bit data hold no NUL (RFC 2045 section 2.7). Looked for with `find`: `in`
    # on bytes first tries the operand as an int, and formats the error it drops.
    plain = raw.find(b"\x00") < 0
    encoded: bytes
    if plain and ascii_text and _longest(raw) <= SOFT_LIMIT:
        cte, encoded = "7bit", raw
    elif plain and eight_bit and _within_hard_limit(raw):
        cte, encoded = ("7bit" if ascii_text else "8bit"), raw
    # Mostly non-Latin text (Arabic, Chinese, Russian) is shorter in base64.
    elif len(raw.translate(None, _ASCII)) * 3 > len(raw):
        # Text is encoded in its canonical form, with CRLF line ends (RFC 2049); the
        # encoder's last line end goes (the one before the boundary is the boundary's).
        crlf = raw.replace(b"\n", b"\r\n")
        cte, encoded = "base64", base64.encodebytes(crlf)[:-1]
    else:
        cte, encoded = "quoted-printable", binascii.b2a_qp(raw, quotetabs=False, istext=True,
                                                          header=False)
    # A text's last line end stays in the part (it ends the text's last line); the line
    # end before a boundary belongs to the boundary.
    return _part_head(subtype, cte), encoded.replace(b"\n", b"\r\n"), cte == "8bit"


@lru_cache(maxsize=16)
def _part_head(subtype: str, cte: str) -> bytes:
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: {cte}\r\n\r\n".encode("ascii"))


def _longest(raw: bytes) -> int:
    return max(map(len, raw.split(b"\n")))


def _within_hard_limit(raw: bytes) -> bool:
    """No line of `raw` (which ends with a line end) is over 998 bytes.

    From the start of a line, the last line end within the next 999 bytes starts the next
    line to look from; when there is none, the line is too long. A search in C per ~999
    bytes, instead of cutting a 10 KiB body into its lines.
    """
    rfind, end, start = raw.rfind, len(raw), 0
    while start < end:
        found = rfind(b"\n", start, start + HARD_LIMIT + 1)
        if found < 0:
            return False
        start = found + 1
    return True


def _body(text: str) -> str:
    # One line-ending convention, and a final newline so the MIME boundary starts a line.
    # Looked for first: replacing "\r\n" scans a non-Latin-1 text slowly (20 µs for 8 KiB).
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"
