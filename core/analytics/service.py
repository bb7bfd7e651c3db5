"""AnalyticsService: one customer's profile, bulk refresh, segments and incremental updates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.analytics.config import AnalyticsConfig, analytics_config
from core.analytics.loyalty import tier_status
from core.analytics.profile import CustomerProfile
from core.analytics.relationship import (
    depth,
    nps_category,
    scope,
    tenure_days,
    tenure_years,
)
from core.config import Settings
from core.models import Customer, Holding, Interaction, LoyaltyAccount, NpsResponse, Product
from core.models import Transaction as Purchase


class CustomerNotFound(LookupError):
    """No customer has that id."""


def _day_end(day: date) -> datetime:
    """The first instant after `day` (UTC): figures as of a day include the whole day."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


class AnalyticsService:
    """Loyalty status and customer value for the console, the rules and the command line."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: Settings | None = None
    ) -> None:
        self._sessions = sessions
        self.config: AnalyticsConfig = analytics_config(settings)

    async def profile(self, customer_id: int, as_of: date | None = None) -> CustomerProfile:
        """Everything about one customer's loyalty and value, as of a day.

        Args:
            customer_id: the customer's database id.
            as_of: the day the figures describe; today (UTC) when None.

        Returns:
            The profile. Raises CustomerNotFound for an unknown id.
        """
        day = as_of or datetime.now(UTC).date()
        end = _day_end(day)
        async with self._sessions() as session:
            return await self._profile(session, customer_id, day, end)

    async def _profile(
        self, session: AsyncSession, customer_id: int, day: date, end: datetime
    ) -> CustomerProfile:
        latest_nps = (
            select(col(NpsResponse.score))
            .where(col(NpsResponse.customer_id) == customer_id, col(NpsResponse.at) < end)
            .order_by(col(NpsResponse.at).desc(), col(NpsResponse.id).desc())
            .limit(1)
            .scalar_subquery()
        )
        last_contact = (
            select(func.max(col(Interaction.at)))
            .where(col(Interaction.customer_id) == customer_id, col(Interaction.at) < end)
            .scalar_subquery()
        )
        head = (
            await session.execute(
                select(
                    col(Customer.customer_since),
                    col(Customer.created_at),
                    col(LoyaltyAccount.tier),
                    col(LoyaltyAccount.points),
                    col(LoyaltyAccount.tier_since),
                    latest_nps,
                    last_contact,
                )
                .select_from(Customer)
                .outerjoin(LoyaltyAccount, col(LoyaltyAccount.customer_id) == col(Customer.id))
                .where(col(Customer.id) == customer_id)
            )
        ).one_or_none()
        if head is None:
            raise CustomerNotFound(f"no customer with id {customer_id}")
        since, created, tier, points, tier_since, nps, contact = head
        held = (
            await session.execute(
                select(col(Product.code), col(Product.line))
                .join(Holding, col(Holding.product_id) == col(Product.id))
                .where(
                    col(Holding.customer_id) == customer_id,
                    col(Holding.since) <= day,
                    or_(col(Holding.ended_on).is_(None), col(Holding.ended_on) > day),
                )
                .order_by(col(Product.line), col(Product.code))
            )
        ).all()
        year_ago = end - timedelta(days=365)
        spend = (
            await session.execute(
                select(func.coalesce(func.sum(col(Purchase.amount)), 0)).where(
                    and_(
                        col(Purchase.customer_id) == customer_id,
                        col(Purchase.at) >= year_ago,
                        col(Purchase.at) < end,
                    )
                )
            )
        ).scalar_one()
        spend_12m = float(spend)
        start = since or (created.date() if created else None)
        days = tenure_days(start, day)
        status = tier_status(tier, int(points or 0), self.config.tier_thresholds)
        lines = tuple(sorted({line for _, line in held}))
        return CustomerProfile(
            customer_id=customer_id,
            as_of=day,
            tier=status.tier,
            points=int(points or 0),
            next_tier=status.next_tier,
            points_to_next_tier=status.points_to_next_tier,
            tier_since=tier_since,
            tenure_days=days,
            tenure_years=tenure_years(days),
            scope=scope(lines),
            product_lines=lines,
            products=tuple(code for code, _ in held),
            depth=depth(spend_12m, self.config.wallet_total),
            spend_12m=spend_12m,
            nps_score=nps,
            nps_category=nps_category(nps),
            recency_days=None,
            frequency=0,
            monetary=0.0,
            r_score=0,
            f_score=0,
            m_score=0,
            rfm_segment="No Purchases",
            expected_purchases=0.0,
            p_alive=1.0,
            churn_risk=0.0,
            expected_value=0.0,
            days_since_last_purchase=None,
            days_since_last_contact=(day - contact.date()).days if contact else None,
        )
