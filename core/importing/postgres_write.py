"""The customer upsert on PostgreSQL: COPY into temporary tables, then a few set-wise
statements, all in the caller's transaction. Every customers import on PostgreSQL goes through
it: a big file chunk by chunk (`write_chunk`), a small one batch by batch (`write_records`).

Row-by-row INSERTs and UPDATEs cost a round trip's worth of server work per row; COPY sends
the chunk in one stream (asyncpg's binary format) and the upsert is then four statements for
the whole chunk, with the same rules as the other writers: an empty cell (NULL) keeps the
stored value, phones and emails are added when new and never removed, a new customer's first
phone and first email are primary, an existing customer without a primary one gets its
oldest. The chunk must not name a customer twice (core.importing.customer_rows.merge first).
The SQLite counterpart, with the same rules, is core.importing.sqlite_write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from itertools import count
from typing import Any

from core.db import NOTIFY_CHANNEL
from core.fastpath.postgres import converted
from core.importing.customer_columns import ParsedChunk
from core.importing.customer_rows import UPDATABLE, CustomerRecord

_STAGE = """
DROP TABLE IF EXISTS import_customer, import_point;
CREATE TEMPORARY TABLE import_customer (
    n integer PRIMARY KEY, external_id text NOT NULL, first_name text, last_name text,
    city text, country text, birth_date date, customer_since date, created_at timestamp,
    marketing_consent boolean, do_not_call boolean, customer_id integer,
    is_new boolean NOT NULL DEFAULT false
) ON COMMIT DROP;
CREATE TEMPORARY TABLE import_point (
    ord integer, n integer, kind text, value text, normalized text, label text,
    is_first boolean
) ON COMMIT DROP
"""
_CUSTOMER_COLUMNS = ["n", "external_id", *UPDATABLE]
_POINT_COLUMNS = ["ord", "n", "kind", "value", "normalized", "label", "is_first"]
_UPSERT = [
    "CREATE UNIQUE INDEX ON import_customer (external_id)",
    "ANALYZE import_customer",
    "UPDATE import_customer i SET customer_id = c.id FROM customer c "
    "WHERE c.external_id = i.external_id",
    "UPDATE customer c SET "
    + ", ".join(f"{name} = COALESCE(i.{name}, c.{name})" for name in UPDATABLE)
    + ", updated_at = $1 FROM import_customer i WHERE i.customer_id = c.id",
    "WITH added AS ("
    " INSERT INTO customer (external_id, first_name, last_name, city, country, birth_date,"
    " customer_since, created_at, marketing_consent, do_not_call, updated_at)"
    " SELECT external_id, COALESCE(first_name, ''), COALESCE(last_name, ''),"
    " COALESCE(city, ''), COALESCE(country, ''), birth_date, customer_since,"
    " COALESCE(created_at, $1), COALESCE(marketing_consent, false),"
    " COALESCE(do_not_call, false), $1"
    " FROM import_customer WHERE customer_id IS NULL ORDER BY n"
    " RETURNING id, external_id)"
    " UPDATE import_customer i SET customer_id = a.id, is_new = true FROM added a"
    " WHERE a.external_id = i.external_id",
    "INSERT INTO contact_point (customer_id, kind, value, normalized, label, is_primary)"
    " SELECT i.customer_id, p.kind, p.value, p.normalized, p.label, p.is_first AND i.is_new"
    " FROM import_point p JOIN import_customer i ON i.n = p.n ORDER BY p.ord"
    " ON CONFLICT (customer_id, kind, normalized) DO NOTHING",
    "UPDATE contact_point SET is_primary = true WHERE id IN ("
    " SELECT MIN(cp.id) FROM contact_point cp"
    " JOIN import_customer i ON i.customer_id = cp.customer_id AND NOT i.is_new"
    " GROUP BY cp.customer_id, cp.kind HAVING NOT bool_or(cp.is_primary))",
]


def _typed(columns: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """external_id and the UPDATABLE columns as asyncpg's COPY takes them (dates, naive UTC
    datetimes, booleans instead of SQLite's text and 0/1)."""
    ids, first, last, city, country, birth, since, created, consent, dnc = columns
    return [
        ids, first, last, city, country,
        converted(birth, date.fromisoformat),
        converted(since, date.fromisoformat),
        converted(created, datetime.fromisoformat),
        converted(consent, bool),
        converted(dnc, bool),
    ]  # fmt: skip


async def _upsert(
    driver: Any, columns: Sequence[Sequence[Any]], points: Sequence[Sequence[Any]], now: datetime
) -> None:
    """Stage the rows with COPY and upsert them; `import_customer` then holds their ids."""
    await driver.execute(_STAGE)
    await driver.copy_records_to_table(
        "import_customer",
        records=zip(count(), *_typed(columns), strict=False),
        columns=_CUSTOMER_COLUMNS,
    )
    rows, kinds, written, normalized, labels, firsts = points
    await driver.copy_records_to_table(
        "import_point",
        records=zip(
            count(), rows, kinds, written, normalized, labels, map(bool, firsts), strict=False
        ),
        columns=_POINT_COLUMNS,
    )
    for statement in _UPSERT:
        if "$1" in statement:
            await driver.execute(statement, now)
        else:
            await driver.execute(statement)


async def write_chunk(driver: Any, chunk: ParsedChunk, now: datetime) -> None:
    """Upsert the chunk's good rows on an asyncpg connection inside a transaction, and tell
    other processes customers changed.

    Args:
        driver: the asyncpg connection of a SQLAlchemy connection in a transaction.
        chunk: parsed rows, no customer twice (`repeated` False).
        now: naive UTC, for updated_at (and created_at when the file has none).
    """
    await _upsert(driver, chunk.columns, chunk.points, now)
    await driver.execute(
        "INSERT INTO change_event (at, topic, key) VALUES ($1, 'customer', 'import')", now
    )
    await driver.execute("SELECT pg_notify($1, 'customer:import')", NOTIFY_CHANNEL)


async def write_records(
    driver: Any, merged: Mapping[str, CustomerRecord], now: datetime
) -> dict[str, int]:
    """Upsert these customers (one record each) inside the caller's transaction.

    Returns:
        Customer number -> id for every customer given.
    """
    records = list(merged.values())
    columns: list[Sequence[Any]] = (
        [list(column) for column in zip(*(record[:10] for record in records), strict=True)]
        if records
        else [[] for _ in range(10)]
    )
    points: list[list[Any]] = [[], [], [], [], [], []]
    for row, record in enumerate(records):
        for kind, entries in (("phone", record[10]), ("email", record[11])):
            for position, (written, normalized, label) in enumerate(entries):
                for column, value in zip(
                    points, (row, kind, written, normalized, label, position == 0), strict=True
                ):
                    column.append(value)
    await _upsert(driver, columns, points, now)
    found = await driver.fetch("SELECT external_id, customer_id FROM import_customer")
    return {external_id: customer_id for external_id, customer_id in found}
