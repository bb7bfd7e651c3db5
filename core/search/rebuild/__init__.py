"""Rebuilding the whole search index in bulk: read every customer once, write sorted rows.

Names (`plan.plan_names`): the customers come most recently active first, each distinct (first
name, surnames) is folded once, and the per-posting work (word ids, pair pseudo-words,
document frequencies, sorting) is done on numpy arrays, not on millions of Python tuples.

SQLite (`sqlite.rebuild_sqlite`), one transaction, four threads: two read (SQLite gathers the
emails' keys, the phones and the customers in rank order as single values, in C without the
GIL), this one sorts and computes rows, and a writer with its own connection fills the tables
from JSON arrays that SQLite unpacks itself (`json_each`: in C, without the GIL, so it runs on
the other core meanwhile). The tables' secondary indexes are dropped inside the transaction
and created again from the very statements the schema held once their rows are in (one sort
instead of an index update per row); every table is filled in key order. Searches in other
processes read the old index until the transaction commits.

PostgreSQL (`postgres.rebuild_postgres`): the server keys plain phones and emails itself; names
go in with COPY; constraints and indexes are dropped inside the transaction and built again
from their own definitions. The tables are truncated, so searches wait for the rebuild to
finish.

This package is the only part of search that loads numpy: the query side never imports it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import sqlite_file
from core.search.rebuild.plan import Progress
from core.search.rebuild.postgres import rebuild_in_memory, rebuild_postgres
from core.search.rebuild.sqlite import rebuild_sqlite


async def rebuild(
    engine: AsyncEngine, callback: Callable[[int, int], None] | None, lock_wait: float = 30.0
) -> int:
    """See core.search.indexer.rebuild_index."""
    progress = Progress(callback)
    database = sqlite_file(engine.url)
    if database is not None:
        total = await asyncio.to_thread(rebuild_sqlite, database, progress, lock_wait)
    elif engine.dialect.name == "postgresql":
        total = await rebuild_postgres(engine, progress, lock_wait)
    else:
        total = await rebuild_in_memory(engine, progress)
    progress(1.0)
    return total
