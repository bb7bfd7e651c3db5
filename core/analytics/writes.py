"""Writing customers' figures: in bulk (a refresh) and for a few customers (an update).

Bulk writes are upserts in batches (SQLite: executemany, committed per batch so call logging
never waits long for the write lock; PostgreSQL: COPY into a temporary table, then one
INSERT … ON CONFLICT). An upsert never overwrites a row written after the refresh began (an
incremental update that raced it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.analytics.metrics import Figures
from core.analytics.rfm import NO_PURCHASES
from core.analytics.store import BATCH
from core.models import CustomerMetrics

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]

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
