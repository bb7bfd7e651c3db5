"""Another program holding a SQLite database's write lock, for tests of what users see then."""

from __future__ import annotations

import sqlite3


class Lock:
    """Another connection holding the database's write lock (`BEGIN EXCLUSIVE`) until released.

    It may be released from another thread than the one that took it (the fault suite frees it
    while a write waits)."""

    def __init__(self, url: str) -> None:
        self.path = url.split("///", 1)[1]
        self.connection: sqlite3.Connection | None = None

    def __enter__(self) -> Lock:
        self.connection = sqlite3.connect(
            self.path, isolation_level=None, timeout=10, check_same_thread=False
        )
        self.connection.execute("BEGIN EXCLUSIVE")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def release(self) -> None:
        if self.connection is not None:
            self.connection.execute("ROLLBACK")
            self.connection.close()
            self.connection = None
