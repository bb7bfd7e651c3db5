"""One customer's rows for a profile: the customer, products held and purchases.

On SQLite (aiosqlite) and PostgreSQL (asyncpg) one hand-written statement fetches all three
straight through the driver, in one round trip; other drivers run the three SQLAlchemy Core
statements below, which say the same.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, Integer, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from core.analytics.store import purchase_query
from core.models import Customer, Holding, Interaction, LoyaltyAccount, NpsResponse, Product
from core.models import Transaction as Purchase
from core.models.types import UtcDateTime, parse_sqlite_time

_CID = bindparam("cid", type_=Integer)
_DAY = bindparam("day", type_=Date)
_END = bindparam("end", type_=UtcDateTime())

_HEAD = (
    select(
        col(Customer.customer_since),
        col(Customer.created_at),
        col(LoyaltyAccount.tier),
        col(LoyaltyAccount.points),
        col(LoyaltyAccount.tier_since),
        select(col(NpsResponse.score))
        .where(col(NpsResponse.customer_id) == _CID, col(NpsResponse.at) < _END)
        .order_by(col(NpsResponse.at).desc(), col(NpsResponse.id).desc())
        .limit(1)
        .scalar_subquery(),
        select(func.max(col(Interaction.at)))
        .where(col(Interaction.customer_id) == _CID, col(Interaction.at) < _END)
        .scalar_subquery(),
    )
    .select_from(Customer)
    .outerjoin(LoyaltyAccount, col(LoyaltyAccount.customer_id) == col(Customer.id))
    .where(col(Customer.id) == _CID)
)
"""Customer, loyalty account, latest NPS answer and latest contact, in one query."""

_HELD = (
    select(col(Product.code), col(Product.line))
    .join(Holding, col(Holding.product_id) == col(Product.id))
    .where(
        col(Holding.customer_id) == _CID,
        col(Holding.since) <= _DAY,
        or_(col(Holding.ended_on).is_(None), col(Holding.ended_on) > _DAY),
    )
    .order_by(col(Product.line), col(Product.code))
)
"""Products held on the day."""


@functools.cache
def _purchases(dialect: str) -> Any:
    return purchase_query(dialect).where(col(Purchase.customer_id) == _CID, col(Purchase.at) < _END)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _sqlite_day(value: Any) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


_SQLITE_PROFILE = """
SELECT c.customer_since, c.created_at, a.tier, a.points, a.tier_since,
  (SELECT n.score FROM nps_response n WHERE n.customer_id = :cid AND n.at < :end
    ORDER BY n.at DESC, n.id DESC LIMIT 1),
  (SELECT max(i.at) FROM interaction i WHERE i.customer_id = :cid AND i.at < :end),
  (SELECT json_group_array(json_array(held.code, held.line)) FROM (
    SELECT p.code, p.line FROM holding h JOIN product p ON p.id = h.product_id
    WHERE h.customer_id = :cid AND h.since <= :day AND (h.ended_on IS NULL OR h.ended_on > :day)
    ORDER BY p.line, p.code) AS held),
  (SELECT json_group_array(json_array(
      CAST(julianday(t.at) - 2440587.5 AS INTEGER), CAST(t.amount AS REAL)))
    FROM purchase t WHERE t.customer_id = :cid AND t.at < :end)
