"""One customer's profile, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.analytics.service import AnalyticsService, CustomerNotFound
from core.config import Settings
from core.models import (
    Customer,
    Holding,
    Interaction,
    LoyaltyAccount,
    NpsResponse,
    Product,
)
from core.models import Transaction as Purchase

AS_OF = date(2025, 6, 30)


def _at(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


async def _seed(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session, session.begin():
        customer = Customer(
            external_id="C00000001",
            first_name="Ana",
            last_name="García",
            customer_since=date(2020, 6, 30),
        )
        session.add(customer)
        products = [
            Product(code="MOBILE_PLUS", name="Mobile Plus", line="mobile"),
            Product(code="FIBRE_600", name="Fibre 600", line="fibre"),
            Product(code="TV_SPORTS", name="TV Sports", line="tv"),
            Product(code="INSURE_HOME", name="Home insurance", line="insurance"),
        ]
        session.add_all(products)
        await session.flush()
        assert customer.id is not None
        cid = customer.id
        ids = {p.code: p.id for p in products}
        session.add_all(
            [
                Holding(customer_id=cid, product_id=ids["MOBILE_PLUS"], since=date(2021, 1, 1)),
                Holding(customer_id=cid, product_id=ids["FIBRE_600"], since=date(2022, 1, 1)),
                # ended before the day: no longer held
                Holding(
                    customer_id=cid,
                    product_id=ids["TV_SPORTS"],
                    since=date(2021, 1, 1),
                    ended_on=date(2024, 1, 1),
                ),
                # starts after the day: not held yet
                Holding(customer_id=cid, product_id=ids["INSURE_HOME"], since=date(2025, 7, 5)),
                LoyaltyAccount(
                    customer_id=cid, tier="Silver", points=4500, tier_since=date(2023, 3, 1)
                ),
                NpsResponse(customer_id=cid, at=_at(2024, 1, 10), score=9),
                NpsResponse(customer_id=cid, at=_at(2025, 2, 10), score=6),
                NpsResponse(customer_id=cid, at=_at(2025, 8, 1), score=10),  # after the day
                Interaction(
                    customer_id=cid,
                    at=_at(2025, 6, 20),
                    channel="phone",
                    direction="inbound",
                    subject="bill",
                ),
                Purchase(customer_id=cid, at=_at(2024, 3, 1), amount=Decimal("100.00")),
                Purchase(customer_id=cid, at=_at(2024, 9, 1), amount=Decimal("150.50")),
                Purchase(customer_id=cid, at=_at(2025, 6, 30, 23), amount=Decimal("49.50")),
                Purchase(customer_id=cid, at=_at(2025, 7, 1), amount=Decimal("999.00")),
            ]
        )
    return cid


async def test_profile_loyalty_tenure_scope_depth_nps(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cid = await _seed(sessions)
    service = AnalyticsService(sessions, Settings())
    profile = await service.profile(cid, as_of=AS_OF)
    assert profile.customer_id == cid
    assert profile.as_of == AS_OF
    assert (profile.tier, profile.points, profile.tier_since) == ("Silver", 4500, date(2023, 3, 1))
    assert (profile.next_tier, profile.points_to_next_tier) == ("Gold", 1500)
    assert profile.tenure_days == 1826
    assert profile.tenure_years == pytest.approx(5.0, abs=0.01)
    assert profile.product_lines == ("fibre", "mobile")
    assert profile.scope == 2
    assert set(profile.products) == {"MOBILE_PLUS", "FIBRE_600"}
    # 150.50 + 49.50 in the 365 days to 30 June 2025 (the 1 July purchase is after the day)
    assert profile.spend_12m == pytest.approx(200.0)
    assert profile.depth == pytest.approx(200.0 / 3600.0)
    assert (profile.nps_score, profile.nps_category) == (6, "detractor")
    assert profile.days_since_last_contact == 10


async def test_profile_of_unknown_customer_is_an_error(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(CustomerNotFound):
        await AnalyticsService(sessions).profile(12345)
