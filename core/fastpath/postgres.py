"""Values as asyncpg takes them for PostgreSQL: naive UTC datetimes, dates, booleans.

`UtcDateTime` columns are `timestamp without time zone` holding UTC. The column forms take
numpy int64 seconds or days with a NULL marker, as the demo generator makes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import asyncpg
import numpy as np
from sqlalchemy.engine import make_url

from core.fastpath.sqlite import with_nulls

_QUESTION_MARK = re.compile(r"\?")


@lru_cache(maxsize=65536)
def pg_time(value: datetime | None) -> datetime | None:
    """An aware moment as a `UtcDateTime` column holds it: naive UTC."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


CONVERTERS: dict[str, Callable[[Any], Any]] = {"t": pg_time}
"""By type letter (as core.fastpath.sqlite.CONVERTERS): the value asyncpg takes, if not as is."""


def dollar_placeholders(sql: str) -> str:
    """`?` placeholders as asyncpg's `$1, $2, ...` (the statement has no literal `?`)."""
    counter = iter(range(1, 10_000))
    return _QUESTION_MARK.sub(lambda _m: f"${next(counter)}", sql)


def converted(values: Sequence[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """convert(value) for each value, once per distinct value (None stays None)."""
    memo: dict[Any, Any] = {None: None}
    result = []
    for value in values:
        try:
            result.append(memo[value])
        except KeyError:
            memo[value] = done = convert(value)
            result.append(done)
    return result


def times(seconds: np.ndarray[Any, Any], null: int) -> list[Any]:
    """Whole seconds since the epoch (UTC) as naive UTC datetimes; `null` becomes None."""
    safe = np.where(seconds == null, 0, seconds).astype("datetime64[s]").astype("datetime64[us]")
    values: list[Any] = safe.tolist()
    return with_nulls(values, seconds, null)


def dates(days: np.ndarray[Any, Any], null: int) -> list[Any]:
    """Days since the epoch as dates; `null` becomes None."""
    safe = np.where(days == null, 0, days).astype("datetime64[D]")
    values: list[Any] = safe.tolist()
    return with_nulls(values, days, null)


async def connect(url: str) -> Any:
    """An asyncpg connection of its own to the database of a SQLAlchemy URL."""
    u = make_url(url)
    return await asyncpg.connect(
        user=u.username, password=u.password, host=u.host, port=u.port, database=u.database
    )


def continue_ids(table: str) -> str:
    """The statement that makes `table`'s id sequence continue after its largest id: rows
    written with ids of their own (COPY) leave the sequence behind."""
    return (
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
    )
