"""Bounce intake: VERP envelope senders, DSN/ARF parsing, IMAP fetching, suppression."""
