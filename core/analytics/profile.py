"""CustomerProfile: one customer's loyalty status and value, as the agent screen and rules see it.

This dataclass is a contract: the agent screen, the offer rules and the HTTP API code against
its field names. Add fields only at the end, never rename or remove one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class CustomerProfile:
    """Loyalty programme, relationship measures, RFM and lifetime value of one customer."""

    customer_id: int
    as_of: date
    """The day the figures describe (purchases after it are ignored)."""

    tier: str
    """Loyalty tier (Bronze, Silver, Gold, Platinum by default); "" when not a member."""
    points: int
    next_tier: str | None
    """The tier above the current one; None at the top tier or when not a member."""
    points_to_next_tier: int | None
    """Points still needed for `next_tier`; None when there is no next tier."""
    tier_since: date | None

    tenure_days: int
    """Days since the customer joined (customer since; else first record of them)."""
    tenure_years: float
    scope: int
    """Number of product lines (mobile, fibre, tv…) the customer holds now."""
    product_lines: tuple[str, ...]
    products: tuple[str, ...]
    """Codes of the products the customer holds now."""
    depth: float
    """Share of wallet, 0..1: spend with us in 12 months over the estimated category spend."""
    spend_12m: float
    """Spend in the 365 days up to and including `as_of`."""

    nps_score: int | None
    """The latest answer to "how likely are you to recommend us", 0..10."""
    nps_category: str | None
    """promoter (9-10), passive (7-8), detractor (0-6), or None without an answer."""

    recency_days: int | None
    """Days from the last purchase to `as_of`; None without purchases."""
    frequency: int
    """Purchase days in the RFM window (several purchases on one day count once)."""
    monetary: float
    """Spend in the RFM window."""
    r_score: int
    """1..5 against all customers (5 = most recent); 0 without purchases."""
    f_score: int
    m_score: int
    rfm_segment: str
    """One of the ten R×F segment names, or "No Purchases"."""

    expected_purchases: float
    """BG/NBD expected number of purchases over the configured horizon."""
    p_alive: float
    """BG/NBD probability that the customer is still an active buyer."""
    churn_risk: float
    """1 - p_alive."""
    expected_value: float
    """Expected purchases × Gamma-Gamma expected spend per purchase, over the horizon."""

    days_since_last_purchase: int | None
    days_since_last_contact: int | None
    """Days since the latest interaction on any channel; None when there is none."""
