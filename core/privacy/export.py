"""Everything held about one customer, from every table that refers to them (GDPR art. 15, 20).

The tables are found by introspection, not listed by hand: a table with a `customer_id`
column or a foreign key to `customer` is in the export the day it is added.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

import core.models  # noqa: F401  (registers every table on the metadata)

CUSTOMER_TABLE = "customer"


def customer_tables() -> dict[str, str]:
    """Each table that refers to a customer -> the column that does (`customer` -> "id")."""
    found: dict[str, str] = {CUSTOMER_TABLE: "id"}
    for table in SQLModel.metadata.sorted_tables:
        if table.name == CUSTOMER_TABLE:
            continue
        for column in table.columns:
            points_at_customer = any(
                fk.column.table.name == CUSTOMER_TABLE for fk in column.foreign_keys
            )
            if column.name == "customer_id" or points_at_customer:
                found[table.name] = column.name
                break
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


async def export_rows(session: AsyncSession, customer_id: int) -> dict[str, list[dict[str, Any]]]:
    """The customer's rows in every table that refers to them, by table name.

    Args:
        session: an open session.
        customer_id: the customer's database id.

    Returns:
        table name -> its rows as JSON-ready dicts (times ISO 8601 UTC, money as text);
        every referring table is present, empty or not.
    """
    tables: dict[str, Table] = {t.name: t for t in SQLModel.metadata.sorted_tables}
    held: dict[str, list[dict[str, Any]]] = {}
    for name, column in sorted(customer_tables().items()):
        table = tables[name]
        key = table.c[column]
        order = list(table.primary_key.columns) or [key]
        result = await session.execute(select(table).where(key == customer_id).order_by(*order))
        held[name] = [
            {field: _plain(value) for field, value in row._mapping.items()} for row in result
        ]
    return held
