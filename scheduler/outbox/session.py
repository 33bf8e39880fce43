"""Running a transition inside the caller's session, or in a short one of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

SessionOrFactory = Session | sessionmaker[Session]
"""A caller's session (the transition joins its transaction) or a factory (the transition
runs in its own short transaction, committed when it returns)."""


@contextmanager
def within(target: SessionOrFactory) -> Iterator[Session]:
    """The caller's session as it is, or a new one whose transaction commits at the end."""
    if isinstance(target, Session):
        yield target
        return
    with target() as session, session.begin():
        yield session
