"""VERP: the envelope sender `bounces+{token}@domain` names the message it carried.

The token is `{delivery id}.{mac}`, the MAC an HMAC-SHA256 of the id under the signing
key (purpose-bound: it is no link token), base32 in lower case: mail servers may fold the
local part's case, and 26 characters (130 bits) keep `bounces+…` far inside RFC 5321's
64-character local part. The id is a bundle's first delivery: its rows share the message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence

MAC_CHARS = 26
LOCAL_PART_LIMIT = 64
_TOKEN = re.compile(r"^(\d{1,18})\.([a-z2-7]{" + str(MAC_CHARS) + "})$")


def _mac(key: bytes, delivery_id: int) -> str:
    digest = hmac.new(key, f"verp:{delivery_id}".encode("ascii"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:MAC_CHARS]


def token(key: bytes, delivery_id: int) -> str:
    return f"{delivery_id}.{_mac(key, delivery_id)}"


def address(return_path: str, key: bytes, delivery_id: int) -> str:
    """`local+token@domain` for the channel's `return_path` `local@domain`."""
    local, _, domain = return_path.rpartition("@")
    local = local.split("+", 1)[0]
    addr = f"{local}+{token(key, delivery_id)}"
    if not local or not domain or len(addr) > LOCAL_PART_LIMIT:
        raise ValueError(f"return_path {return_path!r} leaves no room for a VERP token")
    return f"{addr}@{domain}"


def read(addr: str, keys: Sequence[bytes]) -> int | None:
    """The delivery id a VERP address (or bare token) names, if signed by one of `keys`."""
    local = addr.strip().strip("<>").rpartition("@")[0] or addr.strip()
    candidate = local.split("+", 1)[1] if "+" in local else local
    match = _TOKEN.match(candidate.lower())
    if match is None:
        return None
    delivery_id = int(match.group(1))
    for key in keys:
        if hmac.compare_digest(_mac(key, delivery_id), match.group(2)):
            return delivery_id
    return None
