"""Links that can work in production: an email channel needs an https `base_url`.

RFC 8058 one-click unsubscribe (required by the large mailbox providers for bulk mail)
only counts over https; plain http is fine on loopback, where the demo runs.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from scheduler.config.models import HeraldConfig

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url_problems(cfg: HeraldConfig) -> list[str]:
    """One line per enabled smtp channel that would send links to a non-loopback http
    `base_url`."""
    parts = urlsplit(cfg.settings.base_url)
    if parts.scheme != "http" or is_loopback(parts.hostname or ""):
        return []
    return [f"config/settings.yaml: base_url: {cfg.settings.base_url!r} is http on a public "
            f"host, but channel {name!r} (smtp) sends its links: RFC 8058 one-click "
            f"unsubscribe needs https (use https://, or a loopback host for local tests)"
            for name, c in cfg.channels.items() if c.enabled and c.type == "smtp"]
