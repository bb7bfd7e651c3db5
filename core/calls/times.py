"""When an event happened: refused when it cannot be right, before anything is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.calls.errors import ImpossibleTime
from core.i18n import words as _

MAX_AHEAD = timedelta(days=1)
"""An event reported further in the future than this is a clock or a client gone wrong."""
MAX_BEHIND = timedelta(days=732)
"""…and one further in the past than this (two years)."""


def checked(at: datetime | None, now: datetime) -> datetime | None:
    """`at` in UTC, or None for "now"; raises ImpossibleTime saying what is wrong with it."""
    if at is None:
        return None
    if at.tzinfo is None or at.utcoffset() is None:
        raise ImpossibleTime(_("the time {at} needs its UTC offset").format(at=at.isoformat()))
    try:
        utc = at.astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise ImpossibleTime(
            _("the time {at} is out of range").format(at=at.isoformat())
        ) from error
    if utc - now > MAX_AHEAD:
        raise ImpossibleTime(
            _("the time {at} is more than a day in the future").format(at=at.isoformat())
        )
    if now - utc > MAX_BEHIND:
        raise ImpossibleTime(
            _("the time {at} is more than two years ago").format(at=at.isoformat())
        )
    return utc


def not_before_queued(at: datetime, queued_at: datetime | None, call_id: int | None) -> None:
    """Refuse an event said to happen before its call was queued."""
    if queued_at is not None and at < queued_at:
        raise ImpossibleTime(
            _("the time {at} is before call {id} was queued ({queued})").format(
                at=at.isoformat(), id=call_id, queued=queued_at.isoformat()
            )
        )


__all__ = ["MAX_AHEAD", "MAX_BEHIND", "checked", "not_before_queued"]
