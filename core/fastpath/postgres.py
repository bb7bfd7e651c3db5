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

import numpy as np

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
