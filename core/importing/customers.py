"""Importing customers: upsert by customer number, add new phones and emails, re-index.

An empty cell never erases what is stored: it means "not known in this file". Phones and
emails are added when new and never removed; a customer's first phone and first email become
the primary ones when the customer has none. Rows are parsed by core.importing.customer_rows;
big files on SQLite are written by core.importing.sqlite_write.BulkWriter instead of `write`
(see core.importing.runner).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.db import publish_change
from core.importing import sqlite_write
from core.importing.base import Reject, Row, chunks, customer_ids
from core.importing.bulk import executemany
from core.importing.customer_rows import UPDATABLE, CustomerRecord, RowParser, make_parser, merge
from core.models import ContactPoint
from core.models.types import utcnow
from core.search.indexer import index_customers


class CustomerImport:
    name: str = "customers"
    required: tuple[str, ...] = ("external_id", "first_name", "last_name")
    optional: tuple[str, ...] = (
        "email", "email2", "phone", "phone2", "phone3", "mobile", "city", "country",
        "birth_date", "created_at", "marketing_consent", "do_not_call",
    )  # fmt: skip

    def __init__(self, tz: tzinfo | None = None) -> None:
        self.tz = tz
        self.today = date.today()
        self.index_now = True
        """Index the customers for search in each batch's transaction; False when the caller
        rebuilds the whole index after a big import."""

    def parse(self, row: dict[str, str]) -> CustomerRecord:
        """One row given as column -> cell (see `parser` for the fast form)."""
        columns = list(row)
        return self.parser(columns)([row[c] for c in columns])

    def parser(self, columns: Sequence[str]) -> RowParser:
        """A function from a record's fields (in the order of `columns`) to its values."""
        return make_parser(columns, self.tz, self.today)

    async def write(self, session: AsyncSession, rows: list[Row]) -> list[Reject]:
        merged = merge([row.values for row in rows])
        connection = await session.connection()
        if connection.dialect.name == "sqlite":
            raw = await connection.get_raw_connection()
            ids = await sqlite_write.run(raw.driver_connection, merged)
        else:
            ids = await _write_with_session(session, merged)
        if self.index_now:
            await index_customers(session, sorted(ids.values()))
        await publish_change(session, "customer", "import")
        return []


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _flag(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _typed(record: CustomerRecord) -> tuple[Any, ...]:
    """UPDATABLE's values as PostgreSQL takes them (dates, naive UTC datetimes, booleans)."""
    _, first, last, city, country, birth, since, created, consent, dnc = record[:10]
    return (
        first, last, city, country, _day(birth), _day(since), _moment(created), _flag(consent),
        _flag(dnc),
    )  # fmt: skip


async def _write_with_session(
    session: AsyncSession, merged: dict[str, CustomerRecord]
) -> dict[str, int]:
    existing = await customer_ids(session, merged)
    now = utcnow().replace(tzinfo=None)
    new = [_typed(r) for key, r in merged.items() if key not in existing]
    if new:
        await executemany(
            session,
            "INSERT INTO customer (external_id, first_name, last_name, city, country, "
            "birth_date, customer_since, created_at, marketing_consent, do_not_call, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "...........",
            [
                (key, first or "", last or "", city or "", country or "", birth, since,
                 created or now,
                 bool(consent), bool(dnc), now)
                for key, (first, last, city, country, birth, since, created, consent, dnc) in zip(
                    (k for k in merged if k not in existing), new, strict=True
                )
            ],
        )  # fmt: skip
    changed = [key for key in merged if key in existing]
    if changed:
        assignments = ", ".join(f"{name} = COALESCE(?, {name})" for name in UPDATABLE)
        await executemany(
            session,
            f"UPDATE customer SET {assignments}, updated_at = ? WHERE id = ?",
            "...........",
            [(*_typed(merged[key]), now, existing[key]) for key in changed],
        )
    ids = existing | await customer_ids(session, [k for k in merged if k not in existing])
    await _add_contact_points(session, merged, ids, existing)
    return ids


async def _add_contact_points(
    session: AsyncSession,
    merged: dict[str, CustomerRecord],
    ids: dict[str, int],
    existing: dict[str, int],
) -> None:
    known: set[tuple[int, str, str]] = set()
    old_ids = sorted(existing.values())
    statement = select(
        col(ContactPoint.customer_id), col(ContactPoint.kind), col(ContactPoint.normalized)
    ).where(col(ContactPoint.customer_id).in_(bindparam("ids", expanding=True)))
    for part in chunks(old_ids):
        result = await session.execute(statement, {"ids": list(part)})
        known.update((int(c), k, n) for c, k, n in result.all())
    rows = sqlite_write.new_points(merged, ids, existing, known)
    await executemany(
        session,
        "INSERT INTO contact_point (customer_id, kind, value, normalized, label, is_primary) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        ".....b",
        rows,
    )
    if old_ids:
        await _give_primaries(session, old_ids)


async def _give_primaries(session: AsyncSession, customer_ids: list[int]) -> None:
    """A customer's oldest phone (email) becomes primary when none of them is."""
    for part in chunks(customer_ids):
        await session.execute(
            text(
                "UPDATE contact_point SET is_primary = :yes WHERE id IN ("
                " SELECT MIN(id) FROM contact_point WHERE customer_id IN :ids"
                " GROUP BY customer_id, kind"
                " HAVING SUM(CASE WHEN is_primary THEN 1 ELSE 0 END) = 0)"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": list(part), "yes": True},
        )
