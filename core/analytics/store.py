"""Reading purchases, NPS answers and the population fit, in bulk and for a few customers.

Bulk reads stream `(customer, day, amount)` with one query straight from the driver and turn
each batch into numpy arrays. Writing the figures is core.analytics.writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Float, Integer, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from core.analytics.clv import BgNbdFit, GammaGammaFit
from core.analytics.metrics import Population
from core.analytics.rfm import RfmThresholds
from core.models import AnalyticsModel, NpsResponse
from core.models import Transaction as Purchase

Progress = Callable[[int, int], None]
Ints = NDArray[np.int64]
Floats = NDArray[np.float64]

BATCH = 50_000


def day_of(at: Any, dialect: str) -> ColumnElement[int]:
    """SQL for a timestamp's day number (days since 1970-01-01), computed by the database."""
    if dialect == "sqlite":
        return cast(func.julianday(at) - 2440587.5, Integer)
    return cast(func.floor(func.extract("epoch", at) / 86400), Integer)


def purchase_query(dialect: str) -> Any:
    """(customer id, day number, amount) of purchases; add the WHERE clauses."""
    return select(
        col(Purchase.customer_id),
        day_of(col(Purchase.at), dialect),
        cast(col(Purchase.amount), Float),
    )


def purchase_arrays(rows: Sequence[Sequence[object]]) -> tuple[Ints, Ints, Floats]:
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), np.zeros(0, dtype=np.float64)
    table = np.array(rows, dtype=np.float64)
    return table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2]


_BULK_SQL = {
    "sqlite": "SELECT customer_id, CAST(julianday(at) - 2440587.5 AS INTEGER), "
    "CAST(amount AS REAL) FROM purchase",
    "postgresql": "SELECT customer_id, CAST(floor(extract(epoch FROM at) / 86400) AS INTEGER), "
    "CAST(amount AS DOUBLE PRECISION) FROM purchase",
}
"""Every purchase, in table order: a plain scan is faster than any index here, and the day
filter is applied in numpy."""


async def stream_purchases(
    connection: AsyncConnection, end: datetime, progress: Callable[[int], None] | None = None
) -> tuple[Ints, Ints, Floats]:
    """Every purchase before `end`, as (customer ids, day numbers, amounts), in one query.

    The rows come straight from the driver in batches (SQLAlchemy's row streaming costs
    more than the query itself at millions of rows).
    """
    dialect = connection.dialect.name
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    parts: list[tuple[Ints, Ints, Floats]] = []

    def take(rows: Sequence[Sequence[object]]) -> None:
        parts.append(purchase_arrays(rows))
        if progress is not None:
            progress(len(rows))

    if dialect == "sqlite":
        cursor = await raw.execute(_BULK_SQL["sqlite"])
        while rows := await cursor.fetchmany(BATCH):
            take(rows)
        await cursor.close()
    else:
        async with raw.transaction(readonly=True):
            cursor = await raw.cursor(_BULK_SQL["postgresql"])
            while rows := await cursor.fetch(BATCH):
                take(rows)
    last_day = (end.date() - date(1970, 1, 1)).days - 1
    keys = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    days = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    amounts = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
    keep = days <= last_day
    return keys[keep], days[keep], amounts[keep]


async def driver_rows(connection: AsyncConnection, sql: str) -> list[Sequence[Any]]:
    """All rows of a parameterless query, straight from the driver (for bulk reads)."""
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    if connection.dialect.name == "sqlite":
        return list(await raw.execute_fetchall(sql))
    return list(await raw.fetch(sql))


async def all_customer_ids(connection: AsyncConnection) -> Ints:
    """Every customer's id, sorted."""
    rows = await driver_rows(connection, "SELECT id FROM customer ORDER BY id")
    return np.array([r[0] for r in rows], dtype=np.int64)


async def all_latest_nps(connection: AsyncConnection, end: datetime) -> dict[int, int]:
    """Each customer's latest NPS answer before `end`, for every customer at once."""
    if connection.dialect.name == "sqlite":
        cutoff = f"'{end.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S.%f')}'"
    else:
        cutoff = f"TIMESTAMP '{end.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S.%f')}'"
    rows = await driver_rows(
        connection,
        f"SELECT customer_id, score FROM nps_response WHERE at < {cutoff} ORDER BY at, id",
    )
    return {int(customer_id): int(score) for customer_id, score in rows}


