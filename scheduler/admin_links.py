"""Signed links in the emails to contacts and centre focal points.

Same token format and keys as `scheduler.links`, with purposes of their own, so neither a
participant's token nor another purpose's can be replayed here:
- `ki` (`/i/{token}`): a contact's "we are interested" in one course, naming the campaign
  and delivery the email was;
- `s` (`/s/{token}`): a centre's submission form, naming its focal point's address;
- `u` / `p` with `rk` (recipient kind `contact` or `centre`) and `id`: the `/u/` and `/p/`
  links of these recipients (a participant's reader refuses them: they carry no `p`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scheduler.links import PREFERENCES, UNSUBSCRIBE, BadToken, sign, verify

CONTACT_INTEREST = "ki"
SUBMISSION = "s"


@dataclass(frozen=True)
class InterestLink:
    contact_id: int
    email: str
    course_id: str
    campaign: str
    delivery_id: int | None


@dataclass(frozen=True)
class SubmissionLink:
    centre_id: int
    email: str
    campaign: str
    delivery_id: int | None


@dataclass(frozen=True)
class AdminRecipientLink:
    kind: str  # contact | centre
    id: int
    email: str
    campaign: str | None


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadToken("malformed payload")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise BadToken("malformed payload")
    return value


def interest_token(key: bytes, contact_id: int, email: str, course_id: str, campaign: str,
                   delivery_id: int | None) -> str:
    return sign({"t": CONTACT_INTEREST, "k": contact_id, "e": email, "co": course_id,
                 "c": campaign, "d": delivery_id}, key)


def interest_url(base_url: str, token: str, participants: int | None = None) -> str:
    """`/i/{token}`, pre-filled with `participants` when given (the email's buttons)."""
    url = f"{_base(base_url)}/i/{token}"
    return url if participants is None else f"{url}?participants={participants}"


def read_interest_token(token: str, key: bytes | Sequence[bytes]) -> InterestLink:
    """What a `/i/` token says, else `BadToken`."""
    p = verify(token, key, purpose=CONTACT_INTEREST)
    d = p.get("d")
    return InterestLink(_int(p.get("k")), _str(p.get("e")), _str(p.get("co")),
                        _str(p.get("c")), None if d is None else _int(d))


def submission_url(base_url: str, key: bytes, centre_id: int, email: str, campaign: str,
                   delivery_id: int | None) -> str:
    token = sign({"t": SUBMISSION, "r": centre_id, "e": email, "c": campaign,
                  "d": delivery_id}, key)
    return f"{_base(base_url)}/s/{token}"


def read_submission_token(token: str, key: bytes | Sequence[bytes]) -> SubmissionLink:
    """What a `/s/` token says, else `BadToken`."""
    p = verify(token, key, purpose=SUBMISSION)
    d = p.get("d")
    return SubmissionLink(_int(p.get("r")), _str(p.get("e")), _str(p.get("c")),
                          None if d is None else _int(d))


def recipient_unsubscribe_url(base_url: str, key: bytes, kind: str, rid: int, email: str,
                              campaign: str) -> str:
    token = sign({"t": UNSUBSCRIBE, "rk": kind, "id": rid, "e": email, "c": campaign}, key)
    return f"{_base(base_url)}/u/{token}"


def recipient_preferences_url(base_url: str, key: bytes, kind: str, rid: int, email: str
                              ) -> str:
    token = sign({"t": PREFERENCES, "rk": kind, "id": rid, "e": email}, key)
    return f"{_base(base_url)}/p/{token}"


def read_recipient_token(token: str, key: bytes | Sequence[bytes], purpose: str
                         ) -> AdminRecipientLink:
    """A contact's or focal point's `/u/` or `/p/` token, else `BadToken`."""
    p = verify(token, key, purpose=purpose)
    kind = p.get("rk")
    if kind not in ("contact", "centre"):
        raise BadToken("not a contact's or centre's link")
    c = p.get("c")
    return AdminRecipientLink(str(kind), _int(p.get("id")), _str(p.get("e")),
                              None if c is None else _str(c))
