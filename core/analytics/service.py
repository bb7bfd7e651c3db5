"""AnalyticsService: one customer's profile, bulk refresh, segments and incremental updates."""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from core.analytics.config import AnalyticsConfig, analytics_config
from core.analytics.customer import profile_of
from core.analytics.loyalty import tier_status
from core.analytics.metrics import (
    Population,
    one_customer_figures,
    population_figures,
    scored_figures,
)
from core.analytics.profile import CustomerProfile
from core.analytics.reads import read_customer
from core.analytics.segments import SegmentReport, segment_report
from core.analytics.store import (
    all_customer_ids,
    all_latest_nps,
    customer_purchases,
    day_end,
    latest_nps,
    load_population,
    population_row,
    stream_purchases,
)
from core.analytics.writes import write_bulk, write_some
from core.config import Settings
from core.errors import CustomerNotFound as CustomerNotFound  # re-exported: callers import it here
from core.models import (
    AnalyticsModel,
    Customer,
)
from core.models import Transaction as Purchase

Progress = Callable[[int, int], None]

POPULATION_TTL = 30.0
"""Seconds a console keeps the population fit before looking for a newer refresh."""


@dataclass(frozen=True)
class RefreshResult:
    as_of: date
    customers: int
    purchases: int
    population: Population
    seconds: float
    phases: dict[str, float]
    """Seconds spent reading, computing (fits and scores) and writing."""


