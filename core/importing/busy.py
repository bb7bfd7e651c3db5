"""Waiting out a busy SQLite database instead of failing an import half-way.

Another process holding the write lock longer than core.db's busy timeout (`search
--reindex`, another big import) made a batch fail with "database is locked" after earlier
batches had committed. A batch is one transaction, so trying it again is safe.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.errors import is_locked

T = TypeVar("T")

LOCK_PATIENCE_SECONDS = 300.0
"""How long a batch waits for the lock in all before the import gives up."""
_PAUSES = (0.2, 0.5, 1.0, 2.0)


is_busy = is_locked
"""SQLite's "another connection holds the lock" (raw or wrapped by SQLAlchemy)."""


def retry_busy_sync(write: Callable[..., T], *args: object) -> T:
    """write(*args), tried again while the database is locked (on a writer's own thread)."""
    deadline = time.monotonic() + LOCK_PATIENCE_SECONDS
    attempt = 0
    while True:
        try:
            return write(*args)
        except Exception as error:
            if not is_busy(error) or time.monotonic() > deadline:
                raise
        time.sleep(_PAUSES[min(attempt, len(_PAUSES) - 1)])
        attempt += 1


async def retry_busy(write: Callable[[], Awaitable[T]]) -> T:
    """await write(), tried again while the database is locked."""
    deadline = time.monotonic() + LOCK_PATIENCE_SECONDS
    attempt = 0
    while True:
        try:
            return await write()
        except Exception as error:
            if not is_busy(error) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(_PAUSES[min(attempt, len(_PAUSES) - 1)])
        attempt += 1
