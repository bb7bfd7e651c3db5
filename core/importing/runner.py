"""Running an import: parse, write in batches (each batch one transaction), collect rejects.

A row is written whole or not at all: a customer and their phones and emails go in the same
transaction. If the database refuses a batch, its rows are retried one by one so that only
the offending rows are rejected. A dry run does all of it and rolls every transaction back.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import make_sessions
from core.importing.activity import InteractionImport, TransactionImport
from core.importing.base import ImportKind, Reject, Row
from core.importing.customers import CustomerImport
from core.importing.fields import RowError
from core.importing.source import CsvSource, UnreadableFile, open_source, records
from core.search.indexer import rebuild_index

KINDS = ("customers", "interactions", "transactions")
BATCH_ROWS = 5000
BULK_INDEX_FROM = 50_000
"""A customers file with at least this many rows is indexed for search once, at the end..."""
BULK_INDEX_SHARE = 5
"""...provided it also has at least a fifth as many rows as there are customers already:
rebuilding costs about a fifth of indexing batch by batch per customer, but covers them all."""
SQLITE_CACHE_KIB = 256 * 1024

ImportProgress = Callable[[int, int], None]
"""progress(lines done, lines in the file)."""


@dataclass
class ImportResult:
    imported: int = 0
    rejected: int = 0
    rejects_file: Path | None = None
    rejects: list[Reject] = field(default_factory=list)
    """The first rejects, for showing on screen (all of them are in the rejects file)."""
    seconds: float = 0.0


def make_kind(kind: str, tz: tzinfo | None) -> ImportKind:
    if kind == "customers":
        return CustomerImport(tz)
    if kind == "transactions":
        return TransactionImport(tz)
    if kind == "interactions":
        return InteractionImport(tz)
    raise ValueError(f"unknown kind of import {kind!r} (one of {', '.join(KINDS)})")


def default_rejects_path(path: Path, fallback_dir: Path) -> Path:
    """`FILE.rejects.csv` next to the file, or in `fallback_dir` when that folder is read-only."""
    beside = path.with_name(f"{path.stem}.rejects.csv")
    parent = beside.parent
    if parent.exists() and _writable(parent):
        return beside
    return fallback_dir / "rejects" / beside.name


def _writable(directory: Path) -> bool:
    return os.access(directory, os.W_OK)


class _RejectsFile:
    """Rejected rows with the file's own columns plus `line` and `reason`, opened on first use."""

    def __init__(self, source: CsvSource, path: Path | None) -> None:
        self.source = source
        self.path = path
        self._file: TextIO | None = None
        self._writer: Any = None
        self.shown: list[Reject] = []
        self.count = 0

    def add(self, reject: Reject) -> None:
        self.count += 1
        if len(self.shown) < 100:
            self.shown.append(reject)
        if self.path is None:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            encoding = "utf-8-sig" if self.source.has_bom else "utf-8"
            handle = self.path.open("w", encoding=encoding, newline="")
            self._file = handle
            self._writer = csv.writer(handle, delimiter=self.source.delimiter)
            self._writer.writerow([*self.source.header, "line", "reason"])
        self._writer.writerow([*reject.fields, reject.line, reject.reason])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    @property
    def written(self) -> Path | None:
        return self.path if self._file is not None else None


async def import_file(
    engine: AsyncEngine,
    kind: str,
    path: Path,
    *,
    rejects_path: Path | None,
    dry_run: bool = False,
    tz: tzinfo | None = None,
    progress: ImportProgress | None = None,
    batch_rows: int = BATCH_ROWS,
    index_progress: ImportProgress | None = None,
    bulk_index_from: int = BULK_INDEX_FROM,
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
        batch_rows: rows per transaction.
        index_progress: called with (customers indexed, customers in all) while the search
            index is rebuilt after a big customers import.
        bulk_index_from: a customers file with at least this many rows (and at least a fifth
            as many as the customers already stored) is not indexed batch by batch: the whole
            search index is rebuilt once at the end. Until then other consoles find the
            customers as they were before the import.

    Returns:
        How many rows were imported and rejected, and where the rejects are.

    Raises:
        UnreadableFile: the file could not be read at all; nothing was imported.
    """
    started = time.perf_counter()
    importer = make_kind(kind, tz)
    source = open_source(path, importer.required)
    bulk_index = (
        isinstance(importer, CustomerImport)
        and not dry_run
        and await _worth_indexing_in_bulk(engine, source.lines - 1, bulk_index_from)
    )
    if isinstance(importer, CustomerImport) and (bulk_index or dry_run):
        importer.index_now = False  # a dry run rolls the index back anyway
    rejects = _RejectsFile(source, rejects_path)
    sessions = make_sessions(engine)
    result = ImportResult()
    width = len(source.columns)
    batch: list[Row] = []
    last_line = 1

    pending: list[Reject] = []

    async def flush() -> None:
        written = await _write_batch(sessions, importer, batch, dry_run) if batch else []
        refused = {r.line for r in written}
        for reject in sorted(pending + written, key=lambda r: r.line):  # file order
            rejects.add(reject)
        result.imported += sum(1 for row in batch if row.line not in refused)
        batch.clear()
        pending.clear()
        if progress is not None:
            progress(last_line, source.lines)

    try:
        for line, fields in records(source):
            last_line = line
            try:
                if len(fields) > width and any(f.strip() for f in fields[width:]):
                    raise RowError(f"{len(fields)} fields but the header has {width} columns")
                row = dict(zip(source.columns, fields, strict=False))
                batch.append(Row(line, fields, importer.parse(row)))
            except RowError as error:
                pending.append(Reject(line, fields, str(error)))
            if len(batch) + len(pending) >= batch_rows:
                await flush()
        await flush()
    except Exception:
        if bulk_index and result.imported:  # what was committed must be findable all the same
            await _rebuild_quietly(engine)
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


async def _write_batch(
    sessions: async_sessionmaker[AsyncSession],
    importer: ImportKind,
    batch: list[Row],
    dry_run: bool,
) -> list[Reject]:
    try:
        return await _attempt(sessions, importer, batch, dry_run)
    except (IntegrityError, DataError) as error:
        if len(batch) == 1:
            reason = str(error.orig if error.orig is not None else error).splitlines()[0]
            return [Reject(batch[0].line, batch[0].fields, f"refused by the database: {reason}")]
    refused: list[Reject] = []
    for row in batch:  # find the rows the database refuses, keep the others
        refused += await _write_batch(sessions, importer, [row], dry_run)
    return refused


async def _attempt(
    sessions: async_sessionmaker[AsyncSession],
    importer: ImportKind,
    batch: list[Row],
    dry_run: bool,
) -> list[Reject]:
    async with sessions() as session:
        await session.begin()
        try:
            if session.get_bind().dialect.name == "sqlite":
                # A big import touches index pages all over a big file: SQLite's default
                # 2 MB page cache would send most of them to disk and back.
                await session.execute(text(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}"))
            refused = await importer.write(session, batch)
        except BaseException:
            await session.rollback()
            raise
        if dry_run:
            await session.rollback()
        else:
            await session.commit()
        return refused


__all__ = ["KINDS", "ImportResult", "UnreadableFile", "default_rejects_path", "import_file"]
