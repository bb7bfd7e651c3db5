"""The demo's loyalty tiers (the product catalogue is core.reference.catalogue)."""

from __future__ import annotations

LOYALTY_TIERS: tuple[tuple[str, int], ...] = (
    ("Bronze", 0),
    ("Silver", 2000),
    ("Gold", 6000),
    ("Platinum", 15000),
)
"""Tier name and the points (1 per 1.00 spent) it starts at, lowest first."""


def tier_for_points(points: int) -> str:
    """The loyalty tier a customer with `points` is in."""
    tier = LOYALTY_TIERS[0][0]
    for name, threshold in LOYALTY_TIERS:
        if points >= threshold:
            tier = name
    return tier
