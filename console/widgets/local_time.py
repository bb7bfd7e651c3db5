"""Times are stored in UTC and shown in the configured (or the machine's) local time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def local(moment: datetime, zone: str = "") -> datetime:
    """The aware `moment` in `zone` (an IANA name), or in the machine's zone when empty; as
    stored when it has no local time (9999-12-31 23:00 UTC is past year 9999 east of UTC)."""
    try:
        if zone:
            try:
                return moment.astimezone(ZoneInfo(zone))
            except ZoneInfoNotFoundError:
                pass
        return moment.astimezone()
    except (OverflowError, ValueError):
        return moment


def when(moment: datetime, zone: str = "") -> str:
    """A short local date and time for lists: `2026-11-22 14:05`."""
    return local(moment, zone).strftime("%Y-%m-%d %H:%M")


def day(value: date | None) -> str:
    return value.isoformat() if value is not None else "—"


def clock(seconds: float) -> str:
    """A running timer: `04:07`, or `1:02:03` past an hour."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
