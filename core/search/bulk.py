"""Rebuilding the whole search index in bulk: read every customer once, write sorted rows.

Names (`plan_names`): the customers come most recently active first, each distinct (first
name, surnames) is folded once, and the per-posting work (word ids, pair pseudo-words,
document frequencies, sorting) is done on numpy arrays, not on millions of Python tuples.

SQLite (`_sqlite_rebuild`), one transaction, four threads: two read (SQLite gathers the
emails' keys, the phones and the customers in rank order as single values, in C without the
GIL), this one sorts and computes rows, and a writer with its own connection fills the tables
from JSON arrays that SQLite unpacks itself (`json_each`: in C, without the GIL, so it runs on
the other core meanwhile). The tables' secondary indexes are dropped inside the transaction
and created again from the very statements the schema held once their rows are in (one sort
instead of an index update per row); every table is filled in key order. Searches in other
processes read the old index until the transaction commits.

PostgreSQL (`_postgres_rebuild`): the server keys plain phones and emails itself; names go in
with COPY; constraints and indexes are dropped inside the transaction and built again from
their own definitions. The tables are truncated, so searches wait for the rebuild to finish.
"""

from __future__ import annotations

import asyncio
import json
import queue
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.db import sqlite_file
from core.search.normalize import name_words

BUMP = text(
    "INSERT INTO search_meta (key, value) VALUES (:key, 1) "
    "ON CONFLICT (key) DO UPDATE SET value = search_meta.value + 1"
)
"""Counts a change other processes' dictionary caches must notice (and locks the counter)."""
_NOT_DIGIT = re.compile(r"\D")
PAIR = "+"
"""Joins the two words of a pair pseudo-word; never inside a real (folded) word."""
WRITE_BATCH = 200_000
JSON_BATCH = 500_000
"""Rows per JSON array handed to the SQLite writer: it starts early and memory stays low."""
NAME_BITS = 32
"""Two ids packed in one int64: the high one shifted by this many bits."""
LOW_MASK = (1 << NAME_BITS) - 1
SQLITE_CACHE_KIB = 524_288
PHONE_WIDTH = 15
"""Phones of up to this many digits (E.164's longest) are keyed by numpy; others in Python."""
ID_WIDTH = 10
"""Customer ids in fixed-width phone records (zero-padded)."""

# Children first, so nothing points at a row already gone.
TABLES = (
    "search_contact",
    "search_name_customer",
    "search_name_word",
    "search_posting",
    "search_name",
    "search_word",
)
COLUMNS: dict[str, tuple[str, ...]] = {
    "search_word": ("id", "word", "df"),
    "search_name": ("id", "key", "sorted_key"),
    "search_posting": ("word_id", "name_id"),
    "search_name_word": ("name_id", "word_id"),
    "search_name_customer": ("name_id", "customer_id"),
    "search_contact": ("kind", "key", "customer_id"),
}
NAME_SEPARATOR = "\x1f"
"""Between a customer's first name and surnames in `RANKED_SQL`; it separates words anyway."""
_RANKED = (
    "SELECT {ids}, {names} FROM (SELECT id, coalesce(first_name, '') || {sep} || "
    "coalesce(last_name, '') AS name FROM customer ORDER BY last_activity_at DESC {nulls}, id)"
)
RANKED_SQL = (
    "SELECT id, coalesce(first_name, '') || chr(31) || coalesce(last_name, '') FROM customer "
    "ORDER BY last_activity_at DESC NULLS LAST, id"
)
"""Every customer, most recently active first (never active last), ties by id."""
_SQLITE_RANKED = _RANKED.format(
    ids="group_concat(id)", names="json_group_array(name)", sep="char(31)", nulls=""
)
"""The same as two values (SQLite puts NULLs last in descending order): ids joined by commas
and names as a JSON array. One step of the statement: sqlite3 holds no GIL meanwhile."""
CONTACTS_SQL = "SELECT customer_id, kind, normalized FROM contact_point"

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

Rows = Sequence[tuple[Any, ...]]
Progress = Callable[[float], None]


def phone_key(normalized: str) -> str:
    """The stored form of a phone: its digits reversed, so trailing digits are a prefix."""
    return _NOT_DIGIT.sub("", normalized)[::-1]


def email_key(normalized: str) -> str:
    """The stored form of an email: its local part, lower case."""
    return normalized.strip().lower().partition("@")[0]


def contact_rows(customer_id: int, kind: str, normalized: str) -> list[tuple[str, str, int]]:
    """The search_contact rows of one contact point."""
    if kind == "phone":
        key = phone_key(normalized)
        return [("p", key, customer_id)] if key else []
    if kind == "email":
        local = email_key(normalized)
        return [("e", local, customer_id)] if local else []
    return []


