"""Rebuilding the index on a SQLite file: one transaction, a writer thread, JSON arrays.

See core.search.rebuild for the threads and why; the rows come from core.search.rebuild.plan.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from core.fastpath.sqlite import secondary_indexes
from core.lock_holders import DatabaseLocked, locked_message, sqlite_lock_holders
from core.search.keys import SIGNATURE_BITS, contact_rows
from core.search.rebuild.plan import (
    LOW_MASK,
    NAME_BITS,
    TABLES,
    NamePlan,
    Progress,
    parse_ids,
    plan_names,
)

JSON_BATCH = 500_000
"""Rows per JSON array handed to the SQLite writer: it starts early and memory stays low."""
SQLITE_CACHE_KIB = 524_288
PHONE_WIDTH = 15
"""Phones of up to this many digits (E.164's longest) are keyed by numpy; others in Python."""
ID_WIDTH = 10
"""Customer ids in fixed-width phone records (zero-padded)."""
_SQLITE_RANKED = (
    "SELECT group_concat(id), json_group_array(name) FROM (SELECT id, "
    "coalesce(first_name, '') || char(31) || coalesce(last_name, '') AS name FROM customer "
    "ORDER BY last_activity_at DESC, id)"
)
"""plan.RANKED_SQL as two values (SQLite puts NULLs last in descending order): ids joined by commas
and names as a JSON array. One step of the statement: sqlite3 holds no GIL meanwhile."""

# SQLite: emails whose normalized form is ASCII (as many bytes as characters), starts and
# ends with a printable character and has a local part (all of them, in practice) get their
# key in SQL: there Python's strip().lower().partition("@") and SQLite's lower() and substr()
# agree. They come as one text of "key, \x1f, zero-padded customer id" records separated by
# \x1e, which Python splits and sorts as plain strings. Any other email goes through email_key.
_PLAIN = (
    "(length(CAST(normalized AS BLOB)) = length(normalized) "
    "AND substr(normalized, 1, 1) > ' ' AND substr(normalized, -1, 1) > ' ' "
    "AND substr(normalized, 1, 1) <> '@' "
    "AND instr(normalized, char(30)) = 0 AND instr(normalized, char(31)) = 0 "
    f"AND customer_id BETWEEN 0 AND {10**10 - 1})"
)
_SQLITE_EMAIL_RECORDS = (
    "SELECT group_concat(printf('%s%s%010d', lower(CASE WHEN instr(normalized, '@') > 0 "
    "THEN substr(normalized, 1, instr(normalized, '@') - 1) ELSE normalized END), char(31), "
    f"customer_id), char(30)) FROM contact_point WHERE kind = 'email' AND {_PLAIN}"
)
_SQLITE_ODD_EMAILS = (
    f"SELECT customer_id, normalized FROM contact_point WHERE kind = 'email' AND NOT {_PLAIN}"
)
_SQLITE_EMAILS = (
    "INSERT OR IGNORE INTO search_contact (kind, key, customer_id) "
    "SELECT 'e', substr(value, 1, instr(value, char(31)) - 1), "
    "CAST(substr(value, instr(value, char(31)) + 1) AS INTEGER) FROM json_each(?)"
)
# Phones of ASCII digits only (all of them, in practice) come from SQLite as one text of
# fixed-width records, "digits padded to PHONE_WIDTH" + "customer id padded to ID_WIDTH", that
# numpy reverses and sorts without a Python object per phone; any other phone goes through
# phone_key. ltrim(x, digits) is empty exactly when x is all ASCII digits.
_DIGITS_ONLY = (
    f"length(normalized) BETWEEN 1 AND {PHONE_WIDTH} AND ltrim(normalized, '0123456789') = '' "
    f"AND customer_id BETWEEN 0 AND {10**ID_WIDTH - 1}"
)
_SQLITE_PHONE_RECORDS = (
    f"SELECT count(*), group_concat(printf('%-{PHONE_WIDTH}s%0{ID_WIDTH}d', normalized, "
    f"customer_id), '') FROM contact_point WHERE kind = 'phone' AND {_DIGITS_ONLY}"
)
_SQLITE_ODD_PHONES = (
    f"SELECT customer_id, normalized FROM contact_point WHERE kind = 'phone' "
    f"AND NOT ({_DIGITS_ONLY})"
)
_SQLITE_PHONES = (
    "INSERT OR IGNORE INTO search_contact (kind, key, customer_id) "
    f"SELECT 'p', rtrim(substr(value, 1, {PHONE_WIDTH})), "
    f"CAST(substr(value, {PHONE_WIDTH + 1}) AS INTEGER) FROM json_each(?)"
)


Job = Callable[[sqlite3.Connection], None]


class _SqliteWriter:
    """One connection and one thread that run write jobs in order, in one transaction.

    Jobs are single statements over JSON arrays as far as possible: sqlite3 releases the GIL
    while a statement runs, so the writes overlap with this process's Python work.
    """

    def __init__(self, path: str, lock_wait: float = 30.0) -> None:
        self.connection = sqlite3.connect(
            path, timeout=lock_wait, isolation_level=None, check_same_thread=False
        )
        for pragma in (
            f"busy_timeout = {int(lock_wait * 1000)}",
            f"cache_size = -{SQLITE_CACHE_KIB}",  # the whole transaction stays in memory
            "synchronous = NORMAL",
            "temp_store = MEMORY",  # ORDER BY and CREATE INDEX sort in memory
        ):
            self.connection.execute(f"PRAGMA {pragma}")
        self.rows_done = 0
        self.error: BaseException | None = None
        self.in_transaction = False
        self._jobs: queue.Queue[tuple[Job, int] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="search-index-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Job, rows: int = 0) -> None:
        self._jobs.put((job, rows))

    def _run(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            job, rows = item
            if self.error is not None:
                continue  # after a failure nothing else is written
            try:
                job(self.connection)
            except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
                self.error = error
            self.rows_done += rows

    def finish(self, wait: Callable[[], None] | None = None) -> None:
        """Wait for every job; raise the first job's error."""
        self._jobs.put(None)
        while self._thread.is_alive():
            self._thread.join(0.5)
            if wait is not None:
                wait()
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        if self._thread.is_alive():
            self.error = self.error or RuntimeError("search index rebuild abandoned")
            self._jobs.put(None)
            self._thread.join()
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")
        self.connection.close()


def _sqlite_start(connection: sqlite3.Connection, indexes: list[tuple[str, str, str]]) -> None:
    """Drop the secondary indexes (kept in `indexes`) and empty the tables."""
    indexes.extend(secondary_indexes(connection, TABLES))
    for name, _, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    for table in TABLES:
        connection.execute(f"DELETE FROM {table}")


def _sqlite_finish(connection: sqlite3.Connection, indexes: list[tuple[str, str, str]]) -> None:
    for _, _, sql in indexes:
        connection.execute(sql)  # the very statement the schema held
    for key in ("generation", "words"):
        connection.execute(
            "INSERT INTO search_meta (key, value) VALUES (?, 1) "
            "ON CONFLICT (key) DO UPDATE SET value = search_meta.value + 1",
            (key,),
        )
    connection.execute("COMMIT")


def _statement(sql: str, *params: Any) -> Job:
    def job(connection: sqlite3.Connection) -> None:
        connection.execute(sql, params)

    return job


def _json_ints(values: np.ndarray) -> str:
    return "[" + ",".join(map(str, values.tolist())) + "]"


def rebuild_sqlite(path: str, progress: Progress, lock_wait: float = 30.0) -> int:
    """The index of the SQLite database at `path` rebuilt in one transaction; raises
    DatabaseLocked, naming who holds the lock, after `lock_wait` seconds without it."""
    reader = sqlite3.connect(path, timeout=30)
    writer: _SqliteWriter | None = None
    # Two reading threads (the emails and the phones first, so the writer starts on them as
    # soon as they are sorted, then the customers in rank order), the writer, and this one
    # computing rows with numpy: SQLite works in C without the GIL in the other three.
    helpers = ThreadPoolExecutor(2, thread_name_prefix="search-index-read")
    try:
        reader.execute("PRAGMA busy_timeout = 30000")
        writer = _SqliteWriter(path, lock_wait)
        locked = threading.Event()
        indexes: list[tuple[str, str, str]] = []

        def lock(connection: sqlite3.Connection) -> None:
            connection.execute("BEGIN IMMEDIATE")
            locked.set()

        writer.submit(lock)
        writer.submit(lambda connection: _sqlite_start(connection, indexes))
        # Every read starts once the write lock is held: nobody can commit a change between
        # what is read and what is written, so the new index misses no customer's change.
        while not locked.wait(0.2):
            if writer.error is not None:
                if "locked" in str(writer.error) or "busy" in str(writer.error):
                    message = locked_message(sqlite_lock_holders(path), lock_wait)
                    raise DatabaseLocked(message) from writer.error
                writer.finish()  # raises it
        progress.total = int(reader.execute("SELECT count(*) FROM customer").fetchone()[0])
        progress(0.0)
        email_records = helpers.submit(_sqlite_one_row, path, _SQLITE_EMAIL_RECORDS)
        phone_records = helpers.submit(_sqlite_one_row, path, _SQLITE_PHONE_RECORDS)
        ranked = helpers.submit(_sqlite_one_row, path, _SQLITE_RANKED)
        odd = {
            row
            for sql, kind in ((_SQLITE_ODD_EMAILS, "email"), (_SQLITE_ODD_PHONES, "phone"))
            for cid, normalized in reader.execute(sql)
            for row in contact_rows(cid, kind, normalized)
        }
        reader.close()
        (records,) = email_records.result()
        emails = records.split("\x1e") if records else []
        del records
        emails.sort()  # key order: "\x1f" sorts before any character of a key
        rows_total = len(emails)
        for start in range(0, len(emails), JSON_BATCH):
            part = emails[start : start + JSON_BATCH]
            writer.submit(_statement(_SQLITE_EMAILS, json.dumps(part)), len(part))
        del emails
        progress(0.1)

        count, records = phone_records.result()
        phones = int(count or 0)
        rows_total += phones
        for part in _phone_json(records or "", phones):
            writer.submit(_statement(_SQLITE_PHONES, part), min(JSON_BATCH, phones))
        del records
        if odd:  # as JSON too: executemany would take the GIL for every row
            writer.submit(
                _statement(
                    "INSERT OR IGNORE INTO search_contact (kind, key, customer_id) "
                    "SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)",
                    json.dumps(sorted(odd)),
                ),
                len(odd),
            )
        # Built now, while the names are computed, rather than in the last step.
        writer.submit(lambda connection: _sqlite_indexes(connection, indexes, "search_contact"))
        progress(0.2)

        ids, names = ranked.result()
        plan = plan_names(parse_ids(ids), json.loads(names or "[]"))
        del ids, names
        rows_total += plan.rows
        progress(0.4)
        _submit_names(writer, plan)
        writer.submit(lambda connection: _sqlite_finish(connection, indexes))
        del plan
        progress(0.45)
        done = writer

        def report() -> None:
            progress(0.45 + 0.5 * done.rows_done / max(rows_total, 1))

        writer.finish(report)
        connection = writer.connection
        connection.execute("PRAGMA analysis_limit = 1000")  # planner statistics from samples
        for table in TABLES:
            connection.execute(f"ANALYZE {table}")
        return progress.total
    finally:
        reader.close()
        helpers.shutdown(cancel_futures=True)
        if writer is not None:
            writer.close()


def _sqlite_one_row(path: str, sql: str) -> tuple[Any, ...]:
    """The single row `sql` returns, read on a connection of its own."""
    connection = sqlite3.connect(path, timeout=30)
    try:
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB // 4}")
        connection.execute("PRAGMA temp_store = MEMORY")
        return tuple(connection.execute(sql).fetchone())
    finally:
        connection.close()


def _phone_json(records: str, count: int) -> list[str]:
    """JSON arrays of search_contact phone rows, in key order, from fixed-width records.

    Args:
        records: `count` records of PHONE_WIDTH ASCII digits (padded with spaces) followed by
            an ID_WIDTH-digit customer id.
        count: how many.

    Returns:
        JSON arrays of at most JSON_BATCH strings: the digits reversed, padded with spaces to
        PHONE_WIDTH, followed by the customer id (what `_SQLITE_PHONES` reads).
    """
    if not count:
        return []
    width = PHONE_WIDTH + ID_WIDTH
    raw = np.frombuffer(records.encode("ascii"), dtype=np.uint8).reshape(count, width)
    lengths = (raw[:, :PHONE_WIDTH] != ord(" ")).sum(axis=1)
    reversed_digits = np.full((count, PHONE_WIDTH), ord(" "), dtype=np.uint8)
    # The key as an integer that sorts like the text: a digit d counts d + 1, padding 0.
    order_key = np.zeros(count, dtype=np.int64)
    every = np.arange(count)
    for position in range(PHONE_WIDTH):
        source = lengths - 1 - position
        present = source >= 0
        digit = raw[every, np.maximum(source, 0)]
        reversed_digits[:, position] = np.where(present, digit, ord(" "))
        order_key = order_key * 11 + np.where(present, digit.astype(np.int64) - ord("0") + 1, 0)
    customer = np.zeros(count, dtype=np.int64)
    for position in range(PHONE_WIDTH, width):
        customer = customer * 10 + (raw[:, position] - ord("0"))
    order = np.lexsort((customer, order_key))
    out = np.empty((count, width + 3), dtype=np.uint8)
    out[:, 0] = out[:, width + 1] = ord('"')
    out[:, 1 : PHONE_WIDTH + 1] = reversed_digits[order]
    out[:, PHONE_WIDTH + 1 : width + 1] = raw[order, PHONE_WIDTH:]
    out[:, width + 2] = ord(",")
    parts = []
    for start in range(0, count, JSON_BATCH):
        body = out[start : start + JSON_BATCH].tobytes()[:-1].decode("ascii")
        parts.append(f"[{body}]")
    return parts


def _sqlite_indexes(
    connection: sqlite3.Connection, indexes: list[tuple[str, str, str]], table: str
) -> None:
    """Create the dropped indexes of `table` again, each from the statement the schema held."""
    for index in [index for index in indexes if index[1] == table]:
        connection.execute(index[2])
        indexes.remove(index)


def _submit_postings(writer: _SqliteWriter, plan: NamePlan) -> None:
    """Queue search_posting's rows with their names' signatures, each row one integer
    (signature, word id and name id packed) when the ids are small enough, else a pair."""
    words, names = plan.posting >> NAME_BITS, plan.posting & LOW_MASK
    signatures = plan.signatures[names]
    name_bits = max(1, int(names.max(initial=0)).bit_length())
    word_bits = max(1, int(words.max(initial=0)).bit_length())
    if name_bits + word_bits + SIGNATURE_BITS <= 63:
        packed = (signatures << (name_bits + word_bits)) | (words << name_bits) | names
        sql = (
            "INSERT INTO search_posting (word_id, name_id, sig) "
            f"SELECT (value >> {name_bits}) & {(1 << word_bits) - 1}, "
            f"value & {(1 << name_bits) - 1}, value >> {name_bits + word_bits} FROM json_each(?)"
        )
        for start in range(0, len(packed), JSON_BATCH):
            chunk = packed[start : start + JSON_BATCH]
            writer.submit(_statement(sql, _json_ints(chunk)), len(chunk))
        return
    sql = (
        "INSERT INTO search_posting (word_id, name_id, sig) "
        f"SELECT (value ->> 0) >> {NAME_BITS}, (value ->> 0) & {LOW_MASK}, value ->> 1 "
        "FROM json_each(?)"
    )
    for start in range(0, len(plan.posting), JSON_BATCH):
        stop = start + JSON_BATCH
        part = zip(plan.posting[start:stop].tolist(), signatures[start:stop].tolist(), strict=True)
        rows = json.dumps(list(part))
        writer.submit(_statement(sql, rows), min(stop, len(plan.posting)) - start)


def _submit_names(writer: _SqliteWriter, plan: NamePlan) -> None:
    """Queue the name tables' rows, each table in key order, as JSON arrays."""
    writer.submit(
        _statement(
            "INSERT INTO search_word (id, word, df) "
            "SELECT j.key + 1, j.value ->> 0, j.value ->> 1 FROM json_each(?) j",
            json.dumps(list(zip(plan.words, plan.df, strict=True))),
        ),
        len(plan.words),
    )
    for start in range(0, len(plan.keys), JSON_BATCH):
        part = list(
            zip(
                plan.keys[start : start + JSON_BATCH],
                plan.sorted_keys[start : start + JSON_BATCH],
                strict=True,
            )
        )
        writer.submit(
            _statement(
                "INSERT INTO search_name (id, key, sorted_key) "
                "SELECT j.key + ?, j.value ->> 0, j.value ->> 1 FROM json_each(?) j",
                start + 1,
                json.dumps(part),
            ),
            len(part),
        )
    _submit_postings(writer, plan)
    sql = (
        "INSERT INTO search_name_word (name_id, word_id) "
        f"SELECT value >> {NAME_BITS}, value & {LOW_MASK} FROM json_each(?)"
    )
    for start in range(0, len(plan.name_word), JSON_BATCH):
        chunk = plan.name_word[start : start + JSON_BATCH]
        writer.submit(_statement(sql, _json_ints(chunk)), len(chunk))
    names, customers = plan.name_ids, plan.customer_ids
    if len(customers) and int(customers.max()) > LOW_MASK:  # ids too big to pack: pairs
        sql = (
            "INSERT INTO search_name_customer (name_id, customer_id) "
            "SELECT value ->> 0, value ->> 1 FROM json_each(?)"
        )
        for start in range(0, len(names), JSON_BATCH):
            stop = start + JSON_BATCH
            pairs = list(
                zip(names[start:stop].tolist(), customers[start:stop].tolist(), strict=True)
            )
            writer.submit(_statement(sql, json.dumps(pairs)), len(pairs))
        return
    packed = (names << NAME_BITS) | customers
    sql = (
        "INSERT INTO search_name_customer (name_id, customer_id) "
        f"SELECT value >> {NAME_BITS}, value & {LOW_MASK} FROM json_each(?)"
    )
    for start in range(0, len(packed), JSON_BATCH):
        part = packed[start : start + JSON_BATCH]
        writer.submit(_statement(sql, _json_ints(part)), len(part))
