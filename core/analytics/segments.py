"""`frontline analytics segments`: customers, value and NPS per RFM segment and loyalty tier.

Read from the stored figures of the last refresh (kept current by incremental updates);
customers added since the last refresh count as "Not Scored".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.analytics.config import AnalyticsConfig
from core.analytics.rfm import NO_PURCHASES, NOT_SCORED, SEGMENTS
from core.models import Customer, CustomerMetrics, LoyaltyAccount

NO_ACCOUNT = "No Account"


@dataclass(frozen=True)
class GroupFigures:
    """One segment's or tier's customers and value."""

    name: str
    customers: int
    share: float
    """Share of all customers, 0..1."""
    expected_value: float
    """Sum of the customers' expected value over the horizon."""
    average_expected_value: float
    spend_12m: float
    churn_risk: float
    """Average churn risk of the group's customers with purchases; 0 for none."""
    nps: float | None
    """% promoters - % detractors among the group's latest answers; None without answers."""
    nps_answers: int

    def as_json(self, key: str) -> dict[str, Any]:
        return {
            key: self.name,
            "customers": self.customers,
            "share": round(self.share, 6),
            "expected_value": round(self.expected_value, 2),
            "average_expected_value": round(self.average_expected_value, 2),
            "spend_12m": round(self.spend_12m, 2),
            "churn_risk": round(self.churn_risk, 6),
            "nps": None if self.nps is None else round(self.nps, 2),
            "nps_answers": self.nps_answers,
        }


@dataclass(frozen=True)
class SegmentReport:
    as_of: date | None
    """The day of the stored figures (the latest refresh or update); None before any."""
    customers: int
    segments: tuple[GroupFigures, ...]
    tiers: tuple[GroupFigures, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "customers": self.customers,
            "segments": [g.as_json("segment") for g in self.segments],
            "tiers": [g.as_json("tier") for g in self.tiers],
        }


def _figures(name: str, row: Any, everyone: int) -> GroupFigures:
    count = int(row.customers or 0) if row is not None else 0
    value = float(row.value or 0) if row is not None else 0.0
    answers = int(row.answers or 0) if row is not None else 0
    buyers = int(row.buyers or 0) if row is not None else 0
    nps = None
    if answers:
        nps = 100.0 * (int(row.promoters or 0) - int(row.detractors or 0)) / answers
    return GroupFigures(
        name=name,
        customers=count,
        share=count / everyone if everyone else 0.0,
        expected_value=value,
        average_expected_value=value / count if count else 0.0,
        spend_12m=float(row.spend or 0) if row is not None else 0.0,
        churn_risk=float(row.risk or 0) / buyers if buyers else 0.0,
        nps=nps,
        nps_answers=answers,
    )


def _measures() -> list[Any]:
    nps = col(CustomerMetrics.nps_score)
    bought = col(CustomerMetrics.recency_days).is_not(None)
    return [
        func.count().label("customers"),
        func.sum(col(CustomerMetrics.expected_value)).label("value"),
        func.sum(col(CustomerMetrics.spend_12m)).label("spend"),
        func.sum(case((bought, 1 - col(CustomerMetrics.p_alive)), else_=0.0)).label("risk"),
        func.sum(case((bought, 1), else_=0)).label("buyers"),
        func.count(nps).label("answers"),
        func.sum(cast(nps >= 9, Integer)).label("promoters"),
        func.sum(cast(nps <= 6, Integer)).label("detractors"),
    ]


async def segment_report(session: AsyncSession, config: AnalyticsConfig) -> SegmentReport:
    """The figures per RFM segment (all ten always listed) and per configured tier."""
    segment = func.coalesce(col(CustomerMetrics.rfm_segment), NOT_SCORED)
    by_segment = {
        row.name: row
        for row in (
            await session.execute(
                select(segment.label("name"), *_measures())
                .select_from(Customer)
                .outerjoin(CustomerMetrics, col(CustomerMetrics.customer_id) == col(Customer.id))
                .group_by(segment)
            )
        ).all()
    }
    tier = func.coalesce(col(LoyaltyAccount.tier), NO_ACCOUNT)
    by_tier: dict[str, Any] = {}
    for row in (
        await session.execute(
            select(tier.label("name"), *_measures())
            .select_from(Customer)
            .outerjoin(LoyaltyAccount, col(LoyaltyAccount.customer_id) == col(Customer.id))
            .outerjoin(CustomerMetrics, col(CustomerMetrics.customer_id) == col(Customer.id))
            .group_by(tier)
        )
    ).all():
        by_tier[row.name] = row
    as_of = (await session.execute(select(func.max(col(CustomerMetrics.as_of))))).scalar()
    everyone = sum(int(r.customers) for r in by_segment.values())

    names = list(SEGMENTS) + [NO_PURCHASES]
    names += [n for n in (NOT_SCORED, *sorted(by_segment)) if n in by_segment and n not in names]
    tiers = [name for name, _ in config.tier_thresholds]
    lowered = {t.lower(): t for t in tiers}
    merged: dict[str, list[Any]] = {}
    for stored, row in by_tier.items():
        merged.setdefault(lowered.get(str(stored).lower(), str(stored)), []).append(row)
    tier_names = tiers + sorted(n for n in merged if n not in tiers)
    return SegmentReport(
        as_of=as_of,
        customers=everyone,
        segments=tuple(_figures(n, by_segment.get(n), everyone) for n in names),
        tiers=tuple(_figures(n, _sum_rows(merged.get(n, [])), everyone) for n in tier_names),
    )


@dataclass
class _Sum:
    customers: int = 0
    value: float = 0.0
    spend: float = 0.0
    risk: float = 0.0
    buyers: int = 0
    answers: int = 0
    promoters: int = 0
    detractors: int = 0


def _sum_rows(rows: list[Any]) -> _Sum | None:
    """Tiers stored in different letter cases ("gold", "Gold") count as one."""
    if not rows:
        return None
    total = _Sum()
    for row in rows:
        for field in ("customers", "value", "spend", "risk", "buyers", "answers"):
            setattr(total, field, getattr(total, field) + (getattr(row, field) or 0))
        total.promoters += int(row.promoters or 0)
        total.detractors += int(row.detractors or 0)
    return total
