"""Engines and sessions from a URL, schema migrations, and the cross-process change feed.

SQLite (the default) is opened through aiosqlite in WAL mode with a busy timeout and foreign
keys on; PostgreSQL through asyncpg. Other console processes' commits are noticed through
`ChangeFeed`: on SQLite by watching `PRAGMA data_version`, on PostgreSQL by LISTEN/NOTIFY.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, String, bindparam, create_engine, event, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.ext.asyncio import async_sessionmaker as _async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import TextClause
from sqlmodel import col

from core.models import ChangeEvent
from core.models.types import UtcDateTime, utcnow

T = TypeVar("T")
SQLITE_BUSY_TIMEOUT_MS = 5000
NOTIFY_CHANNEL = "frontline_changes"


class DatabaseUnavailable(Exception):
    """The database is locked, down or unreachable; the caller should keep its data and retry."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def sqlite_file(url: str | URL) -> str | None:
    """The database file of a SQLite URL; None for another database, or for an in-memory or
    URI (`file:`) SQLite database, which the file-based fast paths leave alone."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def secure_sqlite_file(path: str | Path) -> None:
    """Create a missing SQLite file (and its folder) readable by its owner only.

    Customers' names, numbers and notes are in it, and SQLite gives the -wal and -shm files
    the permissions of the database file; a file that exists is left as its owner set it
    (a team may share one on purpose).
    """
    target = Path(path)
    if not target.parent.exists():
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL + NORMAL is durable against process crashes; only a power cut can lose the
    # last transactions, and it never corrupts the file.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`, with Frontline's SQLite pragmas when it is SQLite.

    Args:
        url: a SQLAlchemy URL, `sqlite+aiosqlite:///path` or `postgresql+asyncpg://…`.
        **kwargs: passed on to `create_async_engine`.

    Returns:
        The engine. A SQLite file's directory is created if missing.
    """
    # A statement's parameters are customers' data (caller numbers, names): never in the
    # text of an exception that may end up in a log.
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        path = sqlite_file(url)
        if path is not None:
            secure_sqlite_file(path)
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    if "pool_pre_ping" in kwargs or "asyncpg" not in url:
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)
    # Instead of SQLAlchemy's pre-ping (BEGIN, a statement, ROLLBACK: three round trips on
    # every checkout, which under load each wait for the database's turn on the CPU), a pooled
    # connection is checked without a round trip: asyncpg knows at once when the server closed
    # it (a restart, a terminated backend), and such a connection is replaced before use.
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine.pool, "checkout", _drop_closed_connection)
    return engine


def _drop_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout: a connection the server closed is discarded and another one taken."""
    driver = getattr(dbapi_connection, "_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the database closed this connection")


def make_sessions(engine: AsyncEngine) -> _async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (services hand them to the UI)."""
    return _async_sessionmaker(engine, expire_on_commit=False)


