"""Rebuilding the whole search index in bulk: read every customer once, write sorted rows.

The rows are computed in plain Python (`build_rows`). A SQLite file is read and written
through the sqlite3 module in a worker thread (large `executemany`, a big page cache); other
databases through the async engine, PostgreSQL with COPY. Everything is written in one
transaction: on SQLite searches read the old index until it commits; on PostgreSQL the tables
are truncated, so searches wait for the rebuild to finish.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any, overload

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
NAME_BITS = 32
SQLITE_CACHE_KIB = 262_144

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
CUSTOMERS_SQL = "SELECT id, first_name, last_name, last_activity_at FROM customer"
CONTACTS_SQL = "SELECT customer_id, kind, normalized FROM contact_point"

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


def build_rows(
    customers: Iterable[Sequence[Any]],
    contacts: Iterable[Sequence[Any]],
    total: int,
    progress: Progress,
) -> list[tuple[str, Rows]]:
    """Every row of the index, per table, sorted for fast loading.

    Args:
        customers: (id, first_name, last_name, last_activity_at) of every customer.
        contacts: (customer_id, kind, normalized) of every contact point.
        total: how many customers there are (for progress).
        progress: called with the share of the work done.

    Returns:
        (table, rows) in the order to write them.
    """
    words_of: dict[str, list[str]] = {}
    names: dict[str, list[Any]] = {}
    for done, (cid, first, last, activity) in enumerate(customers, start=1):
        # Folding is the slow part; first names and surnames repeat a lot.
        first_words = words_of.get(first)
        if first_words is None:
            first_words = words_of[first] = name_words(first or "")
        last_words = words_of.get(last)
        if last_words is None:
            last_words = words_of[last] = name_words(last or "")
        if not first_words and not last_words:
            continue
        key = " ".join(first_words + last_words)
        # SQLite hands back ISO text, PostgreSQL datetimes; both sort right as ISO text.
        stamp = "" if activity is None else str(activity)
        entry = names.get(key)
        if entry is None:
            names[key] = [stamp, [cid]]
        else:
            entry[1].append(cid)
            if stamp > entry[0]:
                entry[0] = stamp
        if done % 100_000 == 0:
            progress(0.3 * done / max(total, 1))
    words_of.clear()
    contact_set: set[tuple[str, str, int]] = set()
    add = contact_set.add
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
    contact_list = sorted(contact_set, key=itemgetter(2))
    contact_set.clear()
    contact_list.sort(key=itemgetter(1))
    contact_list.sort(key=itemgetter(0))
    progress(0.4)

    ranked = sorted(names.items(), key=lambda item: item[1][0], reverse=True)
    names.clear()
    term_ids: dict[str, int] = {}
    df: list[int] = []
    name_rows: list[tuple[int, str, str]] = []
    name_word: list[tuple[int, int]] = []
    packed: list[int] = []  # word id and name id in one int: sorting ints is far faster
    name_customer: list[tuple[int, int]] = []
    for name_id, (key, (_, customers_of)) in enumerate(ranked, start=1):
        name_rows.append((name_id, key, " ".join(sorted(key.split()))))
        for term in name_terms(key):
            tid = term_ids.get(term)
            if tid is None:
                tid = term_ids[term] = len(term_ids) + 1
                df.append(0)
            df[tid - 1] += 1
            packed.append(tid << NAME_BITS | name_id)
            if PAIR not in term:
                name_word.append((name_id, tid))
        name_customer.extend((name_id, cid) for cid in sorted(customers_of))
    ranked.clear()
    word_rows = [(tid, term, df[tid - 1]) for term, tid in term_ids.items()]
    packed.sort()
    mask = (1 << NAME_BITS) - 1
    posting = _Unpacked(packed, mask)
    progress(0.5)
    return [
        ("search_word", word_rows),
        ("search_name", name_rows),
        ("search_posting", posting),
        ("search_name_word", name_word),
        ("search_name_customer", name_customer),
        ("search_contact", contact_list),
    ]


class _Unpacked(Sequence[tuple[int, int]]):
    """(word id, name id) rows read from packed ints, without a list of tuples in memory."""

    def __init__(self, packed: list[int], mask: int) -> None:
        self._packed = packed
        self._mask = mask

    def __len__(self) -> int:
        return len(self._packed)

    @overload
    def __getitem__(self, index: int) -> tuple[int, int]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[int, int]]: ...

    def __getitem__(self, index: int | slice) -> tuple[int, int] | list[tuple[int, int]]:
        mask = self._mask
        if isinstance(index, slice):
            return [(v >> NAME_BITS, v & mask) for v in self._packed[index]]
        value = self._packed[index]
        return (value >> NAME_BITS, value & mask)


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
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        total = await asyncio.to_thread(_sqlite_rebuild, database, progress)
    else:
        total = await _async_rebuild(engine, progress)
    progress(1.0)
    return total


def _sqlite_rebuild(path: str, progress: _Progress) -> int:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        connection.execute("PRAGMA synchronous = NORMAL")
        progress.total = int(connection.execute("SELECT count(*) FROM customer").fetchone()[0])
        progress(0.0)
        plan = build_rows(
            connection.execute(CUSTOMERS_SQL),
            connection.execute(CONTACTS_SQL),
            progress.total,
            progress,
        )
        rows_total = sum(len(rows) for _, rows in plan) or 1
        written = 0
        connection.execute("BEGIN IMMEDIATE")
        try:
            for table in TABLES:
                connection.execute(f"DELETE FROM {table}")
            for table, rows in plan:
                columns = COLUMNS[table]
                sql = (
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})"
                )
                for start in range(0, len(rows), WRITE_BATCH):
                    batch = rows[start : start + WRITE_BATCH]
                    connection.executemany(sql, batch)
                    written += len(batch)
                    progress(0.5 + 0.45 * written / rows_total)
            for key in ("generation", "words"):
                connection.execute(
                    "INSERT INTO search_meta (key, value) VALUES (?, 1) "
                    "ON CONFLICT (key) DO UPDATE SET value = search_meta.value + 1",
                    (key,),
                )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("PRAGMA analysis_limit = 1000")  # planner statistics from samples
        for table in TABLES:
            connection.execute(f"ANALYZE {table}")
        return progress.total
    finally:
        connection.close()


async def _async_rebuild(engine: AsyncEngine, progress: _Progress) -> int:
    async with engine.connect() as conn:
        progress.total = int(
            (await conn.execute(text("SELECT count(*) FROM customer"))).scalar_one()
        )
        progress(0.0)
        customers = (await conn.execute(text(CUSTOMERS_SQL))).all()
        contacts = (await conn.execute(text(CONTACTS_SQL))).all()
        await conn.commit()
        plan = build_rows(customers, contacts, progress.total, progress)
        del customers, contacts
        rows_total = sum(len(rows) for _, rows in plan) or 1
        written = 0
        postgres = conn.dialect.name == "postgresql"
        async with conn.begin():
            if postgres:
                await conn.execute(text(f"TRUNCATE {', '.join(TABLES)}"))
            else:
                for table in TABLES:
                    await conn.execute(text(f"DELETE FROM {table}"))
            for table, rows in plan:
                for start in range(0, len(rows), WRITE_BATCH):
                    batch = rows[start : start + WRITE_BATCH]
                    await _write(conn, table, batch, postgres)
                    written += len(batch)
                    progress(0.5 + 0.45 * written / rows_total)
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
