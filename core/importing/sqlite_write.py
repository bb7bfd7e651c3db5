"""Writing customers on SQLite with plain sqlite3: one call per batch, in one transaction.

Going through SQLAlchemy and aiosqlite statement by statement costs several times the
database work itself for a big import. Here a whole batch (look-ups, inserts, updates,
phones and emails) runs as one function on one sqlite3 connection. `BEGIN IMMEDIATE` takes
the write lock first (waiting for other writers up to the busy timeout), and the batch is
committed or rolled back whole, so a row is never half-written and other processes see each
batch at once. Values are stored the way SQLAlchemy's types store them (`UtcDateTime`: naive
UTC text; dates ISO text; booleans 0/1).

Two ways in: `run` on an aiosqlite connection's own thread inside a session's transaction
(small imports, indexed for search batch by batch in the same transaction), and a
`BulkWriter` with a connection of its own for big imports (`write_chunk`: new customers go
straight from a ParsedChunk's columns to `executemany`, without a Python step per row).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError

from core.importing.base import IN_CHUNK
from core.importing.customer_columns import ParsedChunk
from core.importing.customer_rows import UPDATABLE, CustomerRecord, merge
from core.models.types import sqlite_time, utcnow

__all__ = ["BulkWriter", "run", "write_batch"]

INSERT_CUSTOMER = (
    "INSERT INTO customer (external_id, first_name, last_name, city, country, birth_date, "
    "customer_since, created_at, marketing_consent, do_not_call, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_CUSTOMER = (
    "UPDATE customer SET "
    + ", ".join(f"{name} = COALESCE(?, {name})" for name in UPDATABLE)
    + ", updated_at = ? WHERE id = ?"
)
INSERT_POINT = (
    "INSERT INTO contact_point (customer_id, kind, value, normalized, label, is_primary) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _ids(db: sqlite3.Connection, external_ids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in _chunks(external_ids):
        found.update(
            db.execute(
                f"SELECT external_id, id FROM customer WHERE external_id IN ({_marks(len(part))})",
                part,
            ).fetchall()
        )
    return found


def new_points(
    merged: Mapping[str, CustomerRecord],
    ids: Mapping[str, int],
    existing: Mapping[str, int],
    known: set[tuple[int, str, str]],
) -> list[tuple[int, str, str, str, str, bool]]:
    """contact_point rows for the phones and emails not stored yet.

    Args:
        merged: the batch's customers.
        ids: customer number -> id, for all of them.
        existing: the customers that were stored before this batch.
        known: (customer id, kind, normalised) of the stored points of `existing`.

    Returns:
        (customer_id, kind, value, normalized, label, is_primary) rows; a new customer's
        first phone and first email are primary.
    """
    rows: list[tuple[int, str, str, str, str, bool]] = []
    add = rows.append
    for external_id, record in merged.items():
        cid = ids[external_id]
        phones, emails = record[10], record[11]
        if external_id not in existing:  # nothing stored; each number is once in the record
            for position, (written, normalized, label) in enumerate(phones):
                add((cid, "phone", written, normalized, label, position == 0))
            for position, (written, normalized, label) in enumerate(emails):
                add((cid, "email", written, normalized, label, position == 0))
            continue
        for kind, entries in (("phone", phones), ("email", emails)):
            for written, normalized, label in entries:
                if (cid, kind, normalized) not in known:
                    known.add((cid, kind, normalized))
                    add((cid, kind, written, normalized, label, False))
    return rows


def write_batch(db: sqlite3.Connection, merged: Mapping[str, CustomerRecord]) -> dict[str, int]:
    """Upsert the customers and add their new phones and emails; runs on the driver's thread.

    Returns:
        Customer number -> id for every customer in the batch.
    """
    if not db.in_transaction:
        db.execute("BEGIN IMMEDIATE")
    now = sqlite_time(utcnow())
    existing = _ids(db, list(merged))
    new = [r for key, r in merged.items() if key not in existing]
    ids = dict(existing)
    if new:
        top = db.execute("SELECT MAX(id) FROM customer").fetchone()[0] or 0
        db.executemany(
            INSERT_CUSTOMER,
            [
                (key, first or "", last or "", city or "", country or "", birth, since,
                 created or now,
                 consent or 0, dnc or 0, now)
                for key, first, last, city, country, birth, since, created, consent, dnc, _, _
                in new
            ],
        )  # fmt: skip
        # Inside this write transaction the new rows take the next ids in order (INTEGER
        # PRIMARY KEY without AUTOINCREMENT); check it, and look them up if not.
        if db.execute("SELECT MAX(id) FROM customer").fetchone()[0] == top + len(new):
            ids.update((r[0], top + 1 + i) for i, r in enumerate(new))
        else:
            ids.update(_ids(db, [r[0] for r in new]))
    if existing:
        db.executemany(
            UPDATE_CUSTOMER,
            [(*merged[key][1:10], now, cid) for key, cid in existing.items()],
        )
    known: set[tuple[int, str, str]] = set()
    old_ids = sorted(existing.values())
    for part in _chunks(old_ids):
        known.update(
            db.execute(
                "SELECT customer_id, kind, normalized FROM contact_point "
                f"WHERE customer_id IN ({_marks(len(part))})",
                part,
            ).fetchall()
        )
    db.executemany(INSERT_POINT, new_points(merged, ids, existing, known))
    for part in _chunks(old_ids):  # a customer's oldest phone (email) becomes primary
        db.execute(
            "UPDATE contact_point SET is_primary = 1 WHERE id IN ("
            " SELECT MIN(id) FROM contact_point"
            f" WHERE customer_id IN ({_marks(len(part))})"
            " GROUP BY customer_id, kind"
            " HAVING SUM(CASE WHEN is_primary THEN 1 ELSE 0 END) = 0)",
            part,
        )
    return ids


async def run(driver: Any, merged: Mapping[str, CustomerRecord]) -> dict[str, int]:
    """`write_batch` on an aiosqlite connection's thread, in its current transaction.

    Raises:
        IntegrityError, DataError: the database refused the batch (as SQLAlchemy would).
    """
    try:
        result: dict[str, int] = await driver._execute(write_batch, driver._conn, merged)
    except sqlite3.IntegrityError as error:
        raise IntegrityError("import customers", None, error) from error
    except (sqlite3.DataError, sqlite3.InterfaceError) as error:
        raise DataError("import customers", None, error) from error
    return result


INSERT_NEW_CUSTOMER = (
    "INSERT INTO customer (external_id, first_name, last_name, city, country, birth_date, "
    "customer_since, created_at, marketing_consent, do_not_call, updated_at) "
    "VALUES (?1, COALESCE(?2, ''), COALESCE(?3, ''), COALESCE(?4, ''), COALESCE(?5, ''), "
    "?6, ?7, COALESCE(?8, ?11), COALESCE(?9, 0), COALESCE(?10, 0), ?11)"
)
"""A new customer from a ParsedChunk's columns plus the time now (empty cells: defaults)."""
INSERT_NEW_POINT = (
    "INSERT INTO contact_point (customer_id, kind, value, normalized, label, is_primary) "
    "VALUES (?1 + ?7, ?2, ?3, ?4, ?5, ?6)"
)
"""A phone or email from a ParsedChunk's points plus the id of the chunk's first customer."""
PUBLISH_CHANGE = "INSERT INTO change_event (at, topic, key) VALUES (?, 'customer', 'import')"
"""What core.db.publish_change(session, "customer", "import") writes on SQLite."""


