"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and read back as an aware UTC datetime.

    SQLite has no time zones and PostgreSQL's `timestamptz` would differ from it, so both
    store naive UTC and every value that leaves the database is aware.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous: pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text from bulk loaders
            value = _from_text(value)
        stored: datetime = value
        return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        # SQLite's own text parser refuses a year not padded to four digits (`999-01-01 …`,
        # written by earlier versions for years before 1000), and one such row would make
        # every read of its table fail: parse the text here instead, leniently.
        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            stored = _from_text(value) if isinstance(value, str) else value
            return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)

        return process


# What a `UtcDateTime` looks like as SQLite text. The bulk writers (import, demo, the call
# fast path) bypass the ORM with sqlite3 and the bulk readers read raw text, so the format is
# written here once, beside the type that defines it.


@lru_cache(maxsize=65536)  # bulk writes repeat the same moments ("now", days at noon)
def sqlite_time(value: datetime | None) -> str | None:
    """A moment as SQLite stores a `UtcDateTime` (naive UTC text); naive input is taken as UTC.

    Args:
        value: the moment, or None.

    Returns:
        `YYYY-MM-DD HH:MM:SS.ffffff` in UTC, or None.
    """
    if value is None:
        return None
    moment = value.astimezone(UTC) if value.tzinfo is not None else value
    # The year by hand: strftime's %Y does not pad years before 1000 to four digits.
    return f"{moment.year:04d}-{moment:%m-%d %H:%M:%S}.{moment.microsecond:06d}"


def parse_sqlite_time(value: Any) -> datetime | None:
    """A `UtcDateTime` read as raw SQLite text, back as an aware UTC datetime (None if not text)."""
    if not isinstance(value, str):
        return None
    return _from_text(value).replace(tzinfo=UTC)


def _from_text(value: str) -> datetime:
    """Stored text as a datetime, also the `999-01-01 …` form (a year not padded to four
    digits) that earlier versions wrote for years before 1000."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        year, dash, rest = value.partition("-")
        if not (dash and year.isdigit() and len(year) < 4):
            raise
        return datetime.fromisoformat(f"{int(year):04d}-{rest}")