def name_terms(key: str) -> list[str]:
    """What a name is indexed under: its distinct words and every pair of them ("a+b").

    Pairs are pseudo-words: their posting lists answer two common words at once
    ("garcia lopez") without reading either word's long list.
    """
    words = sorted(set(key.split()))
    pairs = [f"{a}{PAIR}{b}" for i, a in enumerate(words) for b in words[i + 1 :]]
    return words + pairs


@dataclass
class NamePlan:
    """The name side of the index, ready to write. Ids are positions + 1."""

    words: list[str]
    """search_word.word by id: the real words in alphabetical order, then the pairs."""
    df: list[int]
    """search_word.df, same order."""
    keys: list[str]
    """search_name.key by id: the most recently active name first."""
    sorted_keys: list[str]
    posting: np.ndarray
    """word_id << NAME_BITS | name_id, sorted: search_posting in key order."""
    name_word: np.ndarray
    """name_id << NAME_BITS | word_id, sorted."""
    name_ids: np.ndarray
    """search_name_customer.name_id, sorted with customer_ids."""
    customer_ids: np.ndarray

    @property
    def rows(self) -> int:
        return (
            len(self.words)
            + len(self.keys)
            + len(self.posting)
            + len(self.name_word)
            + len(self.name_ids)
        )


def plan_names(customer_ids: np.ndarray, names: Sequence[str]) -> NamePlan:
    """Every name row of the index from every customer's name, in rank order.

    Args:
        customer_ids: the customers, most recently active first (`RANKED_SQL`).
        names: their first names and surnames joined by NAME_SEPARATOR, in the same order.

    A name's id is its rank: the order in which its first customer comes, so reading
    postings in id order meets the likeliest callers first.
    """
    # A first name's or surnames' folded words and their vocabulary positions, once each.
    parts: dict[str, tuple[list[str], tuple[int, ...]]] = {}
    vocabulary: dict[str, int] = {}

    def part_of(text: str) -> tuple[list[str], tuple[int, ...]]:
        words = name_words(text)
        found = parts[text] = (
            words,
            tuple(vocabulary.setdefault(word, len(vocabulary)) for word in words),
        )
        return found

    key_index: dict[str, int] = {}
    keys: list[str] = []
    sorted_keys: list[str] = []
    terms: list[tuple[int, ...]] = []  # each name's words (vocabulary positions, as written)
    # Each distinct (first name, surnames) once, in the order first met: numpy does the rest.
    spelled = dict.fromkeys(names)
    key_of_spelling: list[int] = []
    for position, spelling in enumerate(spelled):
        spelled[spelling] = position
        first, _, last = spelling.partition(NAME_SEPARATOR)
        first_words, first_ids = parts.get(first) or part_of(first)
        last_words, last_ids = parts.get(last) or part_of(last)
        words = first_words + last_words
        if not words:
            key_of_spelling.append(-1)
            continue
        key = " ".join(words)
        k = key_index.get(key)
        if k is None:  # not another spelling of a name met before ("María" after "Maria")
            k = key_index[key] = len(keys)
            keys.append(key)
            sorted_keys.append(" ".join(sorted(words)))
            terms.append(first_ids + last_ids)
        key_of_spelling.append(k)
    name_of_customer = np.asarray(key_of_spelling, dtype=np.int64)[
        np.fromiter(map(spelled.__getitem__, names), dtype=np.int64, count=len(names))
    ]
    spelled.clear()
    named = name_of_customer >= 0
    name_ids = name_of_customer[named] + 1  # names are numbered as met: that is their rank
    cids = np.asarray(customer_ids, dtype=np.int64)[named]
    count = len(keys)

    # Real words get ids in alphabetical order, so a name's words sorted alphabetically are
    # also sorted by id: its name_word rows come out in key order and its pairs as (low, high).
    alphabet = sorted(vocabulary)
    final = np.empty(len(vocabulary) + 1, dtype=np.int64)
    for word_id, word in enumerate(alphabet, start=1):
        final[vocabulary[word]] = word_id
    # Each name's distinct words in id order: sorting (name, word) packed in one int does both.
    written = np.fromiter(map(len, terms), dtype=np.int64, count=count)
    name_word = _sorted_unique(
        (np.repeat(np.arange(1, count + 1, dtype=np.int64), written) << NAME_BITS)
        | final[np.fromiter(chain.from_iterable(terms), dtype=np.int64, count=int(written.sum()))]
    )
    name_of, flat = name_word >> NAME_BITS, name_word & LOW_MASK
    sizes = np.bincount(name_of, minlength=count + 1)[1:]

    starts = np.cumsum(sizes) - sizes
    pair_codes: list[np.ndarray] = []
    pair_names: list[np.ndarray] = []
    for size in np.unique(sizes).tolist():
        if size < 2:
            continue
        chosen = sizes == size
        begin, holders = starts[chosen], np.flatnonzero(chosen) + 1
        for i in range(size):
            for j in range(i + 1, size):
                pair_codes.append((flat[begin + i] << NAME_BITS) | flat[begin + j])
                pair_names.append(holders)
    codes = np.concatenate(pair_codes) if pair_codes else np.empty(0, dtype=np.int64)
    paired = np.concatenate(pair_names) if pair_names else np.empty(0, dtype=np.int64)
    unique_codes = _sorted_unique(codes.copy())
    pair_of = np.searchsorted(unique_codes, codes)
    pairs = [
        f"{alphabet[(code >> NAME_BITS) - 1]}{PAIR}{alphabet[(code & LOW_MASK) - 1]}"
        for code in unique_codes.tolist()
    ]
    first_pair = len(alphabet) + 1
    posting = np.concatenate(
        ((flat << NAME_BITS) | name_of, ((pair_of + first_pair) << NAME_BITS) | paired)
    )
    posting.sort()
    df = np.bincount(flat, minlength=first_pair)[1:].tolist()
    df += np.bincount(pair_of, minlength=len(pairs)).tolist()

    by_name = np.lexsort((cids, name_ids))
    return NamePlan(
        words=alphabet + pairs,
        df=df,
        keys=keys,
        sorted_keys=sorted_keys,
        posting=posting,
        name_word=name_word,
        name_ids=name_ids[by_name],
        customer_ids=cids[by_name],
    )


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (sorts `values` in place; np.unique hashes, far slower)."""
    values.sort()
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def parse_ids(joined: str | None) -> np.ndarray:
    """Integers from "1,2,3" text (numpy parses it in C)."""
    if not joined:
        return np.empty(0, dtype=np.int64)
    ids = np.fromstring(joined, dtype=np.int64, sep=",")
    if len(ids) != joined.count(",") + 1:  # not plain integers after all
        ids = np.array([int(part) for part in joined.split(",")], dtype=np.int64)
    return ids


def plan_contacts(contacts: Iterable[Sequence[Any]]) -> list[tuple[str, str, int]]:
    """search_contact rows from (customer_id, kind, normalized) rows, in key order."""
    found: set[tuple[str, str, int]] = set()
    add = found.add
    for cid, kind, normalized in contacts:
        if kind == "phone":  # stored as digits by convention; anything else is cleaned
            digits = normalized if normalized.isdigit() else _NOT_DIGIT.sub("", normalized)
            if digits:
                add(("p", digits[::-1], cid))
        elif kind == "email":
            local = email_key(normalized)
            if local:
                add(("e", local, cid))
    # Three stable sorts on one plain key each (the same order as sorting the tuples): list.sort
    # compares str or int keys directly, tuples of them element by element through Python.
    rows = sorted(found, key=itemgetter(2))
    found.clear()
    rows.sort(key=itemgetter(1))
    rows.sort(key=itemgetter(0))
    return rows


class _Progress:
    def __init__(self, callback: Callable[[int, int], None] | None) -> None:
        self.callback = callback
        self.total = 0

    def __call__(self, share: float) -> None:
        if self.callback is not None:
            self.callback(min(self.total, int(self.total * share)), self.total)


async def rebuild(engine: AsyncEngine, callback: Callable[[int, int], None] | None) -> int:
    """See core.search.indexer.rebuild_index."""
    progress = _Progress(callback)
    database = sqlite_file(engine.url)
    if database is not None:
        total = await asyncio.to_thread(_sqlite_rebuild, database, progress)
    elif engine.dialect.name == "postgresql":
        total = await _postgres_rebuild(engine, progress)
    else:
        total = await _async_rebuild(engine, progress)
    progress(1.0)
    return total


# --- SQLite -------------------------------------------------------------------------------

Job = Callable[[sqlite3.Connection], None]


class _SqliteWriter:
    """One connection and one thread that run write jobs in order, in one transaction.

    Jobs are single statements over JSON arrays as far as possible: sqlite3 releases the GIL
    while a statement runs, so the writes overlap with this process's Python work.
    """

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(
            path, timeout=30, isolation_level=None, check_same_thread=False
        )
        for pragma in (
            "busy_timeout = 30000",
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
    marks = ", ".join("?" for _ in TABLES)
    indexes.extend(
        connection.execute(
            f"SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "
            f"AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks}) ORDER BY name",
            TABLES,
        ).fetchall()
    )
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


def _sqlite_rebuild(path: str, progress: _Progress) -> int:
    reader = sqlite3.connect(path, timeout=30)
    writer: _SqliteWriter | None = None
    # Two reading threads (the emails and the phones first, so the writer starts on them as
    # soon as they are sorted, then the customers in rank order), the writer, and this one
    # computing rows with numpy: SQLite works in C without the GIL in the other three.
    helpers = ThreadPoolExecutor(2, thread_name_prefix="search-index-read")
    try:
        reader.execute("PRAGMA busy_timeout = 30000")
        writer = _SqliteWriter(path)
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
    for table, high, low, packed in (
        ("search_posting", "word_id", "name_id", plan.posting),
        ("search_name_word", "name_id", "word_id", plan.name_word),
    ):
        sql = (
            f"INSERT INTO {table} ({high}, {low}) "
            f"SELECT value >> {NAME_BITS}, value & {LOW_MASK} FROM json_each(?)"
        )
        for start in range(0, len(packed), JSON_BATCH):
            chunk = packed[start : start + JSON_BATCH]
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


# --- PostgreSQL (and SQLite in memory) -------------------------------------------------------


def _plan_tables(plan: NamePlan, contacts: list[tuple[str, str, int]]) -> list[tuple[str, Any]]:
    """(table, rows) in the order to write them; big tables as (high, low) array pairs."""
    return [
        (
            "search_word",
            [(i, w, d) for i, (w, d) in enumerate(zip(plan.words, plan.df, strict=True), 1)],
        ),
        (
            "search_name",
            [
                (i, k, s)
                for i, (k, s) in enumerate(zip(plan.keys, plan.sorted_keys, strict=True), 1)
            ],
        ),
        ("search_posting", (plan.posting >> NAME_BITS, plan.posting & LOW_MASK)),
        ("search_name_word", (plan.name_word >> NAME_BITS, plan.name_word & LOW_MASK)),
        ("search_name_customer", (plan.name_ids, plan.customer_ids)),
        ("search_contact", contacts),
    ]


def _batches(rows: Any) -> Iterable[list[tuple[Any, ...]]]:
    if isinstance(rows, tuple):
        high, low = rows
        for start in range(0, len(high), WRITE_BATCH):
            stop = start + WRITE_BATCH
            yield list(zip(high[start:stop].tolist(), low[start:stop].tolist(), strict=True))
        return
    for start in range(0, len(rows), WRITE_BATCH):
        yield rows[start : start + WRITE_BATCH]


# PostgreSQL: contact keys for plain phones and emails are computed by the server
# (reverse(), lower(), split_part() agree with Python there); the others in Python.
_PG_PLAIN_PHONE = "kind = 'phone' AND normalized ~ '^[0-9]+$'"
_PG_PLAIN_EMAIL = "kind = 'email' AND normalized ~ '^[!-~]+$'"
_PG_ODD_CONTACTS = (
    "SELECT customer_id, kind, normalized FROM contact_point "
    f"WHERE kind IN ('phone', 'email') AND NOT ({_PG_PLAIN_PHONE}) AND NOT ({_PG_PLAIN_EMAIL})"
)
_PG_CONTACTS = (
    "INSERT INTO search_contact (kind, key, customer_id) "
    "SELECT DISTINCT kind, key, customer_id FROM ("
    "SELECT 'p' AS kind, reverse(normalized) AS key, customer_id FROM contact_point "
    f"WHERE {_PG_PLAIN_PHONE} UNION ALL "
    "SELECT 'e', lower(split_part(normalized, '@', 1)), customer_id FROM contact_point "
    f"WHERE {_PG_PLAIN_EMAIL} UNION ALL "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::int[])) AS found WHERE key <> ''"
)
_PG_CONSTRAINTS = (
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = ANY($1::regclass[]) AND contype IN ('p', 'u') ORDER BY conname"
)
_PG_INDEXES = (
    "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
    "WHERE indrelid = ANY($1::regclass[]) AND NOT EXISTS "
    "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1"
)


async def _postgres_rebuild(engine: AsyncEngine, progress: _Progress) -> int:
    """The index in one transaction: emptied, constraints and indexes dropped, filled (COPY
    and one INSERT ... SELECT), then constraints and indexes built again from their very
    definitions (one sort each instead of a B-tree insert per row)."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        db: Any = raw.driver_connection  # asyncpg
        progress.total = int(await db.fetchval("SELECT count(*) FROM customer"))
        progress(0.0)
        odd = sorted(
            {
                row
                for cid, kind, normalized in await db.fetch(_PG_ODD_CONTACTS)
                for row in contact_rows(cid, kind, normalized)
            }
        )
        ranked = await db.fetch(RANKED_SQL)
        ids = np.fromiter((row[0] for row in ranked), dtype=np.int64, count=len(ranked))
        plan = plan_names(ids, [row[1] for row in ranked])
        del ranked, ids
        progress(0.4)
        tables = _plan_tables(plan, [])[:-1]
        rows_total = plan.rows
        del plan
        written = 0
        async with db.transaction():
            await db.execute("SET LOCAL maintenance_work_mem = '256MB'")
            await db.execute(f"TRUNCATE {', '.join(TABLES)}")
            constraints = await db.fetch(_PG_CONSTRAINTS, list(TABLES))
            indexes = await db.fetch(_PG_INDEXES, list(TABLES))
            for name, _ in indexes:
                await db.execute(f"DROP INDEX {name}")
            for table, name, _ in constraints:
                await db.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            await db.execute(
                _PG_CONTACTS,
                [row[0] for row in odd],
                [row[1] for row in odd],
                [row[2] for row in odd],
            )
            progress(0.5)
            for table, rows in tables:
                for batch in _batches(rows):
                    await db.copy_records_to_table(
                        table, records=batch, columns=list(COLUMNS[table])
                    )
                    written += len(batch)
                    progress(0.5 + 0.3 * written / max(rows_total, 1))
            for table, name, definition in constraints:
                await db.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            for _, definition in indexes:
                await db.execute(definition)
            progress(0.9)
            for table in ("search_word", "search_name"):
                await db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
            for key in ("generation", "words"):
                await db.execute(
                    "INSERT INTO search_meta (key, value) VALUES ($1, 1) "
                    "ON CONFLICT (key) DO UPDATE SET value = search_meta.value + 1",
                    key,
                )
        # VACUUM, not only ANALYZE: it sets the visibility map, so the searches' index-only
        # scans of postings and name words stop visiting the heap for every row.
        await db.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
        return progress.total