def _any_stored(db: sqlite3.Connection, external_ids: Sequence[str]) -> bool:
    for part in _chunks(external_ids):
        sql = f"SELECT 1 FROM customer WHERE external_id IN ({_marks(len(part))}) LIMIT 1"
        if db.execute(sql, part).fetchone() is not None:
            return True
    return False


class BulkWriter:
    """A connection of its own for a big import of customers; use it from one thread.

    Each `write_chunk` or `write_records` is one transaction, committed (or rolled back for
    a dry run) before it returns; on an error it is rolled back and the error raised.
    """

    def __init__(self, path: str, busy_timeout_ms: int, cache_kib: int) -> None:
        db = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            # The indexes of a big import touch pages all over the file: SQLite's default
            # 2 MB page cache would send most of them to disk and back.
            db.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
            # Every contact point written here belongs to a customer this same transaction
            # inserted or looked up, so checking the foreign key (a look-up per phone and
            # email) proves nothing; it is a tenth of the writing time.
            db.execute("PRAGMA foreign_keys = OFF")
        except BaseException:
            db.close()
            raise
        self.db = db

    def close(self) -> None:
        self.db.close()

    def write_chunk(self, chunk: ParsedChunk, dry_run: bool) -> None:
        """Upsert a chunk's good rows and add their new phones and emails.

        A chunk of customers none of which is stored yet (the usual big import) goes from
        its columns to `executemany` directly; otherwise row by row as `write_batch`.
        """
        if not chunk.lines:
            return
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            now = sqlite_time(utcnow())
            external_ids = chunk.columns[0]
            if chunk.repeated or _any_stored(db, external_ids):
                write_batch(db, merge(chunk.rows()))
            else:
                self._insert_new(chunk, now)
            db.execute(PUBLISH_CHANGE, (now,))
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("ROLLBACK" if dry_run else "COMMIT")

    def write_records(self, records: Sequence[CustomerRecord], dry_run: bool) -> None:
        """Upsert these rows in one transaction (as `write_batch`)."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            write_batch(db, merge(records))
            db.execute(PUBLISH_CHANGE, (sqlite_time(utcnow()),))
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("ROLLBACK" if dry_run else "COMMIT")

    def _insert_new(self, chunk: ParsedChunk, now: str | None) -> None:
        db = self.db
        top = db.execute("SELECT MAX(id) FROM customer").fetchone()[0] or 0
        db.executemany(INSERT_NEW_CUSTOMER, zip(*chunk.columns, repeat(now)))
        count = len(chunk.lines)
        # Inside this write transaction the new rows take the next ids in order (INTEGER
        # PRIMARY KEY without AUTOINCREMENT): the chunk's row i is customer top + 1 + i.
        if db.execute("SELECT MAX(id) FROM customer").fetchone()[0] == top + count:
            db.executemany(INSERT_NEW_POINT, zip(*chunk.points, repeat(top + 1)))
            return
        ids = _ids(db, chunk.columns[0])
        customer_of = [ids[key] for key in chunk.columns[0]]
        rows, kinds, written, normalized, labels, firsts = chunk.points
        db.executemany(
            INSERT_POINT,
            zip(
                [customer_of[r] for r in rows],
                kinds,
                written,
                normalized,
                labels,
                firsts,
                strict=True,
            ),
        )
