"""The two customer upserts (SQLite's and PostgreSQL's) store the same customers from the same
rows: new and known customers, empty cells that keep stored values, phones and emails added
but never removed, the primary phone and email."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from core.fastpath.postgres import connect
from core.importing import postgres_write, sqlite_write
from core.importing.customer_rows import CustomerRecord, Point, merge

NOW = datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
FIRST = ["María", "José", "Ana", "Ángel", "Zoë"]
LAST = ["García López", "Núñez", "O'Brien", "Smith"]
PHONES = [(f"+34 6{n:02d} 00 00 00", f"346{n:02d}000000", "mobile") for n in range(8)]
EMAILS = [(f"User{n}@Example.com", f"user{n}@example.com", "") for n in range(6)]

CUSTOMER = (
    "external_id, first_name, last_name, city, country, birth_date, customer_since, "
    "created_at, marketing_consent, do_not_call, updated_at"
)
POINTS = (
    "SELECT c.external_id, p.kind, p.value, p.normalized, p.label, p.is_primary "
    "FROM contact_point p JOIN customer c ON c.id = p.customer_id "
    "ORDER BY c.external_id, p.kind, p.normalized"
)


def _maybe(rng: random.Random, value: Any) -> Any:
    return None if rng.random() < 0.3 else value


def _points(rng: random.Random, pool: list[Point]) -> list[Point]:
    return rng.sample(pool, rng.randint(0, 3))


def random_record(rng: random.Random) -> CustomerRecord:
    day = date(1950, 1, 1).toordinal() + rng.randint(0, 20000)
    return (
        f"C{rng.randint(1, 25):03d}",
        _maybe(rng, rng.choice(FIRST)),
        _maybe(rng, rng.choice(LAST)),
        _maybe(rng, rng.choice(["Madrid", "Sevilla", ""])),
        _maybe(rng, rng.choice(["ES", "GB"])),
        _maybe(rng, date.fromordinal(day).isoformat()),
        _maybe(rng, date.fromordinal(day + 9000).isoformat()),
        _maybe(rng, f"2020-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 08:15:00.000000"),
        _maybe(rng, rng.randint(0, 1)),
        _maybe(rng, rng.randint(0, 1)),
        _points(rng, PHONES),
        _points(rng, EMAILS),
    )


def _text(value: Any) -> Any:
    """A stored value as comparable text: SQLite keeps dates and times as text, flags 0/1."""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S.%f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _rows(found: list[Any]) -> list[tuple[Any, ...]]:
    return [tuple(_text(value) for value in row) for row in found]


def on_sqlite(path: str, batches: list[dict[str, CustomerRecord]]) -> tuple[list[Any], ...]:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for batch in batches:
            ids = sqlite_write.write_batch(db, batch)
            db.execute("COMMIT")
            assert set(ids) == set(batch)
        customers = db.execute(f"SELECT {CUSTOMER} FROM customer ORDER BY external_id")
        return _rows(customers.fetchall()), _rows(db.execute(POINTS).fetchall())
    finally:
        db.close()


async def on_postgres(url: str, batches: list[dict[str, CustomerRecord]]) -> tuple[list[Any], ...]:
    db = await connect(url)
    try:
        await db.execute("TRUNCATE customer RESTART IDENTITY CASCADE")
        for batch in batches:
            async with db.transaction():
                ids = await postgres_write.write_records(db, batch, NOW.replace(tzinfo=None))
            assert set(ids) == set(batch)
        customers = await db.fetch(f"SELECT {CUSTOMER} FROM customer ORDER BY external_id")
        return _rows(customers), _rows(await db.fetch(POINTS))
    finally:
        await db.close()


@pytest.mark.postgres
@pytest.mark.parametrize("seed", range(5))
async def test_both_databases_upsert_random_rows_alike(
    seed: int, sqlite_url: str, pg_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_write, "utcnow", lambda: NOW)
    rng = random.Random(seed)
    # Customer numbers repeat within and across batches: inserts, updates, merges.
    batches = [merge([random_record(rng) for _ in range(20)]) for _ in range(4)]
    sqlite = on_sqlite(str(make_url(sqlite_url).database), batches)
    postgres = await on_postgres(pg_database_url, batches)
    assert sqlite == postgres
    customers, points = sqlite
    assert len(customers) == len({key for batch in batches for key in batch})
    # Some customers have their phones from several batches, one of them primary.
    primaries = {(row[0], row[1]) for row in points if row[5]}
    assert primaries == {(row[0], row[1]) for row in points}