async def _async_rebuild(engine: AsyncEngine, progress: _Progress) -> int:
    async with engine.connect() as conn:
        progress.total = int(
            (await conn.execute(text("SELECT count(*) FROM customer"))).scalar_one()
        )
        progress(0.0)
        contacts = plan_contacts((await conn.execute(text(CONTACTS_SQL))).all())
        progress(0.2)
        ranked = (await conn.execute(text(RANKED_SQL))).all()
        ids = np.fromiter((row[0] for row in ranked), dtype=np.int64, count=len(ranked))
        plan = plan_names(ids, [row[1] for row in ranked])
        del ranked
        await conn.commit()
        progress(0.5)
        tables = _plan_tables(plan, contacts)
        rows_total = plan.rows + len(contacts)
        del plan, contacts
        written = 0
        postgres = conn.dialect.name == "postgresql"
        async with conn.begin():
            if postgres:
                await conn.execute(text(f"TRUNCATE {', '.join(TABLES)}"))
            else:
                for table in TABLES:
                    await conn.execute(text(f"DELETE FROM {table}"))
            for table, rows in tables:
                for batch in _batches(rows):
                    await _write(conn, table, batch, postgres)
                    written += len(batch)
                    progress(0.5 + 0.45 * written / max(rows_total, 1))
            if postgres:
                for table in ("search_word", "search_name"):
                    await conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                        )
                    )
            for key in ("generation", "words"):
                await conn.execute(BUMP, {"key": key})
        if postgres:
            # VACUUM, not only ANALYZE: it sets the visibility map, so the searches' index-only
            # scans of postings and name words stop visiting the heap for every row.
            raw = await conn.get_raw_connection()
            vacuum: Any = raw.driver_connection  # asyncpg, outside any transaction
            await vacuum.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
            return progress.total
        for table in TABLES:
            await conn.execute(text(f"ANALYZE {table}"))
        await conn.commit()
        return progress.total


async def _write(conn: AsyncConnection, table: str, rows: Rows, postgres: bool) -> None:
    columns = COLUMNS[table]
    if postgres:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection  # asyncpg
        await driver.copy_records_to_table(table, records=list(rows), columns=list(columns))
        return
    marks = ", ".join("?" for _ in columns)
    await conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", list(rows)
    )
