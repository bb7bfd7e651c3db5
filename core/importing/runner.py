"""Running an import: parse, write in batches (each batch one transaction), collect rejects.

A row is written whole or not at all: a customer and their phones and emails go in the same
transaction. If the database refuses a batch, it is halved until the offending rows are
alone and rejected. A dry run does all of it and rolls every transaction back.

Customers not indexed batch by batch (a big file, a dry run) take a bulk path: the file is
cut into chunks, parsed column by column (by worker processes for a big file,
core.importing.parallel) while the chunks already parsed are written, on SQLite by a
connection of the importer's own (sqlite_write.BulkWriter), on PostgreSQL with COPY
(postgres_write). Everything else is parsed here row by row and written through a session.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import sqlite3
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any, TextIO

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import SQLITE_BUSY_TIMEOUT_MS, make_sessions, sqlite_file
from core.importing import postgres_write
from core.importing.activity import InteractionImport, TransactionImport
from core.importing.base import ImportKind, Reject, Row
from core.importing.customer_rows import ColumnParser, ParsedChunk, iter_chunks
from core.importing.customers import CustomerImport
from core.importing.fields import RowError
from core.importing.parallel import ParsePool, WorkerFailed, split_points
from core.importing.source import CsvSource, UnreadableFile, open_source, records
from core.importing.sqlite_write import BulkWriter
from core.models.types import utcnow
from core.search.indexer import rebuild_index

KINDS = ("customers", "interactions", "transactions")
BATCH_ROWS = 5000
"""Rows per transaction through a session (small imports, transactions, interactions)."""
BULK_BATCH_ROWS = 25_000
"""Rows per transaction of a big customers import: on SQLite, enough that commits cost little
per row, few enough that the write lock is held about a second (other processes' writers
wait for it up to core.db's busy timeout, 5 s)."""
YIELD_EVERY = 500
"""Parsing lets the event loop run this often, so the batch being written is not held up."""
PARALLEL_FROM = 20_000
"""A customers file with at least this many lines is parsed by worker processes."""
PARSE_WORKERS = max(1, min(3, (os.cpu_count() or 1) - 1))
"""Worker processes parsing: this process takes a core of its own to write."""
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
    batch_rows: int | None = None,
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
        batch_rows: rows per transaction (default BATCH_ROWS, or BULK_BATCH_ROWS for a big
            customers import on SQLite).
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
    for line, raw, reason in source.malformed:  # before the rows parsed after them
        rejects.add(Reject(line, raw.split(source.delimiter), reason))
    result = ImportResult()
    database = sqlite_file(engine.url)
    in_bulk = isinstance(importer, CustomerImport) and not importer.index_now
    if in_bulk and (database or engine.dialect.name == "postgresql"):
        assert isinstance(importer, CustomerImport)
        rows = batch_rows or BULK_BATCH_ROWS
        try:
            if database:
                await _import_customers_in_bulk(
                    database, importer, source, rejects, result, dry_run, progress, rows
                )
            else:
                await _import_customers_with_copy(
                    engine, importer, source, rejects, result, dry_run, progress, rows
                )
        except BaseException:
            if bulk_index and result.imported:  # what was committed must be findable
                await _rebuild_quietly(engine)
            raise
        finally:
            rejects.close()
    else:
        await _import_in_batches(
            engine, importer, source, rejects, result, dry_run, progress,
            batch_rows or BATCH_ROWS, bulk_index,
        )  # fmt: skip
    if bulk_index and result.imported:
        await rebuild_index(engine, index_progress)
    if progress is not None:
        progress(source.lines, source.lines)
    result.rejected = rejects.count
    result.rejects = rejects.shown
    result.rejects_file = rejects.written
    result.seconds = time.perf_counter() - started
    return result


async def _import_in_batches(
    engine: AsyncEngine,
    importer: ImportKind,
    source: CsvSource,
    rejects: _RejectsFile,
    result: ImportResult,
    dry_run: bool,
    progress: ImportProgress | None,
    batch_rows: int,
    bulk_index: bool,
) -> None:
    """Parse here and write each batch through a session, in its own transaction."""
    sessions = make_sessions(engine)
    width = len(source.columns)
    parse = _row_parser(importer, source.columns)
    batch: list[Row] = []
    pending: list[Reject] = []
    writing: asyncio.Task[list[Reject]] | None = None
    written_batch: list[Row] = []
    written_pending: list[Reject] = []
    written_line = 1

    async def settle() -> None:
        """Wait for the batch being written and account for it (rejects in file order)."""
        nonlocal writing
        if writing is None:
            return
        task, writing = writing, None
        refused = await task
        lines = {r.line for r in refused}
        for reject in sorted(written_pending + refused, key=lambda r: r.line):
            rejects.add(reject)
        result.imported += len(written_batch) - sum(1 for row in written_batch if row.line in lines)
        if progress is not None:
            progress(written_line, source.lines)

    async def flush(last_line: int) -> None:
        # The batch is written while the next one is parsed: the database work runs on the
        # driver's thread (SQLite) or in the server (PostgreSQL), the parsing here.
        nonlocal writing, batch, pending, written_batch, written_pending, written_line
        await settle()
        written_batch, written_pending, written_line = batch, pending, last_line
        batch, pending = [], []
        writing = asyncio.create_task(_write_batch(sessions, importer, written_batch, dry_run))
        await asyncio.sleep(0)  # let it start

    line = 1
    try:
        for line, fields in records(source):
            try:
                if len(fields) > width and any(f.strip() for f in fields[width:]):
                    raise RowError(f"{len(fields)} fields but the header has {width} columns")
                batch.append(Row(line, fields, parse(fields)))
            except RowError as error:
                pending.append(Reject(line, fields, str(error)))
            queued = len(batch) + len(pending)
            if queued >= batch_rows:
                await flush(line)
            elif queued % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # the write under way moves on between its steps
        await flush(line)
        await settle()
    except BaseException:
        if writing is not None:  # never leave a transaction running behind our back
            with contextlib.suppress(BaseException):
                await writing
        if bulk_index and result.imported:  # what was committed must be findable all the same
            await _rebuild_quietly(engine)
        raise
    finally:
        rejects.close()


async def _import_customers_in_bulk(
    database: str,
    importer: CustomerImport,
    source: CsvSource,
    rejects: _RejectsFile,
    result: ImportResult,
    dry_run: bool,
    progress: ImportProgress | None,
    batch_rows: int,
) -> None:
    """A customers file on SQLite, not indexed batch by batch: worker processes parse pieces
    of the file while a thread here writes the pieces already parsed, each in one
    transaction on a connection of its own (sqlite_write.BulkWriter)."""
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="frontline-import")
    writing: asyncio.Future[None] | None = None
    written: ParsedChunk | None = None

    async def settle() -> None:
        nonlocal writing
        if writing is None or written is None:
            return
        task, writing = writing, None
        await _settle(loop, executor, writer, written, task, dry_run, rejects, result)
        if progress is not None:
            progress(written.last_line, source.lines)

    try:
        writer = await loop.run_in_executor(
            executor, BulkWriter, database, SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_KIB
        )
        try:
            async with contextlib.aclosing(_parsed(importer, source, batch_rows)) as chunks:
                async for chunk in chunks:
                    await settle()  # the chunk before was written while this one was parsed
                    written = chunk
                    writing = loop.run_in_executor(executor, writer.write_chunk, chunk, dry_run)
            await settle()
        except BaseException:
            if writing is not None:  # never leave a transaction running behind our back
                with contextlib.suppress(BaseException):
                    await writing
            raise
        finally:
            await loop.run_in_executor(executor, writer.close)
    finally:
        executor.shutdown(wait=True)