class Reads:
    """Runs a function of a synchronous `Session` that only reads, all its statements in one go.

    Through aiosqlite every statement is several hops between the event loop and the
    connection's thread (cursor, execute, fetch, close), and a screen that reads seven
    statements waits for some thirty of them. On a SQLite file the function runs instead in
    a worker thread with a synchronous session of its own (pysqlite, the same pragmas): one
    hop for all of it. Elsewhere it runs through `AsyncSession.run_sync`, on the async
    engine's connection. The same ORM code serves both.
    """

    def __init__(self, sessions: _async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        bind = sessions.kw.get("bind")
        url = bind.url if isinstance(bind, AsyncEngine) else None
        self._sqlite_url = (
            url.set(drivername="sqlite") if url is not None and sqlite_file(url) else None
        )
        self._sync: sessionmaker[Session] | None = None
        self._engine: Engine | None = None
        self._building = threading.Lock()

    def _session(self) -> Session:
        with self._building:
            if self._sync is None:
                assert self._sqlite_url is not None
                engine = create_engine(
                    self._sqlite_url, connect_args={"check_same_thread": False},
                    hide_parameters=True,
                )  # fmt: skip
                event.listen(engine, "connect", _set_sqlite_pragmas)
                self._engine = engine
                self._sync = sessionmaker(engine, expire_on_commit=False)
        return self._sync()

    def _in_thread(self, work: Callable[[Session], T]) -> T:
        with self._session() as session:
            return work(session)

    async def run(self, work: Callable[[Session], T]) -> T:
        """`work(session)`'s result; objects it returns stay readable (detached)."""
        if self._sqlite_url is not None:
            return await asyncio.to_thread(self._in_thread, work)
        async with self._sessions() as session:
            return await session.run_sync(work)

    def close(self) -> None:
        """Close the thread side's connections (it opens them again if used)."""
        with self._building:
            if self._engine is not None:
                self._engine.dispose()
            self._engine, self._sync = None, None


# --- migrations -------------------------------------------------------------------------


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    import migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply the Alembic migrations up to `revision`. Blocking: run it in a thread from async code.

    Args:
        url: the database URL.
        revision: the target revision, normally "head".
    """
    from alembic import command

    path = sqlite_file(url)
    if path is not None:
        secure_sqlite_file(path)
    command.upgrade(_alembic_config(url), revision)


def head_revision() -> str:
    """The newest migration shipped with this version of Frontline."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for a database never migrated."""

    def read(connection: Any) -> str | None:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def prepare_database(url: str) -> str | None:
    """Migrate a new, empty database; say what is wrong with an existing out-of-date one.

    Args:
        url: the database URL.

    Returns:
        None when the database is ready, else a message for the user (the schema is older
        than this version of Frontline and needs `frontline db upgrade`).
    """
    engine = null_pool_engine(url)
    try:
        revision = await current_revision(engine)
    finally:
        await engine.dispose()
    if revision is None:
        await asyncio.to_thread(upgrade_database, url)
        return None
    if revision != head_revision():
        return f"the database is at revision {revision}; run `frontline db upgrade` first"
    return None


# --- change feed ------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """Something another process committed: a topic and, where known, the key it touched."""

    topic: str
    key: str = ""


ANY_CHANGE = Change("*")
"""Sent when a feed opens (or opens again): anything may have changed before it."""

PING_SECONDS = 5.0
"""A quiet PostgreSQL feed checks its connection this often (a restart closes it silently)."""


class FeedLost(ConnectionError):
    """The change feed's connection is gone (the database restarted): open a new feed."""


async def publish_change(session: AsyncSession, topic: str, key: str = "") -> None:
    """Record, inside the caller's transaction, that `topic`/`key` changed.

    Watchers in other processes receive it once the transaction commits.
    """
    await publish_changes(session, [(topic, key)])


@cache
def _publish_statement() -> TextClause:
    changes = "unnest(CAST(:topics AS VARCHAR[]), CAST(:keys AS VARCHAR[])) AS c(topic, key)"
    return text(
        f"""
        WITH stored AS (
            INSERT INTO change_event (at, topic, key) SELECT :now, topic, key FROM {changes}
        )
        SELECT pg_notify(:channel, topic || ':' || key) FROM {changes}
        """
    ).bindparams(
        bindparam("topics", type_=ARRAY(String())),
        bindparam("keys", type_=ARRAY(String())),
        bindparam("now", type_=UtcDateTime()),
        bindparam("channel", type_=String()),
    )


async def publish_changes(session: AsyncSession, changes: list[tuple[str, str]]) -> None:
    """`publish_change` for several changes at once: on PostgreSQL the rows and their
    NOTIFYs in one round trip (an event moves a call and one or two agents)."""
    if not changes:
        return
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        session.add_all(ChangeEvent(topic=topic, key=str(key)) for topic, key in changes)
        return
    await session.execute(
        _publish_statement(),
        {
            "topics": [topic for topic, _ in changes],
            "keys": [str(key) for _, key in changes],
            "now": utcnow(),
            "channel": NOTIFY_CHANNEL,
        },
    )


_LOST = Change("", "lost")
"""Queued by asyncpg's termination callback: the feed's connection closed."""


class ChangeFeed:
    """Tells one process what other processes committed.

    Use as an async context manager, then iterate `changes()`: each item is the batch of
    changes seen since the previous one. A process also sees its own commits on PostgreSQL;
    on SQLite only other connections' commits move `PRAGMA data_version`, so use a separate
    engine or expect to see your own writes only through other means.
    """

    def __init__(self, engine: AsyncEngine, poll_interval: float = 0.1) -> None:
        self._engine = engine
        self._poll_interval = poll_interval
        self._connection: AsyncConnection | None = None
        self._queue: asyncio.Queue[Change] = asyncio.Queue()
        self._last_id = 0
        self._data_version: int | None = None

    @property
    def _postgres(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    async def __aenter__(self) -> ChangeFeed:
        self._connection = await self._engine.connect()
        result = await self._connection.execute(select(func.max(col(ChangeEvent.id))))
        self._last_id = result.scalar() or 0
        await self._connection.commit()
        if self._postgres:
            raw = await self._connection.get_raw_connection()
            driver = raw.driver_connection
            await driver.add_listener(NOTIFY_CHANNEL, self._on_notify)  # type: ignore[union-attr]
            driver.add_termination_listener(self._on_lost)  # type: ignore[union-attr]
        else:
            self._data_version = await self._read_data_version()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None

    def _on_lost(self, _conn: Any) -> None:
        self._queue.put_nowait(_LOST)

    async def _ping(self) -> None:
        assert self._connection is not None
        try:
            async with asyncio.timeout(PING_SECONDS):
                await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()
        except Exception as error:
            raise FeedLost(f"the change feed's connection is gone: {error}") from error

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        topic, _, key = payload.partition(":")
        self._queue.put_nowait(Change(topic, key))

    async def _read_data_version(self) -> int:
        assert self._connection is not None
        result = await self._connection.execute(text("PRAGMA data_version"))
        version = int(result.scalar_one())
        await self._connection.commit()
        return version

    async def _sqlite_changes(self) -> list[Change]:
        assert self._connection is not None
        result = await self._connection.execute(
            select(col(ChangeEvent.id), col(ChangeEvent.topic), col(ChangeEvent.key))
            .where(col(ChangeEvent.id) > self._last_id)
            .order_by(col(ChangeEvent.id))
        )
        rows = result.all()
        await self._connection.commit()
        if not rows:
            # A commit that published nothing (an audit row, a draft): as on PostgreSQL,
            # where only `publish_change` notifies, it is nobody's news. Waking every
            # console for it cost each of them its look-ups again at every opened customer.
            return []
        self._last_id = rows[-1][0] or self._last_id
        return [Change(topic, key) for _, topic, key in rows]

    async def changes(self) -> AsyncIterator[list[Change]]:
        """Batches of changes, as they are committed elsewhere. Runs until cancelled, or
        raises FeedLost when PostgreSQL closed the connection (open a new feed then)."""
        while True:
            if self._postgres:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a
                # cancellation that lands as the queue hands over an item, and the feed
                # then never stops (a console or worker hangs on its way out).
                try:
                    async with asyncio.timeout(PING_SECONDS):
                        first = await self._queue.get()
                except TimeoutError:
                    await self._ping()
                    continue
                batch = [first]
                while not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                if _LOST in batch:
                    raise FeedLost("the database closed the change feed's connection")
                yield batch
                continue
            await asyncio.sleep(self._poll_interval)
            try:
                version = await self._read_data_version()
            except Exception:  # a locked or vanished file: try again at the next tick
                continue
            if version != self._data_version:
                self._data_version = version
                batch = await self._sqlite_changes()
                if batch:
                    yield batch


def null_pool_engine(url: str) -> AsyncEngine:
    """An engine that holds no idle connections: for one-shot commands and tests."""
    return make_engine(url, poolclass=NullPool)
