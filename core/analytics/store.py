"""Reading purchases and writing figures, in bulk (a refresh) and for a few customers.

Bulk reads stream `(customer, day, amount)` with one query and turn each batch into numpy
arrays. Bulk writes are upserts in batches (SQLite: executemany, committed per batch so call
logging never waits long for the write lock; PostgreSQL: COPY into a temporary table, then
one INSERT … ON CONFLICT). An upsert never overwrites a row written after the refresh began
(an incremental update that raced it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Float, Integer, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from core.analytics.clv import BgNbdFit, GammaGammaFit
from core.analytics.metrics import Figures, Population
from core.analytics.rfm import NO_PURCHASES, RfmThresholds
from core.models import AnalyticsModel, CustomerMetrics, NpsResponse
from core.models import Transaction as Purchase

Progress = Callable[[int, int], None]
Ints = NDArray[np.int64]
Floats = NDArray[np.float64]

BATCH = 50_000

COLUMNS: tuple[str, ...] = (
    "customer_id",
    "as_of",
    "recency_days",
    "frequency",
    "monetary",
    "spend_12m",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "repeat_purchases",
    "t_x_weeks",
    "age_weeks",
    "repeat_average",
    "expected_purchases",
    "p_alive",
    "expected_spend",
    "expected_value",
    "last_purchase_on",
    "nps_score",
    "updated_at",
)


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


@dataclass(frozen=True)
class MetricRows:
    """Column lists, one entry per customer, in COLUMNS order (dates still as day numbers)."""

    columns: list[list[object]]

    def __len__(self) -> int:
        return len(self.columns[0])

    def tuples(self, start: int, stop: int) -> list[tuple[object, ...]]:
        return list(zip(*(c[start:stop] for c in self.columns), strict=True))


def metric_rows(
    customer_ids: Ints,
    figures: Figures,
    nps: dict[int, int],
    as_of: object,
    updated_at: object,
    day_to_value: Callable[[Ints], list[object]],
) -> MetricRows:
    """One row per customer in `customer_ids`; customers without purchases get empty figures.

    Args:
        customer_ids: every customer to write, sorted.
        figures: the figures of those with purchases (keys sorted).
        nps: latest NPS answer per customer.
        as_of: the value to store as `as_of` (a date or its text, per database).
        updated_at: the value to store as `updated_at`.
        day_to_value: turns day numbers into the stored date values.
    """
    ids = np.asarray(customer_ids, dtype=np.int64)
    n = len(ids)
    where = np.searchsorted(ids, figures.keys)
    has = np.zeros(n, dtype=bool)
    has[where] = True

    def spread(values: NDArray[np.generic], fill: float, dtype: type = np.float64) -> list[object]:
        out: NDArray[Any] = np.full(n, fill, dtype=dtype)
        out[where] = values
        result: list[object] = out.tolist()
        return result

    def nullable(values: list[object]) -> list[object]:
        return [v if h else None for v, h in zip(values, has.tolist(), strict=True)]

    segment = np.full(n, NO_PURCHASES, dtype=object)
    segment[where] = figures.segment
    last = np.zeros(n, dtype=np.int64)
    last[where] = figures.last_day
    ids_list: list[object] = ids.tolist()
    return MetricRows(
        [
            ids_list,
            [as_of] * n,
            nullable(spread(figures.recency_days, 0, np.int64)),
            spread(figures.frequency, 0, np.int64),
            spread(figures.monetary, 0.0),
            spread(figures.spend_12m, 0.0),
            spread(figures.r, 0, np.int64),
            spread(figures.f, 0, np.int64),
            spread(figures.m, 0, np.int64),
            segment.tolist(),
            spread(figures.x.astype(np.int64), 0, np.int64),
            spread(figures.t_x, 0.0),
            spread(figures.age, 0.0),
            spread(figures.repeat_average, 0.0),
            spread(figures.expected_purchases, 0.0),
            spread(figures.p_alive, 1.0),
            spread(figures.expected_spend, 0.0),
            spread(figures.expected_value, 0.0),
            nullable(day_to_value(last)),
            [nps.get(int(i)) for i in ids_list],  # type: ignore[call-overload]
            [updated_at] * n,
        ]
    )


def _iso_days(days: Ints) -> list[object]:
    result: list[object] = (np.datetime64("1970-01-01", "D") + days).astype(str).tolist()
    return result


def _date_days(days: Ints) -> list[object]:
    result: list[object] = (np.datetime64("1970-01-01", "D") + days).tolist()
    return result


_UPDATE_SET = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])


async def write_bulk(
    connection: AsyncConnection,
    customer_ids: Ints,
    figures: Figures,
    nps: dict[int, int],
    as_of: date,
    stamp: datetime,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Upsert every customer's figures; commits on SQLite per batch. Returns rows written."""
    if connection.dialect.name == "sqlite":
        rows = metric_rows(
            customer_ids,
            figures,
            nps,
            as_of.isoformat(),
            stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
            _iso_days,
        )
        placeholders = ", ".join("?" for _ in COLUMNS)
        sql = (
            f"INSERT INTO customer_metrics ({', '.join(COLUMNS)}) VALUES ({placeholders}) "
            f"ON CONFLICT (customer_id) DO UPDATE SET {_UPDATE_SET} "
            "WHERE customer_metrics.updated_at <= excluded.updated_at"
        )
        for start in range(0, len(rows), BATCH):
            batch = rows.tuples(start, start + BATCH)
            await connection.exec_driver_sql(sql, batch)
            await connection.commit()
            if progress is not None:
                progress(len(batch))
        return len(rows)
    rows = metric_rows(
        customer_ids,
        figures,
        nps,
        as_of,
        stamp.astimezone(UTC).replace(tzinfo=None),
        _date_days,
    )
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    await connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE customer_metrics_load "
        "(LIKE customer_metrics INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    for start in range(0, len(rows), BATCH):
        batch = rows.tuples(start, start + BATCH)
        await raw.copy_records_to_table(
            "customer_metrics_load", records=batch, columns=list(COLUMNS)
        )
        if progress is not None:
            progress(len(batch))
    await connection.exec_driver_sql(
        f"INSERT INTO customer_metrics ({', '.join(COLUMNS)}) "
        f"SELECT {', '.join(COLUMNS)} FROM customer_metrics_load "
        f"ON CONFLICT (customer_id) DO UPDATE SET {_UPDATE_SET} "
        "WHERE customer_metrics.updated_at <= excluded.updated_at"
    )
    await connection.commit()
    return len(rows)


async def write_some(
    session: AsyncSession,
    customer_ids: Ints,
    figures: Figures,
    nps: dict[int, int],
    as_of: date,
) -> None:
    """Upsert a few customers' figures inside the caller's transaction."""
    stamp = datetime.now(UTC)
    rows = metric_rows(customer_ids, figures, nps, as_of, stamp, _date_days)
    values = [dict(zip(COLUMNS, row, strict=True)) for row in rows.tuples(0, len(rows))]
    if not values:
        return
    table = CustomerMetrics.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)
    statement = insert.on_conflict_do_update(
        index_elements=["customer_id"],
        set_={c: insert.excluded[c] for c in COLUMNS[1:]},
    )
    await session.execute(statement, values)


def day_end(day: date) -> datetime:
    """The first instant after `day` (UTC): figures as of a day include the whole day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
