"""Build a demo database: migrate, refuse to overwrite real customers, load, index.

A SQLite demo is built in a new file next to the target and moved over it only when complete,
so a failed or interrupted build never leaves a half-built database. A PostgreSQL demo is
loaded with COPY inside one transaction, for the same reason.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import col

from core.db import NOTIFY_CHANNEL, is_sqlite, make_engine, sqlite_file, upgrade_database
from core.demo.generator import DemoPlan, TableRows, agents, generate, products
from core.demo.writer import Progress, pg_records, sqlite_insert
from core.fastpath import postgres
from core.fastpath.sqlite import secondary_indexes
from core.models import Customer
from core.search.indexer import rebuild_index

LOADED_TABLES = (
    "customer", "contact_point", "holding", "purchase", "interaction", "nps_response",
    "loyalty_account",
)  # fmt: skip
"""The tables whose indexes are dropped while a demo is loaded, and built again after."""
BATCH_CHUNKS = 5
"""SQLite: commit after this many chunks of customers."""


class DatabaseNotEmpty(Exception):
    """The database already holds customers; a demo would overwrite them."""

    def __init__(self, customers: int) -> None:
        super().__init__(f"the database already holds {customers:,} customers")
        self.customers = customers


@dataclass
class DemoResult:
    customers: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


async def count_customers(url: str) -> int:
    """How many customers the (migrated) database at `url` holds."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(select(func.count(col(Customer.id))))
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def build_demo(
    url: str, plan: DemoPlan, replace: bool = False, progress: Progress | None = None
) -> DemoResult:
    """Fill the database at `url` with a demo customer base.

    Args:
        url: the database URL (SQLite or PostgreSQL).
        plan: how many customers, the seed and the last day of history.
        replace: allow replacing a database that already holds customers.
        progress: called with (stage, done, total) as the build advances.

    Returns:
        How many rows went into each table, and how long it took.

    Raises:
        DatabaseNotEmpty: the database holds customers and `replace` is False.
    """
    started = time.perf_counter()
    report: Progress = progress or (lambda _stage, _done, _total: None)
    await asyncio.to_thread(upgrade_database, url)
    existing = await count_customers(url)
    if existing and not replace:
        raise DatabaseNotEmpty(existing)
    if is_sqlite(url):
        result = await _build_sqlite(url, plan, report)
    else:
        result = await _build_postgres(url, plan, report)
    result.seconds = time.perf_counter() - started
    return result


def _count(totals: dict[str, int], table: str, added: int) -> None:
    totals[table] = totals.get(table, 0) + added


# --- SQLite -----------------------------------------------------------------------------


def _sqlite_file(url: str) -> Path:
    database = sqlite_file(url)
    if database is None:
        raise ValueError("a demo needs a SQLite file, not an in-memory database")
    return Path(database)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _in_load_order(create_index_sql: str) -> bool:
    """Whether rows arrive in this index's order (customer by customer), so that keeping it
    while loading only appends; other indexes are cheaper to build once at the end."""
    columns = create_index_sql[create_index_sql.index("(") + 1 :].strip()
    first = columns.split(",")[0].strip(' "`)')
    return first in {"customer_id", "external_id"}


def _load_sqlite(path: Path, plan: DemoPlan, report: Progress) -> dict[str, int]:
    """Bulk-load a freshly migrated file. Nobody else knows the file yet, so durability
    and the secondary indexes are switched off while loading and restored afterwards."""
    totals: dict[str, int] = {}
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")
        connection.execute("PRAGMA temp_store=MEMORY")
        indexes = [
            (name, sql)
            for name, _, sql in secondary_indexes(connection, LOADED_TABLES)
            if not _in_load_order(sql)
        ]
        for name, _sql in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        connection.execute("BEGIN")
        for fixed in (products(), agents(plan)):
            _count(totals, fixed.table, sqlite_insert(connection, fixed))
        done = 0
        report("customers", 0, plan.customers)
        for index, (size, tables) in enumerate(generate(plan), start=1):
            for rows in tables:
                _count(totals, rows.table, sqlite_insert(connection, rows))
            done += size
            if index % BATCH_CHUNKS == 0:
                connection.execute("COMMIT")
                connection.execute("BEGIN")
            report("customers", done, plan.customers)
        connection.execute("COMMIT")
        for step, (_name, sql) in enumerate(indexes, start=1):
            report("indexes", step - 1, len(indexes))
            connection.execute(sql)
        report("indexes", len(indexes), len(indexes))
        connection.execute("PRAGMA analysis_limit=1000")
        connection.execute("ANALYZE")
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()
    return totals


async def _build_sqlite(url: str, plan: DemoPlan, report: Progress) -> DemoResult:
    target = _sqlite_file(url)
    building = target.with_name(target.name + ".building")
    building_url = make_url(url).set(database=str(building)).render_as_string(hide_password=False)
    await asyncio.to_thread(_remove_sqlite, building)
    try:
        await asyncio.to_thread(upgrade_database, building_url)
        totals = await asyncio.to_thread(_load_sqlite, building, plan, report)
        await _rebuild_search_index(building_url, plan.customers, report)
        await asyncio.to_thread(_swap_in, building, target)
    except BaseException:
        await asyncio.to_thread(_remove_sqlite, building)
        raise
    return DemoResult(customers=plan.customers, rows=totals)


def _checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the file and empty it, so no stale log outlives it."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def _swap_in(building: Path, target: Path) -> None:
    _checkpoint(building)
    for suffix in ("-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    if target.exists():
        _checkpoint(target)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(building, target)


async def _rebuild_search_index(url: str, customers: int, report: Progress) -> None:
    engine = make_engine(url)
    try:
        report("search index", 0, customers)
        indexed = await rebuild_index(
            engine, lambda done, total: report("search index", done, total)
        )
        report("search index", indexed, indexed)
    finally:
        await engine.dispose()


# --- PostgreSQL -------------------------------------------------------------------------


async def _build_postgres(url: str, plan: DemoPlan, report: Progress) -> DemoResult:
    connection = await postgres.connect(url)
    totals: dict[str, int] = {}

    async def copy_rows(rows: TableRows) -> None:
        if len(rows):
            await connection.copy_records_to_table(
                rows.table, records=pg_records(rows), columns=list(rows.columns)
            )
        _count(totals, rows.table, len(rows))

    try:
        async with connection.transaction():
            names = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            )
            tables = ", ".join(f'"{row["tablename"]}"' for row in names)
            await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            for fixed in (products(), agents(plan)):
                await copy_rows(fixed)
            done = 0
            report("customers", 0, plan.customers)
            for size, chunk in generate(plan):
                for rows in chunk:
                    await copy_rows(rows)
                done += size
                report("customers", done, plan.customers)
            for table in ("customer", "product", "agent"):
                await connection.execute(postgres.continue_ids(table))
            await connection.execute(
                "INSERT INTO change_event (at, topic, key) "
                "VALUES (now() AT TIME ZONE 'UTC', 'customer', 'demo')"
            )
            await connection.execute("SELECT pg_notify($1, 'customer:demo')", NOTIFY_CHANNEL)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    await _rebuild_search_index(url, plan.customers, report)
    return DemoResult(customers=plan.customers, rows=totals)
