"""executemany straight on the driver connection, inside the session's transaction.

Importing a million rows through SQLAlchemy's per-row parameter processing costs more than
the database work itself, so the hot statements go to sqlite3 / asyncpg directly, with the
values converted the way SQLAlchemy's types would have stored them (core.fastpath).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.fastpath import postgres, sqlite


def _convert(
    rows: Sequence[Sequence[Any]], types: str, converters: dict[str, Callable[[Any], Any]]
) -> list[tuple[Any, ...]]:
    columns = list(zip(*rows, strict=True))
    for index, kind in enumerate(types):
        convert = converters.get(kind)
        if convert is not None:
            columns[index] = tuple(map(convert, columns[index]))
    return list(zip(*columns, strict=True))


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
        await driver.executemany(sql, _convert(rows, types, sqlite.CONVERTERS))
    else:
        await driver.executemany(
            postgres.dollar_placeholders(sql), _convert(rows, types, postgres.CONVERTERS)
        )
