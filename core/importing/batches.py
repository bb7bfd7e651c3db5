"""Importing through a session: each batch of rows parsed here, written in one transaction.

A row is written whole or not at all. If the database refuses a batch, it is halved until the
offending rows are alone and rejected; a dry run rolls every transaction back. Interactions,
transactions and customers files indexed batch by batch go this way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import make_sessions
from core.importing.base import ImportKind, Reject, Row
from core.importing.busy import retry_busy
from core.importing.fields import RowError, shape_error
from core.importing.rejects import RejectsFile
from core.importing.results import ImportProgress, ImportResult
from core.importing.source import CsvSource, records

YIELD_EVERY = 500
"""Parsing lets the event loop run this often, so the batch being written is not held up."""
SQLITE_CACHE_KIB = 256 * 1024


async def import_in_batches(
    engine: AsyncEngine,
    importer: ImportKind,
    source: CsvSource,
    rejects: RejectsFile,
    result: ImportResult,
    dry_run: bool,
    progress: ImportProgress | None,
    batch_rows: int,
) -> None:
    """Parse here and write each batch through a session, in its own transaction."""
    sessions = make_sessions(engine)
    width = len(source.columns)
    parse = row_parser(importer, source.columns)
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
        result.committed_through = written_line
        if progress is not None:
            progress(written_line, source.lines)

    async def flush(last_line: int) -> None:
        # The batch is written while the next one is parsed: the database work runs on the
        # driver's thread (SQLite) or in the server (PostgreSQL), the parsing here.
        nonlocal writing, batch, pending, written_batch, written_pending, written_line
        await settle()
        written_batch, written_pending, written_line = batch, pending, last_line
        batch, pending = [], []
        writing = asyncio.create_task(write_batch(sessions, importer, written_batch, dry_run))
        await asyncio.sleep(0)  # let it start

    line = 1
    try:
        for line, fields in records(source):
            try:
                if (misfit := shape_error(fields, width)) is not None:
                    raise RowError(misfit)
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
        raise


async def write_batch(
    sessions: async_sessionmaker[AsyncSession],
    importer: ImportKind,
    batch: list[Row],
    dry_run: bool,
) -> list[Reject]:
    try:
        return await retry_busy(lambda: _attempt(sessions, importer, batch, dry_run))
    except (IntegrityError, DataError) as error:
        if len(batch) == 1:
            reason = str(error.orig if error.orig is not None else error).splitlines()[0]
            return [Reject(batch[0].line, batch[0].fields, f"refused by the database: {reason}")]
    # Find the rows the database refuses and keep the others: halve the batch until the
    # refused rows are alone (a few refused rows among many cost a few dozen attempts).
    middle = len(batch) // 2
    refused = await write_batch(sessions, importer, batch[:middle], dry_run)
    return refused + await write_batch(sessions, importer, batch[middle:], dry_run)


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


def row_parser(importer: ImportKind, columns: list[str]) -> Callable[[list[str]], Any]:
    """The kind's own fast parser of a record's fields, or one through `parse(dict)`."""
    make = getattr(importer, "parser", None)
    if make is not None:
        parser: Callable[[list[str]], Any] = make(columns)
        return parser

    def parse(fields: list[str]) -> Any:
        return importer.parse(dict(zip(columns, fields, strict=False)))

    return parse
