"""How a search reads the index: plain SQL through the fastest path each database offers.

A search runs several statements (dictionary version, candidate names, their customers,
details). Each one through an AsyncSession costs thread hops (aiosqlite), statement
compilation and row processing, so the search logic is written synchronously against
`Reader.rows(sql, params)` and run in one go:

- SQLite on a file: a dedicated read-only `sqlite3` connection owned by the SearchService
  (prepared statements cached by the driver), used on the event loop;
- asyncpg: inside `AsyncSession.run_sync`, each statement straight through the session's
  asyncpg connection, whose prepared statements asyncpg caches;
- anything else: `text()` statements through the session, as before.

SQL is written with `:name` parameters; a list value stands for `(:name_0, :name_1, ...)`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

SQLITE_CACHE_KIB = 65_536
"""Page cache of the search connection (the default is 2 MB)."""
SQLITE_STATEMENTS = 256
"""Prepared statements the search connection keeps."""

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_IN_LIST = re.compile(r"\bIN :([A-Za-z_]\w*)")

Rows = list[tuple[Any, ...]]


class Reader(Protocol):
    """Runs one SELECT. A reader whose `arrays` attribute is true passes list parameters
    (other than `IN :name`) as PostgreSQL arrays, so statements can take `CAST(:ids AS
    int[])` and keep one text whatever the number of ids."""

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> Rows:
        """Every row of one SELECT."""
        ...


def expand(sql: str, params: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """`sql` and `params` with every list-valued parameter spelled out one value each."""
    if not params:
        return sql, {}
    flat: dict[str, Any] = {}
    lists: dict[str, str] = {}
    for name, value in params.items():
        if isinstance(value, list | tuple):
            names = [f"{name}_{i}" for i in range(len(value))]
            flat.update(zip(names, value, strict=True))
            lists[name] = "(" + ", ".join(f":{n}" for n in names) + ")"
        else:
            flat[name] = value
    if lists:
        sql = _PARAM.sub(lambda m: lists.get(m.group(1), m.group(0)), sql)
    return sql, flat


def open_sqlite(path: str) -> sqlite3.Connection:
    """A read-only connection for searching, with a page cache for the index's hot pages."""
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=SQLITE_STATEMENTS
    )
    connection.execute("PRAGMA query_only = 1")
    # A locked database fails at once: the SearchService then waits, off the event loop.
    connection.execute("PRAGMA busy_timeout = 0")
    connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    return connection


class SqliteReader:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> Rows:
        sql, flat = expand(sql, params)
        return self._connection.execute(sql, flat).fetchall()


class SessionReader:
    """Statements through a synchronous session (inside `AsyncSession.run_sync`)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> Rows:
        sql, flat = expand(sql, params)
        return [tuple(row) for row in self._session.execute(text(sql), flat)]


class AsyncpgReader:
    """Statements straight through asyncpg (inside a greenlet, as `AsyncSession.run_sync`)."""

    arrays = True
    """List parameters outside `IN :name` are passed as PostgreSQL arrays."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> Rows:
        params = dict(params or {})
        order: dict[str, int] = {}

        def number(match: re.Match[str]) -> str:
            return f"${order.setdefault(match.group(1), len(order) + 1)}"

        # `IN :ids` becomes `= ANY($n)` with one array: the same text for any number of ids,
        # so asyncpg prepares it once.
        sql = _IN_LIST.sub(
            lambda m: (
                f"= ANY({number(m)})"
                if isinstance(params.get(m.group(1)), list | tuple)
                else m.group(0)
            ),
            sql,
        )
        sql = _PARAM.sub(number, sql)
        args = [list(v) if isinstance(v := params[name], tuple) else v for name in order]
        return [tuple(record) for record in await_only(self._connection.fetch(sql, *args))]


def session_reader(session: Session) -> Reader:
    """The fastest reader on this session's connection."""
    connection = session.connection()
    if connection.dialect.driver == "asyncpg":
        raw = connection.connection.driver_connection
        if raw is not None:
            return AsyncpgReader(raw)
    return SessionReader(session)
