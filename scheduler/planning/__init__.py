"""Planning of the kinds beyond course emails, digests and course posts."""
