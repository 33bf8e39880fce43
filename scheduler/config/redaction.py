"""Keeping secrets out of logs: a filter on the root logger's handlers."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from scheduler.config.envrefs import redact_text


class RedactingFilter(logging.Filter):
    """Replaces every known secret in a record's message, arguments and traceback with `***`.

    It renders the message itself (and drops the arguments), so a secret passed as an argument
    is caught too; it never drops a record.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: frozenset[str] = frozenset()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:
            # A broken format string: keep everything, redacted, for the handler to show.
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact_text(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info, self.secrets)
        return True


_FILTER = RedactingFilter()


def install_redaction(secrets: Iterable[str]) -> None:
    """Redact `secrets` from every record reaching the root logger's handlers.

    Idempotent: a second call replaces the set of secrets (after a config reload) and attaches
    the one filter to handlers added since. Call it after configuring logging.
    """
    _FILTER.secrets = frozenset(s for s in secrets if s)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