FROM customer c LEFT JOIN loyalty_account a ON a.customer_id = c.id
WHERE c.id = :cid
"""
"""The same three reads as _HEAD, _HELD and the purchases, in one statement."""


async def _read_sqlite(
    connection: AsyncConnection, params: dict[str, Any]
) -> tuple[Any, list[Any], list[Any]]:
    """The whole profile in one statement straight through aiosqlite: one thread hop, where
    three SQLAlchemy executions make twelve (each a wait for the GIL on a busy machine)."""
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    values = {name: _sqlite_value(value) for name, value in params.items()}
    found = list(await raw.execute_fetchall(_SQLITE_PROFILE, values))
    if not found:
        return None, [], []
    since, created, tier, points, tier_since, nps, contact, held, bought = found[0]
    head = (
        _sqlite_day(since),
        parse_sqlite_time(created),
        tier,
        points,
        _sqlite_day(tier_since),
        nps,
        parse_sqlite_time(contact),
    )
    cid = params["cid"]
    purchases = [(cid, day, amount) for day, amount in json.loads(bought or "[]")]
    return head, [tuple(item) for item in json.loads(held or "[]")], purchases


async def read_customer(
    connection: AsyncConnection, params: dict[str, Any]
) -> tuple[Any, list[Any], list[Any]]:
    """(head row or None, products held, purchases) for `params` cid, day and end.

    The head row is (customer since, created at, tier, points, tier since, latest NPS score,
    latest contact); products are (code, line); purchases (customer id, day number, amount).
    """
    if connection.dialect.name == "sqlite":
        return await _read_sqlite(connection, params)
    if connection.dialect.driver == "asyncpg":
        return await _read_asyncpg(connection, params)
    head = (await connection.execute(_HEAD, params)).one_or_none()
    held = list((await connection.execute(_HELD, params)).all())
    rows = list((await connection.execute(_purchases("postgresql"), params)).all())
    return head, held, rows


_ASYNCPG_PROFILE = """
SELECT c.customer_since, c.created_at, a.tier, a.points, a.tier_since,
  (SELECT n.score FROM nps_response n WHERE n.customer_id = $1 AND n.at < $2
    ORDER BY n.at DESC, n.id DESC LIMIT 1),
  (SELECT max(i.at) FROM interaction i WHERE i.customer_id = $1 AND i.at < $2),
  ARRAY(SELECT p.code FROM holding h JOIN product p ON p.id = h.product_id
    WHERE h.customer_id = $1 AND h.since <= $3 AND (h.ended_on IS NULL OR h.ended_on > $3)
    ORDER BY p.line, p.code),
  ARRAY(SELECT p.line FROM holding h JOIN product p ON p.id = h.product_id
    WHERE h.customer_id = $1 AND h.since <= $3 AND (h.ended_on IS NULL OR h.ended_on > $3)
    ORDER BY p.line, p.code),
  ARRAY(SELECT CAST(floor(extract(epoch FROM t.at) / 86400) AS INTEGER) FROM purchase t
    WHERE t.customer_id = $1 AND t.at < $2 ORDER BY t.id),
  ARRAY(SELECT CAST(t.amount AS DOUBLE PRECISION) FROM purchase t
    WHERE t.customer_id = $1 AND t.at < $2 ORDER BY t.id)
FROM customer c LEFT JOIN loyalty_account a ON a.customer_id = c.id
WHERE c.id = $1
"""
"""The same three reads as _HEAD, _HELD and the purchases, in one round trip."""


async def _read_asyncpg(
    connection: AsyncConnection, params: dict[str, Any]
) -> tuple[Any, list[Any], list[Any]]:
    """One prepared statement (asyncpg caches it per connection) for the whole profile:
    one round trip instead of three, without SQLAlchemy's per-execution work."""
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    end = params["end"].astimezone(UTC).replace(tzinfo=None)  # stored as naive UTC
    row = await raw.fetchrow(_ASYNCPG_PROFILE, params["cid"], end, params["day"])
    if row is None:
        return None, [], []
    since, created, tier, points, tier_since, nps, contact, codes, lines, days, amounts = row
    head = (
        since,
        created.replace(tzinfo=UTC) if created else None,
        tier,
        points,
        tier_since,
        nps,
        contact.replace(tzinfo=UTC) if contact else None,
    )
    held = list(zip(codes, lines, strict=True))
    purchases = [(params["cid"], day, amount) for day, amount in zip(days, amounts, strict=True)]
    return head, held, purchases
