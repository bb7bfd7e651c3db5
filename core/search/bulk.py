"""Rebuilding the whole search index in bulk: read every customer once, write sorted rows.

On SQLite the rows go in through `executemany`; on PostgreSQL through COPY. Everything is
one transaction: on SQLite searches read the old index until it commits; on PostgreSQL the
tables are truncated, so searches wait for the rebuild to finish.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

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
READ_BATCH = 50_000
WRITE_BATCH = 200_000

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


class _Progress:
    def __init__(self, callback: Callable[[int, int], None] | None, total: int) -> None:
        self.callback = callback
        self.total = total

    def __call__(self, share: float) -> None:
        if self.callback is not None:
            self.callback(min(self.total, int(self.total * share)), self.total)


def _activity_key(value: Any) -> str:
    # SQLite hands back ISO text, PostgreSQL datetimes; both sort right as ISO text.
    return "" if value is None else str(value)


def name_terms(key: str) -> list[str]:
    """What a name is indexed under: its distinct words and every pair of them ("a+b").

    Pairs are pseudo-words: their posting lists answer two common words at once
    ("garcia lopez") without reading either word's long list.
    """
    words = sorted(set(key.split()))
    pairs = [f"{a}{PAIR}{b}" for i, a in enumerate(words) for b in words[i + 1 :]]
    return words + pairs


async def _read(conn: AsyncConnection, sql: str) -> AsyncIterator[Sequence[Any]]:
    """Every row of `sql` (which selects an `id`-ordered key first), in keyset pages."""
    last = -1
    while True:
        rows = (await conn.execute(text(sql), {"last": last, "size": READ_BATCH})).all()
        if not rows:
            return
        last = rows[-1][0]
        yield rows


async def rebuild(engine: AsyncEngine, callback: Callable[[int, int], None] | None) -> int:
    """See core.search.indexer.rebuild_index."""
    async with engine.connect() as conn:
        total = int((await conn.execute(text("SELECT count(*) FROM customer"))).scalar_one())
        progress = _Progress(callback, total)
        progress(0.0)
        words_of: dict[str, list[str]] = {}
        names: dict[str, list[Any]] = {}
        done = 0
        pages = _read(
            conn,
            "SELECT id, first_name, last_name, last_activity_at FROM customer "
            "WHERE id > :last ORDER BY id LIMIT :size",
        )
        async for chunk in pages:
            for cid, first, last, activity in chunk:
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
                entry = names.get(key)
                stamp = "" if activity is None else str(activity)
                if entry is None:
                    names[key] = [stamp, [cid]]
                else:
                    entry[1].append(cid)
                    if stamp > entry[0]:
                        entry[0] = stamp
            done += len(chunk)
            progress(0.35 * done / max(total, 1))
        words_of.clear()
        contacts = await _contacts(conn)
        progress(0.45)
        await conn.commit()

        ranked = sorted(names.items(), key=lambda item: item[1][0], reverse=True)
        names.clear()
        term_ids: dict[str, int] = {}
        df: list[int] = []
        name_rows: list[tuple[int, str, str]] = []
        name_word: list[tuple[int, int]] = []
        posting: list[tuple[int, int]] = []
        name_customer: list[tuple[int, int]] = []
        for name_id, (key, (_, customers)) in enumerate(ranked, start=1):
            name_rows.append((name_id, key, " ".join(sorted(key.split()))))
            for term in name_terms(key):
                tid = term_ids.get(term)
                if tid is None:
                    tid = term_ids[term] = len(term_ids) + 1
                    df.append(0)
                df[tid - 1] += 1
                posting.append((tid, name_id))
                if PAIR not in term:
                    name_word.append((name_id, tid))
            name_customer.extend((name_id, cid) for cid in sorted(customers))
        ranked.clear()
        word_rows = [(tid, term, df[tid - 1]) for term, tid in term_ids.items()]
        name_word.sort()
        posting.sort()
        progress(0.5)

        plan: list[tuple[str, Sequence[tuple[Any, ...]]]] = [
            ("search_word", word_rows),
            ("search_name", name_rows),
            ("search_posting", posting),
            ("search_name_word", name_word),
            ("search_name_customer", name_customer),
            ("search_contact", contacts),
        ]
        rows_total = sum(len(rows) for _, rows in plan)
        written = 0
        postgres = conn.dialect.name == "postgresql"
        if not postgres:  # big B-trees are built far faster with a big page cache
            await conn.exec_driver_sql("PRAGMA cache_size = -262144")
            await conn.commit()
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
        for table in TABLES:
            await conn.execute(text(f"ANALYZE {table}"))
        await conn.commit()
        progress(1.0)
        return total


async def _contacts(conn: AsyncConnection) -> list[tuple[str, str, int]]:
    rows: set[tuple[str, str, int]] = set()
    pages = _read(
        conn,
        "SELECT id, customer_id, kind, normalized FROM contact_point "
        "WHERE id > :last ORDER BY id LIMIT :size",
    )
    async for chunk in pages:
        for _, cid, kind, normalized in chunk:
            rows.update(contact_rows(cid, kind, normalized))
    return sorted(rows)


async def _write(
    conn: AsyncConnection, table: str, rows: Iterable[tuple[Any, ...]], postgres: bool
) -> None:
    columns = COLUMNS[table]
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection  # asyncpg: COPY; aiosqlite: one executemany
    if postgres:
        await driver.copy_records_to_table(table, records=list(rows), columns=list(columns))
        return
    marks = ", ".join("?" for _ in columns)
    await driver.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
