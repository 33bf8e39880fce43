"""Build the RFC 5322 message of an email `Message`: shared by the SMTP and file channels.

Untrusted text (subjects, names, header values from templates) is data: it can never add a
header or a recipient. Control characters and line breaks are replaced by spaces, and an
address that does not parse as exactly one plain `local@domain` is refused.

The bytes are 7-bit clean (RFC 2047 headers, quoted-printable or base64 bodies) with CRLF line
ends, so any SMTP server accepts them without 8BITMIME or SMTPUTF8. For a server that offers
8BITMIME (RFC 6152) the bodies may instead go as they are, UTF-8 (`eight_bit=True`): no
encoding to pay for and nothing for the reader to decode; headers stay 7-bit either way.
"""

from __future__ import annotations

import base64
import math
import os
import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.policy import default
from email.utils import format_datetime, formataddr
from functools import lru_cache

from channels.base import Message
from channels.email_parts import HARD_LIMIT as _HARD_LIMIT
from channels.email_parts import SOFT_LIMIT as _SOFT_LIMIT
from channels.email_parts import text_part
from channels.untrusted import strip_bidi


class InvalidEmail(ValueError):
    """The message cannot be built as it is (a bad address or header); no retry can fix it."""


# Headers the builder writes itself: a template may not add or replace them.
_RESERVED = frozenset(
    {
        "from", "sender", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id",
        "mime-version", "content-type", "content-transfer-encoding", "content-language",
        "return-path", "received", "resent-from", "resent-to", "resent-cc", "resent-bcc",
        "resent-sender", "resent-date", "resent-message-id",
    }
)  # fmt: skip
# RFC 5322 field name: printable US-ASCII except colon.
_FIELD_NAME = re.compile(r"[!-9;-~]+")
# Cc (controls, including CR, LF, TAB, NUL, DEL, C1 such as NEL) and Unicode line/paragraph
# separators: any of them could end a header line in some parser.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# A plain addr-spec: no quoting, comments, whitespace, commas, brackets or second @.
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
# Boundaries need to be unlikely in the text, not secret: no system call per message.
_random = random.Random()
# What `email.utils.formataddr` quotes a display name for.
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


def clean_header_text(text: str) -> str:
    """One line of header text: breaks and control characters become a space, bidi
    override and isolate characters go (channels.untrusted); trimmed."""
    if text.isascii() and text.isprintable():  # no control, break or bidi character
        return " ".join(text.split())
    return " ".join(_BREAKS.sub(" ", strip_bidi(text)).split())


def check_address(address: str) -> str:
    """The plain `local@domain` in `address`, domain in ASCII (IDNA); else InvalidEmail.

    Refuses anything that could carry a second recipient or a header: whitespace, control
    characters, commas, quotes, angle brackets, a second `@`.
    """
    local, at, domain = address.strip().rpartition("@")
    dots_ok = ".." not in local and not local.startswith(".") and not local.endswith(".")
    ascii_domain = _ascii_domain(domain) if at else None
    if ascii_domain is None or not _LOCAL.fullmatch(local) or not dots_ok:
        raise InvalidEmail(f"invalid email address {_shown(address)}")
    return f"{local}@{ascii_domain}"


@lru_cache(maxsize=1024)
def _ascii_domain(domain: str) -> str | None:
    """The domain in lower-case ASCII (IDNA), or None when it is not a valid host name.

    Cached: a mailing goes to a few thousand domains, each checked once.
    """
    try:
        # Python's codec implements IDNA 2003: enough for the domains people type.
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return ascii_domain


def parse_mailbox(text: str) -> Address:
    """`Name <local@domain>` or `local@domain` → Address; InvalidEmail when it is neither."""
    if _BREAKS.search(text) or text.count("@") != 1:
        raise InvalidEmail(f"invalid mailbox {_shown(text)}")
    header = default.header_factory("From", text)
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    if len(addresses) != 1 or header.defects:
        raise InvalidEmail(f"invalid mailbox {_shown(text)}")
    (mailbox,) = addresses
    return _address(clean_header_text(mailbox.display_name), check_address(mailbox.addr_spec))


def sender_domain(sender: str) -> str:
    """The domain of the sender mailbox (for Message-IDs)."""
    return parse_mailbox(sender).domain


@dataclass(frozen=True)
class ComposedEmail:
    """The wire form of one email and its Message-ID."""

    data: bytes
    message_id: str
    eight_bit: bool = False
    """A body is 8bit: send it only with BODY=8BITMIME, to a server that offers it."""
    recipient: str = ""
    """The checked recipient address (`check_address` of the message's `to`)."""


