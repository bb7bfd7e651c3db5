"""The demo's loyalty tiers (the product catalogue is core.reference.catalogue)."""

from __future__ import annotations

from core.analytics.config import DEFAULT_TIER_THRESHOLDS
from core.analytics.loyalty import tier_for_points as _tier_for_points

LOYALTY_TIERS = DEFAULT_TIER_THRESHOLDS
"""Tier name and the points (1 per 1.00 spent) it starts at, lowest first."""


def tier_for_points(points: int) -> str:
    """The loyalty tier a customer with `points` is in, on the default tier table."""
    return _tier_for_points(points, LOYALTY_TIERS)
