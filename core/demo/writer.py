"""Bulk writers for generated demo rows: raw sqlite3 executemany, and asyncpg COPY.

Both turn `TableRows` columns into the values SQLAlchemy itself would have stored
(core.fastpath.sqlite, core.fastpath.postgres), so the models read them back exactly as if
the ORM had written them. The demo loads every table of an empty database in one pass, with
the ids it generated: it upserts nothing, so it needs none of the importer's upserts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import numpy as np

from core.demo.tables import NULL, TableRows
from core.fastpath import postgres, sqlite

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as work advances."""


def _to_list(column: Any) -> list[Any]:
    return column.tolist() if isinstance(column, np.ndarray) else list(column)


def sqlite_columns(rows: TableRows) -> list[list[Any]]:
    """Each column as a list of sqlite3 values."""
    out: list[list[Any]] = []
    for kind, column in zip(rows.kinds, rows.data, strict=True):
        base = kind.rstrip("?")
        if base == "ts":
            out.append(sqlite.time_texts(column, NULL))
        elif base == "date":
            out.append(sqlite.date_texts(column, NULL))
        elif base == "bool":
            out.append(np.asarray(column).astype(np.int64).tolist())
        elif kind == "int?":
            out.append(sqlite.with_nulls(_to_list(column), column, NULL))
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


def pg_records(rows: TableRows) -> Iterable[tuple[Any, ...]]:
    """The rows as asyncpg COPY records (naive UTC datetimes, dates, Decimals, bools)."""
    columns: list[list[Any]] = []
    for kind, column in zip(rows.kinds, rows.data, strict=True):
        base = kind.rstrip("?")
        if base == "ts":
            columns.append(postgres.times(column, NULL))
        elif base == "date":
            columns.append(postgres.dates(column, NULL))
        elif base == "bool":
            columns.append(np.asarray(column).astype(bool).tolist())
        elif base == "money":
            columns.append([Decimal(f"{v:.2f}") for v in _to_list(column)])
        elif kind == "int?":
            columns.append(sqlite.with_nulls(_to_list(column), column, NULL))
        else:
            columns.append(_to_list(column))
    return zip(*columns, strict=True)
