"""Logging that never blocks the event loop.

A log line written straight to stderr blocks the writer when stderr is a pipe nobody reads
(a supervisor that stopped reading, a full `journald` socket): with uvicorn's own handlers
that stopped the whole API. Here every record goes into a bounded queue instead; a thread
writes the queue to stderr (the access log to stdout), and when the queue is full a record
is dropped and counted, and the count is logged once the writer catches up.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
import sys
import threading
from collections.abc import Callable
from typing import TextIO

QUEUE_SIZE = 10_000
"""Records waiting to be written; beyond it they are dropped (and counted)."""
ACCESS_LOGGER = "uvicorn.access"


class DroppingQueueHandler(logging.handlers.QueueHandler):
    """Puts records in a bounded queue without ever waiting; counts what did not fit."""

    def __init__(self, records: queue.Queue[logging.LogRecord | None]) -> None:
        super().__init__(records)
        self.dropped = 0
        self._lock = threading.Lock()

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            with self._lock:
                self.dropped += 1

    def take_dropped(self) -> int:
        with self._lock:
            dropped, self.dropped = self.dropped, 0
        return dropped


class _Only(logging.Filter):
    def __init__(self, access: bool) -> None:
        super().__init__()
        self._access = access

    def filter(self, record: logging.LogRecord) -> bool:
        return (record.name == ACCESS_LOGGER) == self._access


class _Writer(logging.handlers.QueueListener):
    """The thread that writes; it reports the records dropped since its last write."""

    def __init__(
        self,
        records: queue.Queue[logging.LogRecord | None],
        source: DroppingQueueHandler,
        *handlers: logging.Handler,
    ) -> None:
        super().__init__(records, *handlers, respect_handler_level=True)
        self._source = source

    def handle(self, record: logging.LogRecord) -> None:
        super().handle(record)
        dropped = self._source.take_dropped()
        if dropped:
            super().handle(
                logging.makeLogRecord(
                    {
                        "name": __name__,
                        "levelno": logging.WARNING,
                        "levelname": "WARNING",
                        "msg": "%d log records dropped: the log output is not being read",
                        "args": (dropped,),
                    }
                )
            )


def install(
    level: int = logging.WARNING, err: TextIO | None = None, out: TextIO | None = None
) -> Callable[[], None]:
    """Route every logger (the root, uvicorn's, the API's) through the queue.

    Args:
        level: the least important level logged.
        err: where log lines go (default stderr); the access log goes to `out` (stdout).

    Returns:
        A function that writes what is queued, waiting at most a second (the writer may be
        stuck on a pipe nobody reads: the process still exits).
    """
    records: queue.Queue[logging.LogRecord | None] = queue.Queue(QUEUE_SIZE)
    handler = DroppingQueueHandler(records)
    to_err = logging.StreamHandler(err or sys.stderr)
    to_err.setFormatter(logging.Formatter("%(levelname)s: %(name)s: %(message)s"))
    to_err.addFilter(_Only(access=False))
    to_out = logging.StreamHandler(out or sys.stdout)
    to_out.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    to_out.addFilter(_Only(access=True))
    writer = _Writer(records, handler, to_err, to_out)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", ACCESS_LOGGER):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
    writer.start()

    def stop() -> None:
        root.removeHandler(handler)
        try:
            records.put_nowait(None)  # the listener's sentinel
        except queue.Full:
            return
        thread = writer._thread  # noqa: SLF001 - joined with a limit, unlike QueueListener.stop
        if thread is not None:
            thread.join(1.0)

    return stop


__all__ = ["QUEUE_SIZE", "DroppingQueueHandler", "install"]