async def customer_purchases(
    session: AsyncSession, customer_ids: Sequence[int], end: datetime
) -> tuple[Ints, Ints, Floats]:
    """The purchases before `end` of a few customers."""
    dialect = session.get_bind().dialect.name
    rows: list[Sequence[object]] = []
    for start in range(0, len(customer_ids), 500):
        chunk = list(customer_ids[start : start + 500])
        query = purchase_query(dialect).where(
            col(Purchase.at) < end, col(Purchase.customer_id).in_(chunk)
        )
        rows.extend(tuple(r) for r in (await session.execute(query)).all())
    return purchase_arrays(rows)


async def latest_nps(
    runner: AsyncConnection | AsyncSession, end: datetime, customer_ids: Sequence[int] | None = None
) -> dict[int, int]:
    """Each customer's latest NPS answer before `end`."""
    query = select(col(NpsResponse.customer_id), col(NpsResponse.score)).where(
        col(NpsResponse.at) < end
    )
    if customer_ids is not None:
        query = query.where(col(NpsResponse.customer_id).in_(list(customer_ids)))
    query = query.order_by(col(NpsResponse.at), col(NpsResponse.id))
    latest: dict[int, int] = {}
    for customer_id, score in (await runner.execute(query)).all():
        latest[customer_id] = score
    return latest


# --- the population fit -------------------------------------------------------------------


async def load_population(runner: AsyncConnection | AsyncSession) -> Population | None:
    """The newest stored population fit, or None before the first refresh."""
    table = AnalyticsModel.__table__  # type: ignore[attr-defined]
    row = (await runner.execute(select(table).order_by(table.c.id.desc()).limit(1))).first()
    if row is None:
        return None
    model = AnalyticsModel.model_validate(dict(row._mapping))
    bg = None
    if model.bgnbd_r is not None:
        bg = BgNbdFit(
            r=model.bgnbd_r,
            alpha=model.bgnbd_alpha or 0.0,
            a=model.bgnbd_a or 0.0,
            b=model.bgnbd_b or 0.0,
            log_likelihood=model.bgnbd_log_likelihood or 0.0,
            customers=model.bgnbd_customers or 0,
        )
    gg = None
    if model.gg_p is not None:
        gg = GammaGammaFit(
            p=model.gg_p,
            q=model.gg_q or 0.0,
            v=model.gg_v or 0.0,
            log_likelihood=model.gg_log_likelihood or 0.0,
            customers=model.gg_customers or 0,
        )
    stored = json.loads(model.rfm_thresholds or "{}")
    thresholds = RfmThresholds.from_lists(stored) if stored else None
    return Population(model.as_of, model.customers, bg, gg, thresholds)


def population_row(population: Population, horizon_weeks: float) -> AnalyticsModel:
    bg, gg = population.bgnbd, population.gamma_gamma
    thresholds = population.thresholds
    return AnalyticsModel(
        as_of=population.as_of,
        customers=population.customers,
        bgnbd_r=bg.r if bg else None,
        bgnbd_alpha=bg.alpha if bg else None,
        bgnbd_a=bg.a if bg else None,
        bgnbd_b=bg.b if bg else None,
        bgnbd_log_likelihood=bg.log_likelihood if bg else None,
        bgnbd_customers=bg.customers if bg else None,
        gg_p=gg.p if gg else None,
        gg_q=gg.q if gg else None,
        gg_v=gg.v if gg else None,
        gg_log_likelihood=gg.log_likelihood if gg else None,
        gg_customers=gg.customers if gg else None,
        rfm_thresholds=json.dumps(thresholds.as_lists()) if thresholds else "{}",
        horizon_weeks=horizon_weeks,
    )


# --- figures to rows ----------------------------------------------------------------------


def day_end(day: date) -> datetime:
    """The first instant after `day` (UTC): figures as of a day include the whole day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
