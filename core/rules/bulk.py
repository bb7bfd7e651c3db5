"""The whole customer base as the rules see it, read in batches for the simulation.

Customers are read with one streaming query; for each batch, the related rows (loyalty,
holdings, purchases, NPS, interactions, past offers) come from range queries on a second
connection. Purchases are scored with core.analytics against the stored population fit, so a
customer's figures here are the ones `AnalyticsService.profile` gives for the same day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col

from core.analytics.config import AnalyticsConfig
from core.analytics.customer import profile_of
from core.analytics.loyalty import TierStatus, tier_status
from core.analytics.metrics import Population, day_number, scored_figures
from core.analytics.profile import CustomerProfile
from core.analytics.store import day_end, day_of, driver_rows, load_population, purchase_arrays
from core.models import Customer, Holding, Interaction, LoyaltyAccount, NpsResponse, Product
from core.rules.facts import CustomerRecord, offer_histories, open_complaints
from core.rules.history import CustomerHistory

BATCH = 5000

_PURCHASES = {
    "sqlite": "SELECT customer_id, CAST(julianday(at) - 2440587.5 AS INTEGER), "
    "CAST(amount AS REAL) FROM purchase WHERE customer_id BETWEEN {low:d} AND {high:d}",
    "postgresql": "SELECT customer_id, CAST(floor(extract(epoch FROM at) / 86400) AS INTEGER), "
    "CAST(amount AS DOUBLE PRECISION) FROM purchase WHERE customer_id BETWEEN {low:d} AND {high:d}",
}
"""One batch's purchases as (customer, day number, amount), as core.analytics.store reads them."""


@dataclass(frozen=True)
class CustomerFacts:
    """Everything the rules read about one customer."""

    record: CustomerRecord
    profile: CustomerProfile
    history: CustomerHistory
    open_complaints: int


async def count_customers(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(
            (await connection.execute(select(func.count()).select_from(Customer))).scalar_one()
        )


async def stream_facts(
    engine: AsyncEngine, day: date, at: datetime, config: AnalyticsConfig, window_days: int,
    batch: int = BATCH,
) -> AsyncIterator[list[CustomerFacts]]:  # fmt: skip
    """Batches of every customer's facts as of `day`, in customer id order.

    Args:
        engine: the database.
        day: the day the figures describe (purchases and holdings after it are ignored).
        at: the moment of the simulated call (offers shown before it count as history).
        config: the analytics configuration (tiers, wallet estimate, horizon).
        window_days: the contact policy's impression window.
        batch: customers per batch.

    Yields:
        Lists of at most `batch` customers.
    """
    query = select(
        col(Customer.id), col(Customer.external_id), col(Customer.first_name),
        col(Customer.last_name), col(Customer.city), col(Customer.country),
        col(Customer.birth_date), col(Customer.marketing_consent), col(Customer.do_not_call),
        col(Customer.customer_since),
        # the creation time only where it is needed: timestamps are slow to read back
        case((col(Customer.customer_since).is_(None), col(Customer.created_at)), else_=None),
    ).order_by(col(Customer.id))  # fmt: skip
    async with engine.connect() as scan, engine.connect() as related:
        population = await load_population(related)
        result = await scan.stream(query.execution_options(yield_per=batch))
        async for rows in result.partitions(batch):
            yield await _batch(related, rows, day, at, config, population, window_days)


async def _batch(
    conn: AsyncConnection, rows: Sequence[Any], day: date, at: datetime,
    config: AnalyticsConfig, population: Population | None, window_days: int,
) -> list[CustomerFacts]:  # fmt: skip
    low, high = int(rows[0][0]), int(rows[-1][0])
    end = day_end(day)
    dialect = conn.dialect.name
    loyalty = {
        int(r[0]): (r[1], int(r[2] or 0), r[3])
        for r in await conn.execute(
            select(
                col(LoyaltyAccount.customer_id), col(LoyaltyAccount.tier),
                col(LoyaltyAccount.points), col(LoyaltyAccount.tier_since),
            ).where(col(LoyaltyAccount.customer_id).between(low, high))
        )
    }  # fmt: skip
    held: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for customer_id, code, line in await conn.execute(
        select(col(Holding.customer_id), col(Product.code), col(Product.line))
        .join(Product, col(Holding.product_id) == col(Product.id))
        .where(
            col(Holding.customer_id).between(low, high),
            col(Holding.since) <= day,
            or_(col(Holding.ended_on).is_(None), col(Holding.ended_on) > day),
        )
    ):
        held[int(customer_id)].append((code, line))
    # straight from the driver: SQLAlchemy's rows cost more than the query at this volume
    keys, days, amounts = purchase_arrays(
        await driver_rows(conn, _PURCHASES[dialect].format(low=low, high=high))
    )
    figures = scored_figures(keys, days, amounts, day, config, population)  # later ones dropped
    nps: dict[int, int] = {}
    for customer_id, score in await conn.execute(
        select(col(NpsResponse.customer_id), col(NpsResponse.score))
        .where(col(NpsResponse.customer_id).between(low, high), col(NpsResponse.at) < end)
        .order_by(col(NpsResponse.at), col(NpsResponse.id))
    ):
        nps[int(customer_id)] = int(score)
    today = day_number(day)
    contact = {  # days since the last interaction, counted by the database (no timestamps)
        int(k): today - int(v)
        for k, v in await conn.execute(
            select(col(Interaction.customer_id), func.max(day_of(col(Interaction.at), dialect)))
            .where(col(Interaction.customer_id).between(low, high), col(Interaction.at) < end)
            .group_by(col(Interaction.customer_id))
        )
    }
    complaints = await open_complaints(conn, [], day, low, high)
    histories = await offer_histories(conn, [], at, window_days, low, high)
    rows_of = dict(zip(figures.keys.tolist(), figures.rows(), strict=True))
    wallet = config.wallet_total
    statuses: dict[tuple[str | None, int], TierStatus] = {}
    out = []
    for row in rows:
        customer_id = int(row[0])
        record = CustomerRecord(
            customer_id, row[1], row[2], row[3], row[4] or "", row[5] or "", row[6],
            bool(row[7]), bool(row[8]),
        )  # fmt: skip
        since, created = row[9], row[10]
        tier, points, tier_since = loyalty.get(customer_id, (None, 0, None))
        status = statuses.get((tier, points))
        if status is None:
            status = statuses[(tier, points)] = tier_status(tier, points, config.tier_thresholds)
        codes = sorted(held.get(customer_id, []), key=lambda c: (c[1], c[0]))
        profile = profile_of(
            customer_id=customer_id, as_of=day, status=status, points=points,
            tier_since=tier_since, since=since,
            created=created if isinstance(created, datetime) else None,
            lines=tuple(sorted({line for _, line in codes})),
            products=tuple(c for c, _ in codes), nps=nps.get(customer_id),
            figures=rows_of.get(customer_id), days_since_last_contact=contact.get(customer_id),
            wallet_total=wallet,
        )  # fmt: skip
        out.append(
            CustomerFacts(
                record, profile, histories.get(customer_id) or CustomerHistory(),
                complaints.get(customer_id, 0),
            )
        )  # fmt: skip
    return out
