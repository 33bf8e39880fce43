"""Keeping secrets out of logs: a filter on the root logger's handlers."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from channels.secrets import Scrubber


class RedactingFilter(logging.Filter):
    """Replaces every form of every known secret (`channels.secrets`) in a record's message,
    arguments and traceback with `***`.

    It renders the message itself (and drops the arguments), so a secret passed as an argument
    is caught too; it never drops a record.
    """

    def __init__(self) -> None:
        super().__init__()
        self.scrub = Scrubber()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.scrub:
            return True
        try:
            message = record.getMessage()
        except Exception:
            # A broken format string: keep everything, redacted, for the handler to show.
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self.scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


_FILTER = RedactingFilter()


def install_redaction(secrets: Iterable[str]) -> None:
    """Redact `secrets` from every record reaching the root logger's handlers.

    Idempotent: a second call replaces the set of secrets (after a config reload) and attaches
    the one filter to handlers added since. Call it after configuring logging.
    """
    _FILTER.scrub = Scrubber(secrets)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
