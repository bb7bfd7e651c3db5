"""Bulk writers for generated demo rows: raw sqlite3 executemany, and asyncpg COPY.

Both turn `TableRows` columns into the values SQLAlchemy itself would have stored, so the
models read them back exactly as if the ORM had written them (SQLite: timestamps as
"YYYY-MM-DD HH:MM:SS.ffffff" text of naive UTC, dates as "YYYY-MM-DD", booleans as 0/1).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import numpy as np

from core.demo.tables import NULL, TableRows

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as work advances."""


def _with_nulls(values: list[Any], raw: np.ndarray[Any, Any]) -> list[Any]:
    missing = np.flatnonzero(raw == NULL)
    for index in missing.tolist():
        values[index] = None
    return values


def _sqlite_timestamps(seconds: np.ndarray[Any, Any]) -> list[Any]:
    safe = np.where(seconds == NULL, 0, seconds).astype("datetime64[s]")
    text = np.datetime_as_string(safe, unit="s").astype("S19")
    buffer = np.empty((len(text), 26), dtype=np.uint8)
    buffer[:, :19] = text.view(np.uint8).reshape(-1, 19)
    buffer[:, 10] = ord(" ")
    buffer[:, 19:] = np.frombuffer(b".000000", dtype=np.uint8)
    values: list[Any] = buffer.view("S26").ravel().astype("U26").tolist()
    return _with_nulls(values, seconds)


def _sqlite_dates(days: np.ndarray[Any, Any]) -> list[Any]:
    safe = np.where(days == NULL, 0, days).astype("datetime64[D]")
    values: list[Any] = np.datetime_as_string(safe, unit="D").tolist()
    return _with_nulls(values, days)


def _to_list(column: Any) -> list[Any]:
    return column.tolist() if isinstance(column, np.ndarray) else list(column)


def sqlite_columns(rows: TableRows) -> list[list[Any]]:
    """Each column as a list of sqlite3 values."""
    out: list[list[Any]] = []
    for kind, column in zip(rows.kinds, rows.data, strict=True):
        base = kind.rstrip("?")
        if base == "ts":
            out.append(_sqlite_timestamps(column))
        elif base == "date":
            out.append(_sqlite_dates(column))
        elif base == "bool":
            out.append(np.asarray(column).astype(np.int64).tolist())
        elif kind == "int?":
            out.append(_with_nulls(_to_list(column), column))
        else:
            out.append(_to_list(column))
    return out


def sqlite_insert(connection: sqlite3.Connection, rows: TableRows) -> int:
    """Insert the rows with one executemany; returns how many."""
    if not len(rows):
        return 0
    columns = ", ".join(f'"{c}"' for c in rows.columns)
    marks = ", ".join("?" for _ in rows.columns)
    connection.executemany(
        f'INSERT INTO "{rows.table}" ({columns}) VALUES ({marks})',
        zip(*sqlite_columns(rows), strict=True),
    )
    return len(rows)


def _pg_timestamps(seconds: np.ndarray[Any, Any]) -> list[Any]:
    safe = np.where(seconds == NULL, 0, seconds).astype("datetime64[s]").astype("datetime64[us]")
    values: list[Any] = safe.tolist()
    return _with_nulls(values, seconds)


def _pg_dates(days: np.ndarray[Any, Any]) -> list[Any]:
    safe = np.where(days == NULL, 0, days).astype("datetime64[D]")
    values: list[Any] = safe.tolist()
    return _with_nulls(values, days)


def pg_records(rows: TableRows) -> Iterable[tuple[Any, ...]]:
    """The rows as asyncpg COPY records (naive UTC datetimes, dates, Decimals, bools)."""
    columns: list[list[Any]] = []
    for kind, column in zip(rows.kinds, rows.data, strict=True):
        base = kind.rstrip("?")
        if base == "ts":
            columns.append(_pg_timestamps(column))
        elif base == "date":
            columns.append(_pg_dates(column))
        elif base == "bool":
            columns.append(np.asarray(column).astype(bool).tolist())
        elif base == "money":
            columns.append([Decimal(f"{v:.2f}") for v in _to_list(column)])
        elif kind == "int?":
            columns.append(_with_nulls(_to_list(column), column))
        else:
            columns.append(_to_list(column))
    return zip(*columns, strict=True)
