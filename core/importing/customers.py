"""Importing customers: upsert by customer number, add new phones and emails, re-index.

An empty cell never erases what is stored: it means "not known in this file". Phones and
emails are added when new and never removed; a customer's first phone and first email become
the primary ones when the customer has none. Rows are parsed by core.importing.customer_rows;
each database has one customer upsert (core.importing.sqlite_write, postgres_write), used
batch by batch here and chunk by chunk for big files (core.importing.customer_bulk).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import publish_change
from core.importing import postgres_write, sqlite_write
from core.importing.base import Reject, Row
from core.importing.customer_rows import CustomerRecord, RowParser, make_parser, merge
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
            # The driver's transaction starts with the first statement through SQLAlchemy.
            await connection.execute(text("SELECT 1"))
            raw = await connection.get_raw_connection()
            ids = await postgres_write.write_records(
                raw.driver_connection, merged, utcnow().replace(tzinfo=None)
            )
        if self.index_now:
            await index_customers(session, sorted(ids.values()))
        await publish_change(session, "customer", "import")
        return []
