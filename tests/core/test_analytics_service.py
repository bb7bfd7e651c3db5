"""Refresh, stored figures, incremental updates and segments, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from console.cli import frontline
from core.analytics.rfm import SEGMENTS
from core.analytics.service import AnalyticsService, update_customer_figures
from core.config import Settings
from core.db import make_engine, make_sessions
from core.models import Customer, CustomerMetrics, LoyaltyAccount, NpsResponse
from core.models import Transaction as Purchase

AS_OF = date(2025, 6, 30)
TIERS = ["Bronze", "Silver", "Gold", "Platinum"]


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


async def _population(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """60 customers with varied habits, and three the tests know: a champion, a sleeper and
    one who never bought."""
    rng = np.random.default_rng(7)
    ids: dict[str, int] = {}
    async with sessions() as session, session.begin():
        for n in range(63):
            customer = Customer(
                external_id=f"C{n:08d}",
                first_name="Test",
                last_name=f"Customer {n}",
                customer_since=date(2022, 1, 1),
            )
            session.add(customer)
            await session.flush()
            assert customer.id is not None
            ids[customer.external_id] = customer.id
            session.add(LoyaltyAccount(customer_id=customer.id, tier=TIERS[n % 4], points=1000 * n))
            if n % 3 == 0:
                session.add(NpsResponse(customer_id=customer.id, at=_at(AS_OF), score=n % 11))
            if n >= 60:
                continue
            first = AS_OF - timedelta(days=int(rng.integers(30, 900)))
            span = (AS_OF - first).days
            count = int(rng.poisson(4)) + 1
            days = sorted({int(d) for d in rng.integers(0, span + 1, count)} | {0})
            for offset in days:
                amount = Decimal(str(round(float(rng.gamma(3, 20)), 2)))
                session.add(
                    Purchase(
                        customer_id=customer.id,
                        at=_at(first + timedelta(days=offset)),
                        amount=amount,
                    )
                )
        champion, sleeper = ids["C00000060"], ids["C00000061"]
        for week in range(60):  # bought every two weeks for over two years, last this week
            session.add(
                Purchase(
                    customer_id=champion,
                    at=_at(AS_OF - timedelta(days=14 * week + 1)),
                    amount=Decimal("150.00"),
                )
            )
        session.add(
            Purchase(customer_id=sleeper, at=_at(date(2023, 2, 1)), amount=Decimal("20.00"))
        )
    return {"champion": champion, "sleeper": sleeper, "none": ids["C00000062"]}


async def test_profile_before_any_refresh_is_not_scored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    known = await _population(sessions)
    profile = await AnalyticsService(sessions).profile(known["champion"], as_of=AS_OF)
    assert profile.rfm_segment == "Not Scored"
    assert (profile.r_score, profile.f_score, profile.m_score) == (0, 0, 0)
    assert profile.frequency == 60
    assert profile.recency_days == 1


async def test_refresh_scores_everyone_and_profiles_agree_with_stored_figures(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    known = await _population(sessions)
    service = AnalyticsService(sessions)
    seen: list[tuple[int, int]] = []
    result = await service.refresh(engine, AS_OF, lambda done, total: seen.append((done, total)))
    assert result.customers == 63
    assert result.population.bgnbd is not None and result.population.gamma_gamma is not None
    assert seen[-1][0] == seen[-1][1]  # the progress reached its end

    champion = await service.profile(known["champion"], as_of=AS_OF)
    assert champion.rfm_segment == "Champions"
    assert (champion.r_score, champion.f_score, champion.m_score) == (5, 5, 5)
    assert champion.expected_purchases > 10  # about one purchase every two weeks
    assert champion.p_alive > 0.9
    assert champion.churn_risk == pytest.approx(1 - champion.p_alive)
    assert champion.expected_value == pytest.approx(champion.expected_purchases * 150.0, rel=0.25)
    assert champion.spend_12m == pytest.approx(150.0 * 26)  # 26 fortnights in 365 days

    sleeper = await service.profile(known["sleeper"], as_of=AS_OF)
    assert sleeper.rfm_segment == "Hibernating"
    assert (sleeper.r_score, sleeper.f_score) == (1, 1)
    assert sleeper.days_since_last_purchase == (AS_OF - date(2023, 2, 1)).days

    nobody = await service.profile(known["none"], as_of=AS_OF)
    assert nobody.rfm_segment == "No Purchases"
    assert (nobody.r_score, nobody.f_score, nobody.m_score, nobody.frequency) == (0, 0, 0, 0)
    assert nobody.recency_days is None

    async with sessions() as session:
        rows = {
            m.customer_id: m for m in (await session.execute(select(CustomerMetrics))).scalars()
        }
    assert len(rows) == 63
    for key in ("champion", "sleeper", "none"):
        stored, live = rows[known[key]], await service.profile(known[key], as_of=AS_OF)
        assert stored.rfm_segment == live.rfm_segment
        assert (stored.r_score, stored.f_score, stored.m_score) == (
            live.r_score,
            live.f_score,
            live.m_score,
        )
        assert stored.expected_value == pytest.approx(live.expected_value)
        assert stored.p_alive == pytest.approx(live.p_alive)
    assert sum(1 for m in rows.values() if m.rfm_segment == "No Purchases") == 1


async def test_new_purchase_updates_the_stored_figures_without_a_refresh(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    known = await _population(sessions)
    service = AnalyticsService(sessions)
    await service.refresh(engine, AS_OF)
    sleeper = known["sleeper"]
    async with sessions() as session, session.begin():
        for offset in (0, 20, 40):
            session.add(
                Purchase(
                    customer_id=sleeper,
                    at=_at(AS_OF - timedelta(days=offset)),
                    amount=Decimal("80.00"),
                )
            )
        await service.update_customers(session, [sleeper], as_of=AS_OF)
    async with sessions() as session:
        stored = (
            await session.execute(
                select(CustomerMetrics).where(col(CustomerMetrics.customer_id) == sleeper)
            )
        ).scalar_one()
    assert stored.recency_days == 0
    assert stored.frequency == 4
    assert stored.repeat_purchases == 3
    assert stored.r_score == 5
    assert stored.rfm_segment != "Hibernating"
    assert stored.spend_12m == pytest.approx(240.0)
    profile = await service.profile(sleeper, as_of=AS_OF)
    assert profile.rfm_segment == stored.rfm_segment
    assert profile.expected_value == pytest.approx(stored.expected_value)


def test_segments_json_counts_every_customer(db_url: str) -> None:
    async def prepare() -> None:
        engine = make_engine(db_url)
        await _population(make_sessions(engine))
        await engine.dispose()

    asyncio.run(prepare())
    runner = CliRunner(env={"FRONTLINE_DATABASE_URL": db_url})
    refreshed = runner.invoke(frontline, ["analytics", "refresh", "--as-of", AS_OF.isoformat()])
    assert refreshed.exit_code == 0, refreshed.output
    assert "refreshed 63 customers (" in refreshed.output
    assert "BG/NBD on 62 customers" in refreshed.output
    result = runner.invoke(frontline, ["analytics", "segments", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["as_of"] == AS_OF.isoformat()
    assert data["customers"] == 63
    names = [g["segment"] for g in data["segments"]]
    assert names[:10] == list(SEGMENTS)
    assert sum(g["customers"] for g in data["segments"]) == 63
    assert next(g for g in data["segments"] if g["segment"] == "No Purchases")["customers"] == 1
    champions = next(g for g in data["segments"] if g["segment"] == "Champions")
    assert champions["customers"] >= 1 and champions["expected_value"] > 0
    tiers = {g["tier"]: g for g in data["tiers"]}
    assert list(tiers)[:4] == TIERS
    assert [tiers[t]["customers"] for t in TIERS] == [16, 16, 16, 15]
    # NPS of a group: % promoters - % detractors of its latest answers
    answers = [n % 11 for n in range(0, 63, 3)]
    promoters = sum(s >= 9 for s in answers)
    detractors = sum(s <= 6 for s in answers)
    total_nps = sum(g["nps_answers"] for g in data["tiers"])
    assert total_nps == len(answers)
    everyone = sum(
        (g["nps"] or 0) * g["nps_answers"] for g in data["tiers"] if g["nps"] is not None
    )
    assert everyone / len(answers) == pytest.approx(100 * (promoters - detractors) / len(answers))


def test_fit_reports_the_line_of_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("external_id,date,amount\nC00000001,2025-01-01,10.00\nC00000002,soon,5\n")
    result = CliRunner().invoke(
        frontline,
        ["analytics", "fit", "--transactions", str(path), "--calibration-end", "2025-06-30"],
    )
    assert result.exit_code != 0
    assert "line 3" in result.output and "soon" in result.output


async def test_writers_without_the_service_update_many_customers_at_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    known = await _population(sessions)
    await AnalyticsService(sessions).refresh(engine, AS_OF)
    nobody = known["none"]
    async with sessions() as session, session.begin():
        session.add(Purchase(customer_id=nobody, at=_at(AS_OF), amount=Decimal("42.00")))
        # an importer passes every customer it touched, in any order, with repeats and ids
        # of customers deleted meanwhile; lists longer than one IN clause are split
        ids = [nobody, *range(100_000, 101_200), nobody]
        await update_customer_figures(session, ids, Settings(), as_of=AS_OF)
    async with sessions() as session:
        stored = (
            await session.execute(
                select(CustomerMetrics).where(col(CustomerMetrics.customer_id) == nobody)
            )
        ).scalar_one()
        count = len((await session.execute(select(CustomerMetrics))).scalars().all())
    assert (stored.rfm_segment, stored.recency_days, stored.frequency) == ("New Customers", 0, 1)
    assert count == 63