def compose_email(
    message: Message, sender: str, *, domain: str, now: datetime | None = None,
    eight_bit: bool = False, message_id: str | None = None,
) -> ComposedEmail:
    """The email of `message` (which must have `to`), from the mailbox `sender`, as bytes.

    text/plain, or multipart/alternative text + html; headers Message-ID (at `domain`), Date
    (`now`, else `message.date`, else the real clock), From, To, Subject, `message.headers`
    in order, Content-Language. CRLF line ends, 7-bit clean: RFC 2047 encoded words for non-ASCII
    header text; 7bit, quoted-printable or base64 bodies as the text needs, or with
    `eight_bit` 8bit UTF-8 bodies (quoted-printable only for a line over 998 bytes).
    `message_id` reuses an id (the same email composed again); default a new one. Raises
    InvalidEmail for a bad address or extra header.

    Written out directly rather than through `email.message.EmailMessage`, whose header
    parsing and folding cost several milliseconds a message; the tests hold the two to the
    same parsed result.
    """
    if message.to is None:
        raise InvalidEmail("an email needs a recipient (to)")
    address = check_address(message.to)
    recipient = _mailbox_text(clean_header_text(message.to_name or ""), address)
    extra = [(_check_field_name(name), clean_header_text(value)) for name, value in
             message.headers.items()]  # fmt: skip
    language = _language(message.language)
    message_id = message_id or _message_id(domain)
    head = [
        f"Message-ID: {message_id}",
        f"Date: {_date(now or message.date or datetime.now(UTC))}",
        _fold_header("From", _sender_text(sender)),
        _header("To", recipient),
        _subject_header(message.subject or ""),
        *[_header(name, value) for name, value in extra],
        f"Content-Language: {language}",
        "MIME-Version: 1.0",
    ]
    text_head, text, eight = text_part("plain", message.text, eight_bit)
    if message.html is None:
        chunks = ["\r\n".join(head).encode("ascii"), b"\r\n", text_head, text]
    else:
        html_head, html, html_eight = text_part("html", message.html, eight_bit)
        eight = eight or html_eight
        b = _boundary(text, html)
        head.append(f'Content-Type: multipart/alternative; boundary="{b}"')
        mark = f"\r\n--{b}".encode("ascii")
        # head, a blank line, and each part after its boundary line; the line end before
        # a boundary belongs to the boundary (RFC 2046).
        chunks = ["\r\n".join(head).encode("ascii"), b"\r\n", mark, b"\r\n", text_head,
                  text, mark, b"\r\n", html_head, html, mark, b"--\r\n"]
    # The headers are ASCII (encoded words); bytes are joined as they are.
    return ComposedEmail(b"".join(chunks), message_id, eight, address)


_pid = os.getpid()


def _new_pid() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_new_pid)


def _message_id(domain: str) -> str:
    """`email.utils.make_msgid(domain=domain)`'s form and randomness (time in hundredths of
    a second, the process id, 64 random bits from `random`, reseeded in a forked child),
    without its per-call lookups and system call."""
    return f"<{int(time.time() * 100)}.{_pid}.{random.getrandbits(64)}@{domain}>"


def envelope_sender(sender: str) -> str:
    """The MAIL FROM address of the sender mailbox."""
    return parse_mailbox(sender).addr_spec


@lru_cache(maxsize=16)
def _sender_text(sender: str) -> str:
    mailbox = parse_mailbox(sender)
    return _mailbox_text(mailbox.display_name, mailbox.addr_spec)


def _mailbox_text(name: str, addr_spec: str) -> str:
    """`Name <addr>`: the name quoted when it holds specials, encoded when not ASCII."""
    if not name:
        return addr_spec
    if not name.isascii():
        # One encoded word, even past RFC 2047's 75 characters: readers disagree on the
        # space between two encoded words of a display name (Python keeps it), and every
        # common client reads a long word. Names are cleaned and short; 998 still holds.
        encoded = base64.b64encode(name.encode("utf-8")).decode("ascii")
        return f"=?utf-8?b?{encoded}?= <{addr_spec}>"
    if _SPECIALS.search(name) is None:
        return f"{name} <{addr_spec}>"
    return formataddr((name, addr_spec))


@lru_cache(maxsize=1024)  # a course's subject is the same in every one of its emails
def _subject_header(subject: str) -> str:
    return _fold_header("Subject", clean_header_text(subject))


