"""Rebuilding the index on PostgreSQL (COPY, constraints rebuilt) and on SQLite in memory.

See core.search.rebuild; the rows come from core.search.rebuild.plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from asyncpg.exceptions import LockNotAvailableError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.fastpath.postgres import continue_ids
from core.lock_holders import DatabaseLocked, locked_message
from core.search.keys import BUMP, contact_rows
from core.search.rebuild.plan import (
    COLUMNS,
    CONTACTS_SQL,
    LOW_MASK,
    NAME_BITS,
    RANKED_SQL,
    TABLES,
    NamePlan,
    Progress,
    plan_contacts,
    plan_names,
)

WRITE_BATCH = 200_000
Rows = Sequence[tuple[Any, ...]]


def _plan_tables(plan: NamePlan, contacts: list[tuple[str, str, int]]) -> list[tuple[str, Any]]:
    """(table, rows) in the order to write them; big tables as tuples of column arrays."""
    return [
        (
            "search_word",
            [(i, w, d) for i, (w, d) in enumerate(zip(plan.words, plan.df, strict=True), 1)],
        ),
        (
            "search_name",
            [
                (i, k, s)
                for i, (k, s) in enumerate(zip(plan.keys, plan.sorted_keys, strict=True), 1)
            ],
        ),
        (
            "search_posting",
            (
                plan.posting >> NAME_BITS,
                plan.posting & LOW_MASK,
                plan.signatures[plan.posting & LOW_MASK],
            ),
        ),
        ("search_name_word", (plan.name_word >> NAME_BITS, plan.name_word & LOW_MASK)),
        ("search_name_customer", (plan.name_ids, plan.customer_ids)),
        ("search_contact", contacts),
    ]


def _batches(rows: Any) -> Iterable[list[tuple[Any, ...]]]:
    if isinstance(rows, tuple):  # columns as arrays
        for start in range(0, len(rows[0]), WRITE_BATCH):
            stop = start + WRITE_BATCH
            yield list(zip(*(column[start:stop].tolist() for column in rows), strict=True))
        return
    for start in range(0, len(rows), WRITE_BATCH):
        yield rows[start : start + WRITE_BATCH]


# PostgreSQL: contact keys for plain phones and emails are computed by the server
# (reverse(), lower(), split_part() agree with Python there); the others in Python.
_PG_PLAIN_PHONE = "kind = 'phone' AND normalized ~ '^[0-9]+$'"
_PG_PLAIN_EMAIL = "kind = 'email' AND normalized ~ '^[!-~]+$'"
_PG_ODD_CONTACTS = (
    "SELECT customer_id, kind, normalized FROM contact_point "
    f"WHERE kind IN ('phone', 'email') AND NOT ({_PG_PLAIN_PHONE}) AND NOT ({_PG_PLAIN_EMAIL})"
)
_PG_CONTACTS = (
    "INSERT INTO search_contact (kind, key, customer_id) "
    "SELECT DISTINCT kind, key, customer_id FROM ("
    "SELECT 'p' AS kind, reverse(normalized) AS key, customer_id FROM contact_point "
    f"WHERE {_PG_PLAIN_PHONE} UNION ALL "
    "SELECT 'e', lower(split_part(normalized, '@', 1)), customer_id FROM contact_point "
    f"WHERE {_PG_PLAIN_EMAIL} UNION ALL "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::int[])) AS found WHERE key <> ''"
)
_PG_CONSTRAINTS = (
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = ANY($1::regclass[]) AND contype IN ('p', 'u') ORDER BY conname"
)
_PG_INDEXES = (
    "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
    "WHERE indrelid = ANY($1::regclass[]) AND NOT EXISTS "
    "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1"
)


async def rebuild_postgres(engine: AsyncEngine, progress: Progress, lock_wait: float = 30.0) -> int:
    """The index in one transaction: emptied, constraints and indexes dropped, filled (COPY
    and one INSERT ... SELECT), then constraints and indexes built again from their very
    definitions (one sort each instead of a B-tree insert per row). Raises DatabaseLocked,
    naming who holds the tables, after `lock_wait` seconds without their locks."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        db: Any = raw.driver_connection  # asyncpg
        progress.total = int(await db.fetchval("SELECT count(*) FROM customer"))
        progress(0.0)
        odd = sorted(
            {
                row
                for cid, kind, normalized in await db.fetch(_PG_ODD_CONTACTS)
                for row in contact_rows(cid, kind, normalized)
            }
        )
        ranked = await db.fetch(RANKED_SQL)
        ids = np.fromiter((row[0] for row in ranked), dtype=np.int64, count=len(ranked))
        plan = plan_names(ids, [row[1] for row in ranked])
        del ranked, ids
        progress(0.4)
        tables = _plan_tables(plan, [])[:-1]
        rows_total = plan.rows
        del plan
        try:
            await _rebuild_tables(db, odd, tables, rows_total, progress, lock_wait)
        except LockNotAvailableError as error:
            holders = [
                f"process {pid} ({name or 'no name'}: {(query or '')[:60]})"
                for pid, name, query in await db.fetch(_PG_LOCK_HOLDERS, list(TABLES))
            ]
            raise DatabaseLocked(locked_message(holders, lock_wait)) from error
        # VACUUM, not only ANALYZE: it sets the visibility map, so the searches' index-only
        # scans of postings and name words stop visiting the heap for every row.
        await db.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
        return progress.total


