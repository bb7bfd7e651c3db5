"""Big customers files: cut into chunks, parsed column by column, written chunk by chunk.

Customers not indexed batch by batch (a big file, a dry run) take this path. Worker processes
parse pieces of the file (core.importing.parallel) while the chunks already parsed are written,
each in one transaction: on SQLite by a connection of the importer's own
(sqlite_write.BulkWriter), on PostgreSQL with COPY (postgres_write). A chunk the database
refuses is written again row by row, halving until the refused rows are alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import sqlite3
from collections import deque
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import SQLITE_BUSY_TIMEOUT_MS, make_sessions
from core.importing import postgres_write
from core.importing.base import Reject, Row
from core.importing.batches import SQLITE_CACHE_KIB, write_batch
from core.importing.busy import retry_busy_sync
from core.importing.customer_columns import ColumnParser, ParsedChunk, iter_chunks
from core.importing.customers import CustomerImport
from core.importing.parallel import ParsePool, WorkerFailed, split_points
from core.importing.rejects import RejectsFile
from core.importing.results import ImportProgress, ImportResult
from core.importing.source import CsvSource
from core.importing.sqlite_write import BulkWriter
from core.models.types import utcnow

PARALLEL_FROM = 20_000
"""A customers file with at least this many lines is parsed by worker processes."""
PARSE_WORKERS = max(1, min(3, (os.cpu_count() or 1) - 1))
"""Worker processes parsing: this process takes a core of its own to write."""


async def import_customers_on_sqlite(
    database: str,
    importer: CustomerImport,
    source: CsvSource,
    rejects: RejectsFile,
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
                    writing = loop.run_in_executor(
                        executor,
                        copy_context().run,
                        retry_busy_sync,
                        writer.write_chunk,
                        chunk,
                        dry_run,
                    )
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


async def import_customers_on_postgres(
    engine: AsyncEngine,
    importer: CustomerImport,
    source: CsvSource,
    rejects: RejectsFile,
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
    return await write_batch(sessions, importer, _rows(chunk), dry_run)


def _rows(chunk: ParsedChunk) -> list[Row]:
    fields = chunk.fields()
    return [
        Row(line, fields[line], record)
        for line, record in zip(chunk.lines, chunk.rows(), strict=True)
    ]


def _account(
    chunk: ParsedChunk, refused: list[Reject], rejects: RejectsFile, result: ImportResult
) -> None:
    """A written chunk's rejects (parse and database) in file order, and its count."""
    parsed = [Reject(line, fields, reason) for line, fields, reason in chunk.rejects]
    for reject in sorted(parsed + refused, key=lambda r: r.line):
        rejects.add(reject)
    result.imported += len(chunk.lines) - len(refused)
    result.committed_through = chunk.last_line


async def _settle(
    loop: asyncio.AbstractEventLoop,
    executor: ThreadPoolExecutor,
    writer: BulkWriter,
    chunk: ParsedChunk,
    writing: asyncio.Future[None],
    dry_run: bool,
    rejects: RejectsFile,
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
                await loop.run_in_executor(
                    executor,
                    copy_context().run,
                    retry_busy_sync,
                    writer.write_records,
                    records,
                    dry_run,
                )
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
