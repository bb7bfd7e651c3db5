"""One customer's profile assembled from a row of figures: the console's profile and the
rules simulation's batches both build it here, so the defaults of a customer who never
bought (no segment, P(alive) 1) and the derived measures (depth, churn risk) are written once.
"""

from __future__ import annotations

from datetime import date, datetime

from core.analytics.loyalty import TierStatus
from core.analytics.metrics import OneCustomer
from core.analytics.profile import CustomerProfile
from core.analytics.relationship import depth, nps_category, scope, tenure_days, tenure_years
from core.analytics.rfm import NO_PURCHASES


def profile_of(
    *,
    customer_id: int,
    as_of: date,
    status: TierStatus,
    points: int,
    tier_since: date | None,
    since: date | None,
    created: datetime | None,
    lines: tuple[str, ...],
    products: tuple[str, ...],
    nps: int | None,
    figures: OneCustomer | None,
    days_since_last_contact: int | None,
    wallet_total: float,
) -> CustomerProfile:
    """The profile of one customer.

    Args:
        customer_id: the customer's database id.
        as_of: the day the figures describe.
        status: the loyalty tier status (core.analytics.loyalty.tier_status).
        points: the loyalty points.
        tier_since: when the tier was reached.
        since: customer since; tenure counts from it, else from `created`.
        created: when the customer's record was made.
        lines: the product lines held now, sorted.
        products: the product codes held now.
        nps: the latest NPS answer.
        figures: the purchase figures; None for a customer who bought nothing.
        days_since_last_contact: days since the latest interaction.
        wallet_total: the estimated yearly category spend (for depth).

    Returns:
        The profile.
    """
    tenure = tenure_days(since or (created.date() if created else None), as_of)
    one = figures
    spend_12m = one.spend_12m if one else 0.0
    p_alive = one.p_alive if one else 1.0
    recency = one.recency_days if one else None
    return CustomerProfile(
        customer_id=customer_id,
        as_of=as_of,
        tier=status.tier,
        points=points,
        next_tier=status.next_tier,
        points_to_next_tier=status.points_to_next_tier,
        tier_since=tier_since,
        tenure_days=tenure,
        tenure_years=tenure_years(tenure),
        scope=scope(lines),
        product_lines=lines,
        products=products,
        depth=depth(spend_12m, wallet_total),
        spend_12m=spend_12m,
        nps_score=nps,
        nps_category=nps_category(nps),
        recency_days=recency,
        frequency=one.frequency if one else 0,
        monetary=one.monetary if one else 0.0,
        r_score=one.r if one else 0,
        f_score=one.f if one else 0,
        m_score=one.m if one else 0,
        rfm_segment=one.segment if one else NO_PURCHASES,
        expected_purchases=one.expected_purchases if one else 0.0,
        p_alive=p_alive,
        churn_risk=1.0 - p_alive,
        expected_value=one.expected_value if one else 0.0,
        days_since_last_purchase=recency,
        days_since_last_contact=days_since_last_contact,
    )
