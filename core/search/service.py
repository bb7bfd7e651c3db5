"""SearchService: one box for phone numbers, emails, customer ids and names."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn

from core.db import sqlite_file
from core.search import engine
from core.search.dictionary import Dictionary
from core.search.normalize import Query, QueryKind, classify
from core.search.reader import (
    AsyncpgReader,
    Reader,
    SqliteReader,
    open_sqlite,
    session_reader,
)

T = TypeVar("T")

PG_SETTINGS = {"jit": "off", "plan_cache_mode": "force_generic_plan"}
"""Settings of the search's own PostgreSQL connection. JIT compiles a query the planner
thinks dear (a long posting-list scan) for tens of milliseconds: more than running it.
Generic plans: each statement is planned once per connection, not at every search (the
candidate statement took 1.5-2 ms to plan, more than to run). The search's statements are
written for it: fixed texts, array parameters, LIMITs written in."""
_SQLALCHEMY_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func")
SQLITE_BUSY_MS = 5000
"""How long a search waits for a locked SQLite database (in the service's thread)."""


class _Busy(Exception):
    """The SQLite database is locked: the search must wait, off the event loop."""


@dataclass(frozen=True)
class SearchHit:
    """One customer found, with what tells namesakes apart."""

    customer_id: int
    external_id: str
    name: str
    score: float
    """Higher is better; comparable within one result list only."""
    city: str
    birth_year: int | None
    phone_tail: str
    """Last four digits of the main phone number."""
    tier: str
    """Loyalty tier, or "" when the customer has no loyalty account."""
    matched: str
    """What the query matched: "phone", "email", "id" or "name"."""


class SearchService:
    """Finds customers by whatever the agent typed, from the index in the database.

    A search runs all its statements in one go (see core.search.reader): on a SQLite file on
    this service's own read-only connection, in this service's own thread, so that the
    caller's event loop stays free to draw and to answer while it runs (with `inline=True`,
    for a command that has nothing else to do, on the calling loop itself, and in the thread
    only when the database is locked); on PostgreSQL (asyncpg)
    on this service's own connection, outside any transaction (no pool check-out, ping,
    BEGIN or ROLLBACK round trips) and with its prepared statements kept; elsewhere in one
    `run_sync` on a session. `close()` releases the connection.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], inline: bool = False) -> None:
        self._sessions = sessions
        self._inline = inline
        self._dictionary = Dictionary()
        bind = sessions.kw.get("bind")
        self._sqlite_file = sqlite_file(bind.url) if isinstance(bind, AsyncEngine) else None
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._pg_args: dict[str, Any] | None = None
        if isinstance(bind, AsyncEngine) and bind.dialect.driver == "asyncpg":
            _, args = bind.dialect.create_connect_args(bind.url)
            self._pg_args = {k: v for k, v in args.items() if k not in _SQLALCHEMY_ONLY}
        self._pg: Any = None
        """The search's own asyncpg connection, opened on first use."""
        self._pg_loop: asyncio.AbstractEventLoop | None = None
        self._pg_lock: asyncio.Lock | None = None
        self.last_ms = 0.0
        """How long the latest search took, in milliseconds."""

    async def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """The best customers for what was typed, best first.

        Args:
            query: a phone number, an email (or its local part), a customer id or a name.
            limit: at most this many results.

        Returns:
            The hits; an empty list for an empty query or when nothing matches.
        """
        started = time.perf_counter()
        try:
            parsed = classify(query)
            if parsed.empty or limit <= 0:
                return []
            found = await self._run(lambda db: self._find(db, parsed, limit))
            return self._hits(found, limit)
        finally:
            self.last_ms = (time.perf_counter() - started) * 1000

    async def by_phone(self, number: str, limit: int = 10) -> list[SearchHit]:
        """Customers with this phone number (any formatting; trailing digits), for a screen pop.

        Args:
            number: the caller's number as the phone system gives it.
            limit: at most this many results.

        Returns:
            The hits, best first; empty when the number has fewer than 7 digits.
        """
        parsed = classify(number)
        if QueryKind.PHONE not in parsed.kinds or limit <= 0:
            return []
        found = await self._run(lambda db: engine.find_phone(db, parsed.digits, limit))
        return self._hits(found, limit)

    async def _run(self, work: Callable[[Reader], T]) -> T:
        """`work` with a reader, all its statements in one go."""
        if self._sqlite_file is not None:
            if self._inline:
                # A command-line search has no screen to keep drawing, and a search is a few
                # milliseconds of CPU, less than the two thread switches of a hop to another
                # thread cost on a busy machine. It does not wait for a locked database (rare
                # in WAL mode): that search goes to the thread, which waits.
                try:
                    return self._on_sqlite(work, wait=False)
                except _Busy:
                    pass
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="search")
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, self._on_sqlite, work, True)
        if self._pg_args is not None:
            return await self._on_postgres(work)
        async with self._sessions() as session:

            def run(sync_session: Session) -> T:
                return work(session_reader(sync_session))

            return await session.run_sync(run)

    async def _on_postgres(self, work: Callable[[Reader], T]) -> T:
        import asyncpg

        loop = asyncio.get_running_loop()
        if self._pg_loop is not loop:  # a connection serves the event loop that opened it
            self._drop_pg()
            self._pg_loop, self._pg_lock = loop, asyncio.Lock()
        assert self._pg_lock is not None and self._pg_args is not None
        async with self._pg_lock:  # one search at a time on the connection
            if self._pg is None or self._pg.is_closed():
                self._pg = await asyncpg.connect(**self._pg_args, server_settings=dict(PG_SETTINGS))
            connection = self._pg
            try:
                return await greenlet_spawn(work, AsyncpgReader(connection))
            except BaseException:
                # Cancelled mid-statement or the server went away: start afresh next time.
                self._drop_pg()
                raise

    def _drop_pg(self) -> None:
        if self._pg is not None and not self._pg.is_closed():
            self._pg.terminate()
        self._pg = None

    async def close(self) -> None:
        """Close the search's own database connections (the service can still be used)."""
        if self._pg is not None:
            connection, self._pg = self._pg, None
            if not connection.is_closed():
                if self._pg_loop is asyncio.get_running_loop():
                    await connection.close()
                else:
                    connection.terminate()
        if self._connection is not None:
            with self._lock:
                self._connection.close()
                self._connection = None

    def _on_sqlite(self, work: Callable[[Reader], T], wait: bool) -> T:
        """`work` on the search connection; without `wait`, _Busy when it would wait."""
        if not self._lock.acquire(blocking=wait):  # a search waiting in the thread has it
            raise _Busy
        try:
            if self._connection is None:
                assert self._sqlite_file is not None
                self._connection = open_sqlite(self._sqlite_file)
            connection = self._connection
            if wait:
                connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
            try:
                # One read transaction: every statement of the search sees the same snapshot.
                connection.execute("BEGIN")
                try:
                    return work(SqliteReader(connection))
                finally:
                    connection.execute("COMMIT")
            except sqlite3.OperationalError as error:
                if not wait and error.sqlite_errorcode in (
                    sqlite3.SQLITE_BUSY,
                    sqlite3.SQLITE_LOCKED,
                ):
                    raise _Busy from error
                raise
            finally:
                if wait:
                    connection.execute("PRAGMA busy_timeout = 0")
        finally:
            self._lock.release()

    def _find(self, db: Reader, parsed: Query, limit: int) -> list[engine.Found]:
        found: list[engine.Found] = []
        for kind in parsed.kinds:
            if kind is QueryKind.ID:
                found += engine.find_ids(db, parsed.customer_ids)
            elif kind is QueryKind.PHONE:
                found += engine.find_phone(db, parsed.digits, limit)
            elif kind is QueryKind.EMAIL:
                found += engine.find_email(db, parsed.email, limit)
            elif found and QueryKind.ID in parsed.kinds:
                break  # `X0001` found as a customer number: not a name too
            else:
                names = engine.find_names(db, self._dictionary, parsed.words, limit)
                found += names
                # `mgarcia` is someone's email before it is a name; `maria` is a name, and
                # someone's maria@… only shows when the name leaves room for it.
                known = parsed.email in self._dictionary
                if parsed.email and (not known or len(names) < limit):
                    place = engine.AFTER_NAMES_KEY if known else engine.PARTIAL_KEY
                    found += engine.find_email(db, parsed.email, limit, prefixes=False, place=place)
        return found

    @staticmethod
    def _hits(found: Sequence[engine.Found], limit: int) -> list[SearchHit]:
        best: dict[int, engine.Found] = {}
        for item in found:
            cid = item.detail.customer_id
            if cid not in best or best[cid].order > item.order:
                best[cid] = item
        ranked = sorted(best.values(), key=lambda item: item.order)[:limit]
        return [
            SearchHit(
                customer_id=item.detail.customer_id,
                external_id=item.detail.external_id,
                name=item.detail.name,
                score=round(item.score, 2),
                city=item.detail.city,
                birth_year=item.detail.birth_year,
                phone_tail=item.detail.phone_tail,
                tier=item.detail.tier,
                matched=item.matched,
            )
            for item in ranked
        ]