async def _import_customers_with_copy(
    engine: AsyncEngine,
    importer: CustomerImport,
    source: CsvSource,
    rejects: _RejectsFile,
    result: ImportResult,
    dry_run: bool,
    progress: ImportProgress | None,
    batch_rows: int,
) -> None:
    """A customers file on PostgreSQL, not indexed batch by batch: parsed as on SQLite (by
    worker processes for a big file), each chunk written in one transaction with COPY
    (postgres_write); the server works on a chunk while the next ones are parsed."""
    sessions = make_sessions(engine)
    async with contextlib.aclosing(_parsed(importer, source, batch_rows)) as chunks:
        async for chunk in chunks:
            refused = await _copy_chunk(engine, sessions, importer, chunk, dry_run)
            _account(chunk, refused, rejects, result)
            if progress is not None:
                progress(chunk.last_line, source.lines)


async def _copy_chunk(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    importer: CustomerImport,
    chunk: ParsedChunk,
    dry_run: bool,
) -> list[Reject]:
    if not chunk.lines:
        return []
    if not chunk.repeated:
        try:
            async with engine.connect() as connection, connection.begin() as transaction:
                # The driver's transaction starts with the first statement through SQLAlchemy.
                await connection.execute(text("SELECT 1"))
                raw = await connection.get_raw_connection()
                now = utcnow().replace(tzinfo=None)
                await postgres_write.write_chunk(raw.driver_connection, chunk, now)
                if dry_run:
                    await transaction.rollback()
            return []
        except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError):
            pass  # find the rows the database refuses, below
    # A customer twice in the chunk, or a refused chunk: row by row through the session
    # (the later row wins cell by cell; refused rows are found by halving).
    return await _write_batch(sessions, importer, _rows(chunk), dry_run)


