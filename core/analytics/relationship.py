"""Relationship measures: tenure, scope, depth (share of wallet) and NPS."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

PROMOTER = "promoter"
PASSIVE = "passive"
DETRACTOR = "detractor"


def tenure_days(since: date | None, as_of: date) -> int:
    """Whole days from `since` to `as_of`, never negative; 0 when `since` is unknown."""
    if since is None:
        return 0
    return max(0, (as_of - since).days)


def tenure_years(days: int) -> float:
    return round(days / 365.25, 2)


def scope(product_lines: Iterable[str]) -> int:
    """Number of distinct product lines held."""
    return len({line for line in product_lines if line})


def depth(spend_12m: float, wallet_total: float) -> float:
    """Share of wallet: the year's spend with us over the estimated category spend, 0..1.

    Args:
        spend_12m: what the customer spent with us in the last 365 days.
        wallet_total: estimated yearly spend of a household on the categories we sell
            (the sum of the configured per-line estimates).

    Returns:
        The share, capped at 1 (a customer who spends more than the estimate gives us all).
    """
    if wallet_total <= 0:
        return 0.0
    return min(1.0, max(0.0, spend_12m / wallet_total))


def nps_category(score: int | None) -> str | None:
    """promoter (9-10), passive (7-8), detractor (0-6), None without an answer."""
    if score is None:
        return None
    if not 0 <= score <= 10:
        raise ValueError(f"an NPS answer is 0..10, got {score}")
    if score >= 9:
        return PROMOTER
    if score >= 7:
        return PASSIVE
    return DETRACTOR


def net_promoter_score(scores: Iterable[int]) -> float | None:
    """NPS of a group: % promoters - % detractors, from -100 to 100; None for no answers."""
    promoters = detractors = total = 0
    for score in scores:
        category = nps_category(score)
        total += 1
        promoters += category == PROMOTER
        detractors += category == DETRACTOR
    if total == 0:
        return None
    return 100.0 * (promoters - detractors) / total
