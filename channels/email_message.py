"""Build the RFC 5322 message of an email `Message`: shared by the SMTP and file channels.

Untrusted text (subjects, names, header values from templates) is data: it can never add a
header or a recipient. Control characters and line breaks are replaced by spaces, and an
address that does not parse as exactly one plain `local@domain` is refused.

The bytes are 7-bit clean (RFC 2047 headers, quoted-printable or base64 bodies) with CRLF line
ends, so any SMTP server accepts them without 8BITMIME or SMTPUTF8.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy, default
from email.utils import format_datetime, make_msgid
from typing import Any

from channels.base import Message


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
_HARD_LIMIT = 998  # RFC 5322 section 2.1.1: characters per line, excluding CRLF
_SOFT_LIMIT = 78


class _Policy(EmailPolicy):
    """`policy.SMTP`, except that extra ASCII header values are folded only at whitespace.

    The stock folder turns a token longer than a line (a `List-Unsubscribe` URL) into an RFC 2047
    encoded word, which mail clients then fail to read as a URL.
    """

    def fold(self, name: str, value: Any) -> str:
        text = _raw_fold(name, value, self.linesep)
        return text if text is not None else super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        text = _raw_fold(name, value, self.linesep)
        return text.encode("ascii") if text is not None else super().fold_binary(name, value)


def _raw_fold(name: str, value: Any, linesep: str) -> str | None:
    """Fold `name: value` at whitespace when it is an extra header with an ASCII value."""
    text = str(value)
    if name.lower() in _RESERVED or not text.isascii():
        return None
    words = text.split()
    lines = [f"{name}:"]
    for word in words:
        if len(lines[-1]) + 1 + len(word) > _SOFT_LIMIT and lines[-1] != f"{name}:":
            lines.append("")
        lines[-1] += " " + word
    if any(len(line) > _HARD_LIMIT for line in lines):
        raise InvalidEmail(f"header {name}: a word is longer than {_HARD_LIMIT} characters")
    return linesep.join(lines) + linesep


POLICY = _Policy(linesep="\r\n", cte_type="7bit")
"""The policy of every built message: CRLF, 7-bit clean, lines of 78 where possible."""


def clean_header_text(text: str) -> str:
    """One line of header text: breaks and control characters become a space; trimmed."""
    return " ".join(_BREAKS.sub(" ", text).split())


def check_address(address: str) -> str:
    """The plain `local@domain` in `address`, domain in ASCII (IDNA); else InvalidEmail.

    Refuses anything that could carry a second recipient or a header: whitespace, control
    characters, commas, quotes, angle brackets, a second `@`.
    """
    local, at, domain = address.strip().rpartition("@")
    dots_ok = ".." not in local and not local.startswith(".") and not local.endswith(".")
    if not at or not _LOCAL.fullmatch(local) or not dots_ok:
        raise InvalidEmail(f"invalid email address {_shown(address)}")
    try:
        # Python's codec implements IDNA 2003: enough for the domains people type.
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidEmail(f"invalid email address {_shown(address)}") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidEmail(f"invalid email address {_shown(address)}")
    return f"{local}@{ascii_domain}"


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


def build_email(
    message: Message, sender: str, *, domain: str, now: datetime | None = None
) -> EmailMessage:
    """The email of `message` (which must have `to`), from the mailbox `sender`.

    text/plain, or multipart/alternative text + html; headers Message-ID (at `domain`), Date
    (`now`, default the real clock), From, To, Subject, Content-Language, then
    `message.headers` in order. Raises InvalidEmail for a bad address or extra header.
    """
    if message.to is None:
        raise InvalidEmail("an email needs a recipient (to)")
    recipient = _address(clean_header_text(message.to_name or ""), check_address(message.to))
    extra = [(_check_field_name(name), clean_header_text(value)) for name, value in
             message.headers.items()]  # fmt: skip
    language = _language(message.language)

    email = EmailMessage(policy=POLICY)
    email["Message-ID"] = make_msgid(domain=domain)
    email["Date"] = format_datetime((now or datetime.now(UTC)).astimezone(UTC))
    email["From"] = parse_mailbox(sender)
    email["To"] = recipient
    email["Subject"] = clean_header_text(message.subject or "")
    for name, value in extra:
        email[name] = value
    email.set_content(_body(message.text), subtype="plain", charset="utf-8")
    if message.html is not None:
        email.add_alternative(_body(message.html), subtype="html", charset="utf-8")
        for part in email.iter_parts():
            # add_alternative copies MIME-Version into the part; it belongs at the top only.
            del part["MIME-Version"]
    # After the content: set_content and add_alternative move or drop Content-* headers.
    email["Content-Language"] = language
    return email


def email_bytes(email: EmailMessage) -> bytes:
    """The wire form: CRLF line ends, 7-bit clean."""
    return email.as_bytes(policy=POLICY)


def envelope_sender(sender: str) -> str:
    """The MAIL FROM address of the sender mailbox."""
    return parse_mailbox(sender).addr_spec


def _address(name: str, addr_spec: str) -> Address:
    try:
        return Address(display_name=name, addr_spec=addr_spec)
    except (ValueError, IndexError) as exc:
        raise InvalidEmail(f"invalid email address {_shown(addr_spec)}: {exc}") from None


def _check_field_name(name: str) -> str:
    if not _FIELD_NAME.fullmatch(name):
        raise InvalidEmail(f"invalid header name {_shown(name)}")
    if name.lower() in _RESERVED:
        raise InvalidEmail(f"header {name} is set by the channel, not by the message")
    return name


def _language(language: str) -> str:
    # BCP 47 tags are letters, digits and hyphens; anything else would be untrusted text.
    tag = language.strip()
    if not re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", tag):
        raise InvalidEmail(f"invalid language tag {_shown(language)}")
    return tag


def _body(text: str) -> str:
    # One line-ending convention, and a final newline so the MIME boundary starts a line.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"


def _shown(text: str) -> str:
    """Untrusted text as it may appear in an error: repr, truncated."""
    return repr(text if len(text) <= 80 else text[:77] + "...")
