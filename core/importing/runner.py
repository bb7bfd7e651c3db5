"""Running an import: parse, write in batches (each batch one transaction), collect rejects.

A row is written whole or not at all: a customer and their phones and emails go in the same
transaction. If the database refuses a batch, it is halved until the offending rows are
alone and rejected. A dry run does all of it and rolls every transaction back.

Customers not indexed batch by batch (a big file, a dry run) take the bulk path
(core.importing.customer_bulk); everything else is parsed row by row and written through a
session (core.importing.batches). A big customers file is indexed for search once, at the end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import sqlite_file
from core.i18n import words as _
from core.importing.activity import InteractionImport, TransactionImport
from core.importing.base import ImportKind, Reject
from core.importing.batches import import_in_batches
from core.importing.busy import LockWait, telling_waits
from core.importing.customer_bulk import import_customers_on_postgres, import_customers_on_sqlite
from core.importing.customers import CustomerImport
from core.importing.rejects import RejectsFile
from core.importing.results import ImportInterrupted, ImportProgress, ImportResult
from core.importing.source import UnreadableFile, open_source
from core.search.indexer import rebuild_index

if TYPE_CHECKING:
    from core.analytics.service import AnalyticsService

KINDS = ("customers", "interactions", "transactions")
BATCH_ROWS = 5000
"""Rows per transaction through a session (small imports, transactions, interactions)."""
BULK_BATCH_ROWS = 25_000
"""Rows per transaction of a big customers import: on SQLite, enough that commits cost little
per row, few enough that the write lock is held about a second (other processes' writers
wait for it up to core.db's busy timeout, 5 s)."""
BULK_INDEX_FROM = 50_000
"""A customers file with at least this many rows is indexed for search once, at the end..."""
BULK_INDEX_SHARE = 5
"""...provided it also has at least a fifth as many rows as there are customers already:
rebuilding costs about a fifth of indexing batch by batch per customer, but covers them all."""


def make_kind(
    kind: str, tz: tzinfo | None, analytics: AnalyticsService | None = None
) -> ImportKind:
    if kind == "customers":
        return CustomerImport(tz)
    if kind == "transactions":
        if analytics is None:
            raise ValueError(
                "importing transactions refreshes the customers' figures: hand in the"
                " configured analytics service (Services.analytics)"
            )
        return TransactionImport(tz, analytics)
    if kind == "interactions":
        return InteractionImport(tz)
    raise ValueError(
        _("unknown kind of import {kind!r} (one of {value})").format(
            kind=kind, value=", ".join(KINDS)
        )
    )


def default_rejects_path(path: Path, fallback_dir: Path) -> Path:
    """`FILE.rejects.csv` next to the file, or in `fallback_dir` when that folder is read-only."""
    beside = path.with_name(f"{path.stem}.rejects.csv")
    parent = beside.parent
    if parent.exists() and _writable(parent):
        return beside
    return fallback_dir / "rejects" / beside.name


def _writable(directory: Path) -> bool:
    return os.access(directory, os.W_OK)


async def import_file(
    engine: AsyncEngine,
    kind: str,
    path: Path,
    *,
    rejects_path: Path | None,
    dry_run: bool = False,
    tz: tzinfo | None = None,
    progress: ImportProgress | None = None,
    batch_rows: int | None = None,
    index_progress: ImportProgress | None = None,
    bulk_index_from: int = BULK_INDEX_FROM,
    analytics: AnalyticsService | None = None,
    lock_wait: Callable[[str], None] | None = None,
) -> ImportResult:
    """Import a CSV file of customers, interactions or transactions.

    Args:
        engine: the database.
        kind: "customers", "interactions" or "transactions".
        path: the CSV file.
        rejects_path: where rejected rows go (created only if a row is rejected); None
            writes no rejects file.
        dry_run: check and write everything, then roll back: the database is left as it was.
        tz: the zone of times without an offset; None means this machine's local zone.
        progress: called with (lines done, lines in the file).
        batch_rows: rows per transaction (default BATCH_ROWS, or BULK_BATCH_ROWS for a big
            customers import on SQLite).
        index_progress: called with (customers indexed, customers in all) while the search
            index is rebuilt after a big customers import.
        bulk_index_from: a customers file with at least this many rows (and at least a fifth
            as many as the customers already stored) is not indexed batch by batch: the whole
            search index is rebuilt once at the end. Until then other consoles find the
            customers as they were before the import.
        analytics: the configured analytics service (`Services.analytics`); required for
            transactions, whose customers' stored figures it refreshes per its settings.
        lock_wait: told once, in words, when a batch finds SQLite locked by another program
            and the import waits for it (up to busy.LOCK_PATIENCE_SECONDS).

    Returns:
        How many rows were imported and rejected, and where the rejects are.

    Raises:
        UnreadableFile: the file could not be read at all; nothing was imported.
        ImportInterrupted: the database failed part-way; its `result` tells what was
            committed before (and stays imported).
    """
    started = time.perf_counter()
    importer = make_kind(kind, tz, analytics)
    source = open_source(path, importer.required)
    bulk_index = (
        isinstance(importer, CustomerImport)
        and not dry_run
        and await _worth_indexing_in_bulk(engine, source.lines - 1, bulk_index_from)
    )
    if isinstance(importer, CustomerImport) and (bulk_index or dry_run):
        importer.index_now = False  # a dry run rolls the index back anyway
    rejects = RejectsFile(source, rejects_path)
    for line, raw, reason in source.malformed:  # before the rows parsed after them
        rejects.add(Reject(line, raw.split(source.delimiter), reason))
    result = ImportResult()
    database = sqlite_file(engine.url)
    in_bulk = isinstance(importer, CustomerImport) and not importer.index_now
    with telling_waits(LockWait(lock_wait, database) if lock_wait else None):
        try:
            if in_bulk and database:
                assert isinstance(importer, CustomerImport)
                await import_customers_on_sqlite(
                    database, importer, source, rejects, result, dry_run, progress,
                    batch_rows or BULK_BATCH_ROWS,
                )  # fmt: skip
            elif in_bulk and engine.dialect.name == "postgresql":
                assert isinstance(importer, CustomerImport)
                await import_customers_on_postgres(
                    engine, importer, source, rejects, result, dry_run, progress,
                    batch_rows or BULK_BATCH_ROWS,
                )  # fmt: skip
            else:
                await import_in_batches(
                    engine, importer, source, rejects, result, dry_run, progress,
                    batch_rows or BATCH_ROWS,
                )  # fmt: skip
        except BaseException as error:
            if bulk_index and result.imported:  # what was committed must be findable
                await _rebuild_quietly(engine)
            if isinstance(error, Exception):
                result.rejected, result.rejects = rejects.count, rejects.shown
                result.rejects_file = rejects.written
                raise ImportInterrupted(result, error) from error
            raise
        finally:
            rejects.close()
    if bulk_index and result.imported:
        await rebuild_index(engine, index_progress)
    if progress is not None:
        progress(source.lines, source.lines)
    result.rejected = rejects.count
    result.rejects = rejects.shown
    result.rejects_file = rejects.written
    result.seconds = time.perf_counter() - started
    return result


async def _worth_indexing_in_bulk(engine: AsyncEngine, rows: int, bulk_from: int) -> bool:
    if rows < bulk_from:
        return False
    async with engine.connect() as connection:
        stored = int((await connection.execute(text("SELECT COUNT(*) FROM customer"))).scalar_one())
    return rows * BULK_INDEX_SHARE >= stored


async def _rebuild_quietly(engine: AsyncEngine) -> None:
    try:
        await rebuild_index(engine)
    except Exception:  # the import's own error is the one to report
        pass


__all__ = [
    "KINDS", "ImportInterrupted", "ImportResult", "UnreadableFile", "default_rejects_path",
    "import_file",
]  # fmt: skip