def _rows(chunk: ParsedChunk) -> list[Row]:
    fields = chunk.fields()
    return [
        Row(line, fields[line], record)
        for line, record in zip(chunk.lines, chunk.rows(), strict=True)
    ]


def _account(
    chunk: ParsedChunk, refused: list[Reject], rejects: _RejectsFile, result: ImportResult
) -> None:
    """A written chunk's rejects (parse and database) in file order, and its count."""
    parsed = [Reject(line, fields, reason) for line, fields, reason in chunk.rejects]
    for reject in sorted(parsed + refused, key=lambda r: r.line):
        rejects.add(reject)
    result.imported += len(chunk.lines) - len(refused)


async def _settle(
    loop: asyncio.AbstractEventLoop,
    executor: ThreadPoolExecutor,
    writer: BulkWriter,
    chunk: ParsedChunk,
    writing: asyncio.Future[None],
    dry_run: bool,
    rejects: _RejectsFile,
    result: ImportResult,
) -> None:
    """Wait for a chunk's transaction and account for it (its rejects in file order); if the
    database refused it, find the rows it refuses and write the others."""
    refused: list[Reject] = []
    try:
        await writing
    except (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError):
        rows = _rows(chunk)

        async def attempt(part: list[Row]) -> list[Reject]:
            try:
                records = [row.values for row in part]
                await loop.run_in_executor(executor, writer.write_records, records, dry_run)
            except (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError) as error:
                if len(part) == 1:
                    reason = str(error).splitlines()[0]
                    return [
                        Reject(part[0].line, part[0].fields, f"refused by the database: {reason}")
                    ]
                middle = len(part) // 2
                return await attempt(part[:middle]) + await attempt(part[middle:])
            return []

        refused = await attempt(rows)
    _account(chunk, refused, rejects, result)


async def _parsed(
    importer: CustomerImport, source: CsvSource, batch_rows: int
) -> AsyncGenerator[ParsedChunk, None]:
    """The file's records in chunks of about `batch_rows`, in order: parsed by worker
    processes for a big file, here for a small one or when a worker cannot be used."""
    text = source.text
    start, first_line = _data_start(source)
    pool: ParsePool | None = None
    if source.lines > PARALLEL_FROM:
        try:
            pool = await ParsePool.start(
                PARSE_WORKERS, source.columns, source.delimiter, importer.tz, importer.today
            )
        except WorkerFailed:
            pool = None
    if pool is not None:
        try:
            size = max(1, len(text) * batch_rows // max(1, source.lines))
            pieces = deque(split_points(text, start, first_line, size))
            waiting: deque[tuple[int, int, asyncio.Future[ParsedChunk]]] = deque()
            while pieces or waiting:
                while pieces and len(waiting) < 2 * PARSE_WORKERS:
                    begin, end, line = pieces.popleft()
                    waiting.append((begin, line, pool.submit(text[begin:end], line)))
                begin, line, future = waiting.popleft()
                try:
                    chunk = await future
                except WorkerFailed:
                    chunk = None
                if chunk is None or not chunk.clean:
                    # A piece did not end between two records (or a worker stopped): parse
                    # from its start to the end here, where nothing is cut.
                    start, first_line = begin, line
                    for _, _, other in waiting:
                        other.cancel()
                    break
                yield chunk
            else:
                return
        finally:
            await pool.close()
    parser = ColumnParser(source.columns, importer.tz, importer.today)
    rest = text[start:] if start else text
    for chunk in iter_chunks(rest, first_line, source.delimiter, parser, batch_rows):
        yield chunk
        await asyncio.sleep(0)  # let the chunk before this one be written meanwhile


def _data_start(source: CsvSource) -> tuple[int, int]:
    """Where the first record after the header starts in the text, and on which line."""
    reader = csv.reader(io.StringIO(source.text), delimiter=source.delimiter)
    next(reader, None)
    header_lines = reader.line_num
    position = 0
    for _ in range(header_lines):
        found = source.text.find("\n", position)
        if found < 0:
            return len(source.text), header_lines + 1
        position = found + 1
    return position, header_lines + 1


def _row_parser(importer: ImportKind, columns: list[str]) -> Callable[[list[str]], Any]:
    """The kind's own fast parser of a record's fields, or one through `parse(dict)`."""
    make = getattr(importer, "parser", None)
    if make is not None:
        parser: Callable[[list[str]], Any] = make(columns)
        return parser

    def parse(fields: list[str]) -> Any:
        return importer.parse(dict(zip(columns, fields, strict=False)))

    return parse


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
    # Find the rows the database refuses and keep the others: halve the batch until the
    # refused rows are alone (a few refused rows among many cost a few dozen attempts).
    middle = len(batch) // 2
    refused = await _write_batch(sessions, importer, batch[:middle], dry_run)
    return refused + await _write_batch(sessions, importer, batch[middle:], dry_run)


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
