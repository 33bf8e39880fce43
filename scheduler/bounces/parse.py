"""Reading one mail of the bounce mailbox: a DSN (RFC 3464), an ARF report (RFC 5965),
an auto-reply (ignored), or something we cannot use (unparsed).

The delivery is named by the VERP token of the address the mail came back to, found in
the report's own headers, an ARF `Original-Mail-From`, or the returned message's headers.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from typing import Literal

from scheduler.bounces import verp

Kind = Literal["bounce", "complaint", "ignored", "unparsed"]
_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_BARE = re.compile(r"\b([45])\d\d\b")
_VERP = re.compile(r"\+(\d{1,18}\.[a-z2-7]{" + str(verp.MAC_CHARS) + "})@",
                   re.IGNORECASE)


@dataclass(frozen=True)
class Notice:
    kind: Kind
    delivery_id: int | None = None
    category: str = ""
    """hard | soft | policy (a bounce), the feedback type (a complaint)."""
    status: str = ""
    recipient: str = ""
    detail: str = ""


def classify(status: str) -> str:
    """RFC 3463: 5.1.x and 5.4.4 hard; 4.x.x and 5.2.2 soft; 5.7.x policy; other 5s hard."""
    if status.startswith("4.") or status == "5.2.2":
        return "soft"
    if status.startswith("5.7."):
        return "policy"
    return "hard"


def parse(raw: bytes, keys: Sequence[bytes]) -> Notice:
    """What one mail says; `keys` verify the VERP token (current and previous keys)."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    if msg.get_content_type() == "multipart/report":
        report_type = str(msg.get_param("report-type") or "").lower()
        if report_type == "delivery-status":
            return _dsn(msg, raw, keys)
        if report_type == "feedback-report":
            return _arf(msg, raw, keys)
    if _is_auto_reply(msg):
        return Notice("ignored", detail="auto-reply")
    return Notice("unparsed", detail="neither a delivery status notification nor a feedback "
                                     "report")


def _is_auto_reply(msg: Message) -> bool:
    auto = (msg.get("Auto-Submitted") or "no").strip().lower()
    return (auto != "no" or msg.get("X-Autoreply") is not None
            or (msg.get("Precedence") or "").lower() in ("auto_reply", "bulk", "junk"))


def _delivery(raw: bytes, keys: Sequence[bytes]) -> int | None:
    for match in _VERP.finditer(raw.decode("utf-8", "replace")):
        found = verp.read(match.group(1), keys)
        if found is not None:
            return found
    return None


def _part(msg: Message, content_type: str) -> Message | None:
    return next((p for p in msg.walk() if p.get_content_type() == content_type), None)


def _dsn(msg: Message, raw: bytes, keys: Sequence[bytes]) -> Notice:
    part = _part(msg, "message/delivery-status")
    blocks = part.get_payload() if part is not None else None
    if not isinstance(blocks, list) or len(blocks) < 2:
        return Notice("unparsed", detail="delivery-status part missing or empty")
    for block in blocks[1:]:
        if not isinstance(block, Message):
            continue
        action = (block.get("Action") or "").strip().lower()
        if action != "failed":
            continue
        diagnostic = " ".join((block.get("Diagnostic-Code") or "").split())
        status = _status(block.get("Status") or "", diagnostic)
        recipient = (block.get("Final-Recipient") or "").partition(";")[2].strip()
        delivery_id = _delivery(raw, keys)
        if delivery_id is None:
            return Notice("unparsed", status=status, recipient=recipient,
                          detail="no valid VERP token")
        return Notice("bounce", delivery_id, classify(status), status, recipient,
                      f"{status} {diagnostic}".strip())
    return Notice("ignored", detail="no failed recipient (a delay warning or a relay notice)")


def _status(field: str, diagnostic: str) -> str:
    for text in (field, diagnostic):
        m = _ENHANCED.search(text)
        if m:
            return ".".join(m.groups())
    bare = _BARE.search(diagnostic)
    return f"{bare.group(1)}.0.0" if bare else "5.0.0"


def _arf(msg: Message, raw: bytes, keys: Sequence[bytes]) -> Notice:
    part = _part(msg, "message/feedback-report")
    if part is None:
        return Notice("unparsed", detail="feedback-report part missing")
    payload = part.get_payload()
    fields: Message
    if isinstance(payload, list) and isinstance(payload[0], Message):
        fields = payload[0]  # some parsers hand it over as one sub-message
    else:
        body = part.get_payload(decode=True) or b""
        fields = email.message_from_bytes(body if isinstance(body, bytes) else b"")
    feedback = (fields.get("Feedback-Type") or "").strip().lower()
    if not feedback:
        return Notice("unparsed", detail="feedback report without Feedback-Type")
    delivery_id = _delivery(raw, keys)
    if delivery_id is None:
        return Notice("unparsed", category=feedback, detail="no valid VERP token")
    return Notice("complaint", delivery_id, feedback,
                  recipient=(fields.get("Original-Rcpt-To") or "").strip(),
                  detail=f"feedback report: {feedback}")