class AnalyticsService:
    """Loyalty status and customer value for the console, the rules and the command line.

    One customer's profile is computed from their own rows and the stored population fit
    (BG/NBD, Gamma-Gamma, RFM thresholds) of the latest refresh, so it is always current.
    The stored per-customer figures (table customer_metrics) serve bulk readers: segments,
    rules simulation; `update_customers` keeps them current between refreshes.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: Settings | None = None
    ) -> None:
        self._sessions = sessions
        self.config: AnalyticsConfig = analytics_config(settings)
        self._population: Population | None = None
        self._population_read = -POPULATION_TTL

    async def _current_population(
        self, session: AsyncSession | AsyncConnection, fresh: bool = False
    ) -> Population | None:
        now = clock.monotonic()
        if fresh or now - self._population_read >= POPULATION_TTL:
            self._population = await load_population(session)
            self._population_read = now
        return self._population

    async def profile(self, customer_id: int, as_of: date | None = None) -> CustomerProfile:
        """Everything about one customer's loyalty and value, as of a day.

        Args:
            customer_id: the customer's database id.
            as_of: the day the figures describe; today (UTC) when None.

        Returns:
            The profile. Raises CustomerNotFound for an unknown id.
        """
        day = as_of or datetime.now(UTC).date()
        params = {"cid": customer_id, "day": day, "end": day_end(day)}
        # Core statements built once, on a plain connection: the ORM session's bookkeeping
        # would cost more than the three small queries themselves.
        async with self._engine().connect() as connection:
            head, held, rows = await read_customer(connection, params)
            if head is None:
                raise CustomerNotFound(f"no customer with id {customer_id}")
            population = await self._current_population(connection)
        since, created, tier, points, tier_since, nps, contact = head
        one = one_customer_figures(
            [int(r[1]) for r in rows], [float(r[2]) for r in rows], day, self.config, population
        )
        lines = tuple(sorted({line for _, line in held}))
        return profile_of(
            customer_id=customer_id,
            as_of=day,
            status=tier_status(tier, int(points or 0), self.config.tier_thresholds),
            points=int(points or 0),
            tier_since=tier_since,
            since=since,
            created=created,
            lines=lines,
            products=tuple(code for code, _ in held),
            nps=nps,
            figures=one,
            days_since_last_contact=(day - contact.date()).days if contact else None,
            wallet_total=self.config.wallet_total,
        )

    async def refresh(
        self,
        engine: AsyncEngine | None = None,
        as_of: date | None = None,
        progress: Progress | None = None,
    ) -> RefreshResult:
        """Refit the population and recompute and store every customer's figures.

        Args:
            engine: the database; the service's own when None.
            as_of: the day the figures describe; today (UTC) when None.
            progress: called with (work done, total work): purchases read plus rows written.

        Returns:
            What was done, with the new population fit.
        """
        started = clock.monotonic()
        phases: dict[str, float] = {}
        stamp = datetime.now(UTC)
        day = as_of or stamp.date()
        end = day_end(day)
        bind = engine or self._engine()
        async with bind.connect() as connection:
            # all rows are read (a scan beats the index); later ones are dropped in numpy
            rows = (
                await connection.execute(select(func.count()).select_from(Purchase))
            ).scalar_one()
            ids = await all_customer_ids(connection)
            await connection.commit()
            total = int(rows) + len(ids)
            done = 0

            def advance(step: int) -> None:
                nonlocal done
                done += step
                if progress is not None:
                    progress(min(done, total), total)

            advance(0)
            keys, days, amounts = await stream_purchases(connection, end, advance)
            nps = await all_latest_nps(connection, end)
            await connection.commit()
            phases["read"] = clock.monotonic() - started
            purchases = len(keys)
            figures, population = population_figures(keys, days, amounts, day, self.config)
            del keys, days, amounts
            phases["compute"] = clock.monotonic() - started - phases["read"]
            model = population_row(population, self.config.horizon_weeks)
            await connection.execute(
                insert(AnalyticsModel).values(model.model_dump(exclude={"id"}))
            )
            await connection.commit()
            await write_bulk(connection, ids, figures, nps, day, stamp, advance)
            phases["write"] = clock.monotonic() - started - phases["read"] - phases["compute"]
        self._population, self._population_read = population, clock.monotonic()
        return RefreshResult(
            as_of=day,
            customers=len(ids),
            purchases=int(purchases),
            population=population,
            seconds=clock.monotonic() - started,
            phases=phases,
        )

    def _engine(self) -> AsyncEngine:
        bind = self._sessions.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise RuntimeError("the session factory is not bound to an engine")
        return bind

    async def update_customers(
        self, session: AsyncSession, customer_ids: Sequence[int], as_of: date | None = None
    ) -> None:
        """Recompute and store some customers' figures against the current population fit.

        Call it inside the writer's transaction after adding purchases (the importer) or
        NPS answers, so the stored figures follow without a full refresh.

        Args:
            session: the caller's session; its transaction is used, not committed.
            customer_ids: the customers whose rows changed.
            as_of: the day the figures describe; today (UTC) when None.
        """
        population = await self._current_population(session, fresh=True)
        await update_customer_figures(session, customer_ids, self.config, population, as_of)

    async def segments(self) -> SegmentReport:
        """Customer counts, value and NPS per RFM segment and per loyalty tier."""
        async with self._sessions() as session:
            return await segment_report(session, self.config)


async def update_customer_figures(
    session: AsyncSession,
    customer_ids: Sequence[int],
    config: AnalyticsConfig | Settings | None = None,
    population: Population | None = None,
    as_of: date | None = None,
) -> None:
    """Recompute and store some customers' figures, for writers without the service at hand.

    Args:
        session: the caller's session; its transaction is used, not committed.
        customer_ids: the customers whose purchases or NPS answers changed.
        config: the analytics configuration, or the settings to read it from.
        population: the fit to score against; the newest stored one when None.
        as_of: the day the figures describe; today (UTC) when None.
    """
    ids = np.unique(np.asarray(list(customer_ids), dtype=np.int64))
    if len(ids) == 0:
        return
    if not isinstance(config, AnalyticsConfig):
        config = analytics_config(config)
    if population is None:
        population = await load_population(session)
    day = as_of or datetime.now(UTC).date()
    end = day_end(day)
    for start in range(0, len(ids), 500):  # bounded IN lists on every database
        known = await session.execute(
            select(col(Customer.id)).where(
                col(Customer.id).in_([int(i) for i in ids[start : start + 500]])
            )
        )
        id_list = sorted(int(i) for i in known.scalars() if i is not None)
        if not id_list:
            continue
        chunk = np.asarray(id_list, dtype=np.int64)
        keys, days, amounts = await customer_purchases(session, id_list, end)
        figures = scored_figures(keys, days, amounts, day, config, population)
        nps = await latest_nps(session, end, id_list)
        await write_some(session, chunk, figures, nps, day)
