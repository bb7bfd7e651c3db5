"""Values as SQLAlchemy's types store them on SQLite, one at a time and column at a time.

`UtcDateTime`: naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff" (core.models.types.sqlite_time);
dates: "YYYY-MM-DD"; booleans: 0/1; money: float. The column forms take numpy int64 seconds
or days with a NULL marker, as the demo generator makes them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np

from core.models.types import sqlite_time


@lru_cache(maxsize=65536)  # imports and demos repeat the same days over and over
def sqlite_date(value: date | None) -> str | None:
    """A date as SQLite stores it."""
    return None if value is None else value.isoformat()


def sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def sqlite_money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "t": sqlite_time,
    "d": sqlite_date,
    "b": sqlite_bool,
    "m": sqlite_money,
}
"""By type letter (t aware datetime, d date, b boolean, m Decimal amount): its SQLite value."""


def with_nulls(values: list[Any], raw: np.ndarray[Any, Any], null: int) -> list[Any]:
    """`values` with None wherever `raw` holds the `null` marker."""
    for index in np.flatnonzero(raw == null).tolist():
        values[index] = None
    return values


def time_texts(seconds: np.ndarray[Any, Any], null: int) -> list[Any]:
    """Whole seconds since the epoch (UTC) as sqlite_time's text, without a Python datetime
    per value; `null` becomes None."""
    safe = np.where(seconds == null, 0, seconds).astype("datetime64[s]")
    text = np.datetime_as_string(safe, unit="s").astype("S19")
    buffer = np.empty((len(text), 26), dtype=np.uint8)
    buffer[:, :19] = text.view(np.uint8).reshape(-1, 19)
    buffer[:, 10] = ord(" ")
    buffer[:, 19:] = np.frombuffer(b".000000", dtype=np.uint8)
    values: list[Any] = buffer.view("S26").ravel().astype("U26").tolist()
    return with_nulls(values, seconds, null)


def date_texts(days: np.ndarray[Any, Any], null: int) -> list[Any]:
    """Days since the epoch as SQLite's date text; `null` becomes None."""
    safe = np.where(days == null, 0, days).astype("datetime64[D]")
    values: list[Any] = np.datetime_as_string(safe, unit="D").tolist()
    return with_nulls(values, days, null)


def secondary_indexes(
    connection: sqlite3.Connection, tables: Sequence[str]
) -> list[tuple[str, str, str]]:
    """(name, table, CREATE INDEX statement) of these tables' own indexes, by name.

    A bulk load drops them and runs the very statements again once the rows are in: one sort
    per index instead of an index update per row. Indexes behind a PRIMARY KEY or UNIQUE
    constraint have no statement and stay.
    """
    marks = ", ".join("?" for _ in tables)
    found: list[tuple[str, str, str]] = connection.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "
        f"AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY name",
        tuple(tables),
    ).fetchall()
    return found
