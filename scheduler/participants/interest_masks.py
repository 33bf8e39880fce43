"""Each participant's interests as four integer masks, stored beside the interests.

Every interest key (kind, value) a participant holds, and every preferred language, has
a bit within its kind in `interest_keys`: 0 to 62 in order of first use; keys beyond
those have a row but no bit (mask 0), and planning tests a course asking for one on the
interests themselves. A participant's mask of a kind is the OR of its keys' bits, or
`ANY` (-1: every bit, bit 63 included, which no key has) when the participant does not
restrict the kind; the language mask of someone naming no language is the bit of their
preferred one. Matching a course is then a few bit tests on the participant's own row
(`scheduler.matching_stored`), with no interest row read at planning time.

Every writer of interests, of the `any_*` flags or of the preferred language stores the
masks in the same transaction (`masks_for`): the imports, the web form, erasure. A row
written otherwise (a restore, a test's fixture, an older Herald) has NULL masks and is
brought up to date by `refresh_stale`, which planning runs first; the migration that
added the masks ran it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    text,
    union,
    update,
)
from sqlalchemy.orm import Session

from scheduler.models import InterestKey, Participant, ParticipantInterest

KINDS = ("topic", "language", "region", "mode")
COLUMNS = {"topic": "topic_bits", "language": "language_bits", "region": "region_bits",
           "mode": "mode_bits"}
"""Participant column of each kind's mask (written together: NULL in topic_bits is stale)."""
KEY_BITS = 63
"""Bits 0-62 name keys; bit 63 (the sign bit) is set only in `ANY`."""
ANY = -1
ONLY_ANY = -(1 << KEY_BITS)
"""Bit 63 alone: OR-ed into a course's mask of a kind a participant may leave open."""

Key = tuple[str, str]


def mask_of(bit: int) -> int:
    """A key's mask: its bit, or 0 for a key beyond the 63 of its kind."""
    return 1 << bit if bit < KEY_BITS else 0


def known_keys(session: Session) -> dict[Key, int]:
    """(kind, value) → bit, every key registered (a few dozen rows)."""
    return {(k, v): b for k, v, b in session.execute(
        select(InterestKey.kind, InterestKey.value, InterestKey.bit))}


def key_masks(session: Session, wanted: Iterable[Key]) -> dict[Key, int]:
    """(kind, value) → mask of every registered key, `wanted` registered if new.

    New keys are numbered under a table lock on PostgreSQL (two importers meeting a new
    key at once queue; keys are a small vocabulary, so this is rare), in SQLite's
    single-writer transaction there."""
    known = known_keys(session)
    missing = set(wanted) - set(known)
    if missing:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("LOCK TABLE interest_keys IN SHARE ROW EXCLUSIVE MODE"))
            known = known_keys(session)
            missing -= set(known)
        top: dict[str, int] = {}
        for (kind, _), bit in known.items():
            top[kind] = max(top.get(kind, -1), bit)
        rows = []
        for kind, value in sorted(missing):
            top[kind] = top.get(kind, -1) + 1
            rows.append({"kind": kind, "value": value, "bit": top[kind]})
            known[(kind, value)] = top[kind]
        if rows:
            session.execute(insert(InterestKey), rows)
    return {key: mask_of(bit) for key, bit in known.items()}


def wanted_keys(language: str, interests: Iterable[Key]) -> set[Key]:
    """The keys a profile's masks are made of (its interests and preferred language)."""
    return {*interests, ("language", language)}


def masks_for(masks: dict[Key, int], language: str, interests: Iterable[Key]
              ) -> dict[str, int]:
    """The four mask columns of a profile (`masks` from `key_masks`, holding its keys)."""
    held: dict[str, int] = {}
    for kind, value in interests:
        held[kind] = held.get(kind, 0) | masks[(kind, value)]
    out = {COLUMNS[k]: held.get(k, ANY) for k in KINDS}
    if "language" not in held:
        out["language_bits"] = masks[("language", language)]
    return out


def _stale() -> Any:
    return Participant.topic_bits.is_(None)


def refresh_stale(session: Session) -> int:
    """Work out the masks of every participant whose masks are NULL; how many.

    Set-based (one pass over those participants' interests), so it serves the
    migration and a restore of millions as well as the odd row planning meets."""
    if session.scalar(select(Participant.id).where(_stale()).limit(1)) is None:
        return 0
    i, p = ParticipantInterest, Participant
    stale_ids = select(p.id).where(_stale())
    keys = union(
        select(i.kind, i.value).where(i.participant_id.in_(stale_ids)),
        select(literal("language"), p.language).where(_stale()))
    key_masks(session, [(k, v) for k, v in session.execute(keys)])
    k = InterestKey
    key_mask = case((k.bit < KEY_BITS, literal(1, BigInteger).op("<<")(k.bit)), else_=0)

    def summed(kind: str) -> Any:
        return cast(func.sum(case((i.kind == kind, key_mask), else_=0)), BigInteger)

    held = (select(i.participant_id.label("pid"), *(summed(kind).label(kind) for kind in KINDS))
            .join(k, and_(k.kind == i.kind, k.value == i.value))
            .where(i.participant_id.in_(stale_ids))
            .group_by(i.participant_id).subquery("held"))
    preferred = (select(key_mask).where(k.kind == "language", k.value == p.language)
                 .scalar_subquery())

    values_with = {
        "topic_bits": case((p.any_topic, ANY), else_=held.c.topic),
        "language_bits": case((p.any_language, preferred), else_=held.c.language),
        "region_bits": case((p.any_region, ANY), else_=held.c.region),
        "mode_bits": case((p.any_mode, ANY), else_=held.c.mode),
    }
    with_interests = session.execute(
        update(p).where(p.id == held.c.pid, _stale()).values(values_with)
        .execution_options(synchronize_session=False))
    values_without = {
        "topic_bits": case((p.any_topic, ANY), else_=0),
        "language_bits": case((p.any_language, func.coalesce(preferred, 0)), else_=0),
        "region_bits": case((p.any_region, ANY), else_=0),
        "mode_bits": case((p.any_mode, ANY), else_=0),
    }
    without = session.execute(update(p).where(_stale()).values(values_without)
                              .execution_options(synchronize_session=False))
    return int(with_interests.rowcount or 0) + int(without.rowcount or 0)  # type: ignore[attr-defined]