_PG_LOCK_HOLDERS = (
    "SELECT DISTINCT a.pid, a.application_name, a.query FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.granted AND a.pid <> pg_backend_pid() AND l.relation IN "
    "(SELECT oid FROM pg_class WHERE relname = ANY($1::text[]))"
)


async def _rebuild_tables(
    db: Any,
    odd: list[tuple[str, str, int]],
    tables: list[tuple[str, Any]],
    rows_total: int,
    progress: Progress,
    lock_wait: float,
) -> None:
    """rebuild_postgres's one transaction; it waits `lock_wait` seconds at most for the
    tables' locks (LockNotAvailableError)."""
    written = 0
    async with db.transaction():
        await db.execute("SET LOCAL maintenance_work_mem = '256MB'")
        await db.execute(f"SET LOCAL lock_timeout = '{int(lock_wait * 1000)}ms'")
        await db.execute(f"TRUNCATE {', '.join(TABLES)}")
        constraints = await db.fetch(_PG_CONSTRAINTS, list(TABLES))
        indexes = await db.fetch(_PG_INDEXES, list(TABLES))
        for name, _ in indexes:
            await db.execute(f"DROP INDEX {name}")
        for table, name, _ in constraints:
            await db.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        await db.execute(
            _PG_CONTACTS,
            [row[0] for row in odd],
            [row[1] for row in odd],
            [row[2] for row in odd],
        )
        progress(0.5)
        for table, rows in tables:
            for batch in _batches(rows):
                await db.copy_records_to_table(table, records=batch, columns=list(COLUMNS[table]))
                written += len(batch)
                progress(0.5 + 0.3 * written / max(rows_total, 1))
        for table, name, definition in constraints:
            await db.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            await db.execute(definition)
        progress(0.9)
        for table in ("search_word", "search_name"):
            await db.execute(continue_ids(table))
        for key in ("generation", "words"):
            await db.execute(
                "INSERT INTO search_meta (key, value) VALUES ($1, 1) "
                "ON CONFLICT (key) DO UPDATE SET value = search_meta.value + 1",
                key,
            )


async def rebuild_in_memory(engine: AsyncEngine, progress: Progress) -> int:
    async with engine.connect() as conn:
        progress.total = int(
            (await conn.execute(text("SELECT count(*) FROM customer"))).scalar_one()
        )
        progress(0.0)
        contacts = plan_contacts((await conn.execute(text(CONTACTS_SQL))).all())
        progress(0.2)
        ranked = (await conn.execute(text(RANKED_SQL))).all()
        ids = np.fromiter((row[0] for row in ranked), dtype=np.int64, count=len(ranked))
        plan = plan_names(ids, [row[1] for row in ranked])
        del ranked
        await conn.commit()
        progress(0.5)
        tables = _plan_tables(plan, contacts)
        rows_total = plan.rows + len(contacts)
        del plan, contacts
        written = 0
        postgres = conn.dialect.name == "postgresql"
        async with conn.begin():
            if postgres:
                await conn.execute(text(f"TRUNCATE {', '.join(TABLES)}"))
            else:
                for table in TABLES:
                    await conn.execute(text(f"DELETE FROM {table}"))
            for table, rows in tables:
                for batch in _batches(rows):
                    await _write(conn, table, batch, postgres)
                    written += len(batch)
                    progress(0.5 + 0.45 * written / max(rows_total, 1))
            if postgres:
                for table in ("search_word", "search_name"):
                    await conn.execute(text(continue_ids(table)))
            for key in ("generation", "words"):
                await conn.execute(BUMP, {"key": key})
        if postgres:
            # VACUUM, not only ANALYZE: it sets the visibility map, so the searches' index-only
            # scans of postings and name words stop visiting the heap for every row.
            raw = await conn.get_raw_connection()
            vacuum: Any = raw.driver_connection  # asyncpg, outside any transaction
            await vacuum.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
            return progress.total
        for table in TABLES:
            await conn.execute(text(f"ANALYZE {table}"))
        await conn.commit()
        return progress.total


async def _write(conn: AsyncConnection, table: str, rows: Rows, postgres: bool) -> None:
    columns = COLUMNS[table]
    if postgres:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection  # asyncpg
        await driver.copy_records_to_table(table, records=list(rows), columns=list(columns))
        return
    marks = ", ".join("?" for _ in columns)
    await conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", list(rows)
    )
