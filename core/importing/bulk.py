"""executemany straight on the driver connection, inside the session's transaction.

Importing a million rows through SQLAlchemy's per-row parameter processing costs more than
the database work itself, so the hot statements go to sqlite3 / asyncpg directly, with the
values converted the way SQLAlchemy's types would have stored them (`UtcDateTime`: naive UTC,
on SQLite as "YYYY-MM-DD HH:MM:SS.ffffff" text; booleans 0/1 on SQLite).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.models.types import sqlite_time


@lru_cache(maxsize=65536)
def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _sqlite_money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@lru_cache(maxsize=65536)
def _pg_time(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


sqlite_date = _sqlite_date
"""A date as SQLite stores it (cached)."""

SQLITE: dict[str, Callable[[Any], Any]] = {
    "t": sqlite_time,
    "d": _sqlite_date,
    "b": _sqlite_bool,
    "m": _sqlite_money,
}
POSTGRES: dict[str, Callable[[Any], Any]] = {"t": _pg_time}


def _convert(
    rows: Sequence[Sequence[Any]], types: str, converters: dict[str, Callable[[Any], Any]]
) -> list[tuple[Any, ...]]:
    columns = list(zip(*rows, strict=True))
    for index, kind in enumerate(types):
        convert = converters.get(kind)
        if convert is not None:
            columns[index] = tuple(map(convert, columns[index]))
    return list(zip(*columns, strict=True))


def _dollar_placeholders(sql: str) -> str:
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _m: f"${next(counter)}", sql)


async def executemany(
    session: AsyncSession, sql: str, types: str, rows: Sequence[Sequence[Any]]
) -> None:
    """Run `sql` (with `?` placeholders) once per row, in the session's transaction.

    Args:
        session: a session inside a transaction that has already run a statement (so the
            driver connection is in that transaction).
        sql: one statement with `?` placeholders; it must contain no literal question mark.
        types: one letter per parameter: t an aware datetime (or None), d a date,
            b a boolean, m a Decimal amount, anything else a value passed as it is.
        rows: the parameters, one sequence per execution.
    """
    if not rows:
        return
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if connection.dialect.name == "sqlite":
        await driver.executemany(sql, _convert(rows, types, SQLITE))
    else:
        await driver.executemany(_dollar_placeholders(sql), _convert(rows, types, POSTGRES))
