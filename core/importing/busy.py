"""Waiting out a busy SQLite database instead of failing an import half-way.

Another process holding the write lock longer than core.db's busy timeout (`search
--reindex`, another big import) made a batch fail with "database is locked" after earlier
batches had committed. A batch is one transaction, so trying it again is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import TypeVar

from core.errors import is_locked
from core.i18n import words as _
from core.lock_holders import sqlite_lock_holders

T = TypeVar("T")

LOCK_PATIENCE_SECONDS = 300.0
"""How long a batch waits for the lock in all before the import gives up."""
_PAUSES = (0.2, 0.5, 1.0, 2.0)


is_busy = is_locked
"""SQLite's "another connection holds the lock" (raw or wrapped by SQLAlchemy)."""


class LockWait:
    """Tells the user once, when a write first finds the lock held, that the import waits
    for it (naming the program holding it when Linux can say) instead of waiting silently."""

    def __init__(self, tell: Callable[[str], None], database: str | None) -> None:
        self._tell = tell
        self._database = database
        self._told = False
        self._mutex = threading.Lock()

    def __call__(self) -> None:
        with self._mutex:
            if self._told:
                return
            self._told = True
        holders = sqlite_lock_holders(self._database) if self._database else []
        who = ", ".join(holders) if holders else _("another program")
        self._tell(
            _(
                "the database is locked by {who}; the import waits for it (up to {seconds} s) "
                "and then goes on"
            ).format(who=who, seconds=f"{LOCK_PATIENCE_SECONDS:g}")
        )


_waiting: ContextVar[LockWait | None] = ContextVar("frontline_import_lock_wait", default=None)


@contextlib.contextmanager
def telling_waits(wait: LockWait | None) -> Iterator[None]:
    """Inside the block, writes that wait for the lock call `wait` (tasks and threads started
    with the block's context)."""
    token = _waiting.set(wait)
    try:
        yield
    finally:
        _waiting.reset(token)


def _waits() -> None:
    wait = _waiting.get()
    if wait is not None:
        wait()


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
        _waits()
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
        _waits()
        await asyncio.sleep(_PAUSES[min(attempt, len(_PAUSES) - 1)])
        attempt += 1