def _header(name: str, value: str) -> str:
    """`_fold_header(name, value)`; a value that fits on the name's line as it is (most
    per-recipient values) without the cache, where each would push out a shared one."""
    if (value and value.isascii() and len(name) + 2 + len(value) <= _SOFT_LIMIT
            and value[0] != " " and value[-1] != " " and "  " not in value):
        return f"{name}: {value}"
    if value and " " not in value and value.isascii():  # one word: on the name's line
        if len(name) + 2 + len(value) > _HARD_LIMIT:
            raise InvalidEmail(f"header {name}: a word is longer than {_HARD_LIMIT} characters")
        return f"{name}: {value}"
    return _fold_header(name, value)


def _encoded_words(text: str) -> str:
    """RFC 2047 `=?utf-8?b?…?=` words, each within the 75-character limit, space separated."""
    words = Header(text, "utf-8", maxlinelen=_SOFT_LIMIT).encode(linesep="\n")
    return " ".join(words.split())


@lru_cache(maxsize=4096)
def _fold_header(name: str, value: str) -> str:
    """One header field, folded at whitespace to lines of 78 where possible.

    Non-ASCII words become encoded words; an ASCII value is folded as is, so a long URL
    stays one readable token (on a line of its own, within the 998 limit).
    """
    if value and " " not in value and value.isascii():  # one word: on the name's line
        if len(name) + 2 + len(value) > _HARD_LIMIT:
            raise InvalidEmail(f"header {name}: a word is longer than {_HARD_LIMIT} characters")
        return f"{name}: {value}"
    if not value.isascii():
        value = _encode_non_ascii(value)
    lines = [f"{name}:"]
    for word in value.split(" "):
        if not word:
            continue
        if len(lines[-1]) + 1 + len(word) > _SOFT_LIMIT and lines[-1] != f"{name}:":
            lines.append("")
        lines[-1] += " " + word
    if any(len(line) > _HARD_LIMIT for line in lines):
        raise InvalidEmail(f"header {name}: a word is longer than {_HARD_LIMIT} characters")
    return "\r\n".join(lines)


def _encode_non_ascii(value: str) -> str:
    """Runs of words holding non-ASCII text become encoded words; ASCII words stay."""
    out: list[str] = []
    run: list[str] = []
    for word in value.split(" "):
        if word.isascii() and word:
            if run:
                out.append(_encoded_words(" ".join(run)))
                run = []
            out.append(word)
        elif word:
            run.append(word)
    if run:
        out.append(_encoded_words(" ".join(run)))
    return " ".join(out)


def _boundary(text: bytes, html: bytes) -> str:
    """A boundary that neither part's body holds (their headers cannot: constant, and a
    boundary line has no line end to span into one)."""
    while True:
        # 96 random bits as 24 hex digits (`to_bytes().hex()`: `:024x` on a long is slower)
        boundary = "=_herald_" + _random.getrandbits(96).to_bytes(12, "big").hex()
        mark = b"--" + boundary.encode("ascii")
        if text.find(mark) < 0 and html.find(mark) < 0:  # (`in` tries an int first)
            return boundary


@lru_cache(maxsize=4)
def _date_of_second(second: int) -> str:
    return format_datetime(datetime.fromtimestamp(second, UTC))


def _date(now: datetime) -> str:
    """The Date header's value for `now` (RFC 5322, in UTC): made once a second."""
    return _date_of_second(math.floor(now.timestamp()))


def _address(name: str, addr_spec: str) -> Address:
    try:
        return Address(display_name=name, addr_spec=addr_spec)
    except (ValueError, IndexError) as exc:
        raise InvalidEmail(f"invalid email address {_shown(addr_spec)}: {exc}") from None


@lru_cache(maxsize=256)  # the same few names in every email
def _check_field_name(name: str) -> str:
    if not _FIELD_NAME.fullmatch(name):
        raise InvalidEmail(f"invalid header name {_shown(name)}")
    if name.lower() in _RESERVED:
        raise InvalidEmail(f"header {name} is set by the channel, not by the message")
    return name


@lru_cache(maxsize=256)
def _language(language: str) -> str:
    # BCP 47 tags are letters, digits and hyphens; anything else would be untrusted text.
    tag = language.strip()
    if not re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", tag):
        raise InvalidEmail(f"invalid language tag {_shown(language)}")
    return tag


def _shown(text: str) -> str:
    """Untrusted text as it may appear in an error: repr, truncated."""
    return repr(text if len(text) <= 80 else text[:77] + "...")
