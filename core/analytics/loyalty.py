"""Loyalty programme tiers: which tier comes next and how many points it still takes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TierStatus:
    tier: str
    next_tier: str | None
    points_to_next_tier: int | None


def tier_for_points(points: int, thresholds: Sequence[tuple[str, int]]) -> str:
    """The highest tier whose threshold `points` reaches.

    Args:
        points: the account's points.
        thresholds: (tier, minimum points), lowest first; the first starts at 0.

    Returns:
        The tier name.
    """
    tier = thresholds[0][0]
    for name, minimum in thresholds:
        if points >= minimum:
            tier = name
    return tier


def tier_status(
    stored_tier: str | None, points: int, thresholds: Sequence[tuple[str, int]]
) -> TierStatus:
    """The tier to show and the way to the next one.

    A programme keeps a tier earned for its qualification period, so a stored tier that is one
    of the configured tiers is shown as it is; otherwise (unknown or empty) the tier follows
    from the points. The next tier is the one above the shown tier; the points to it never go
    below 0 (a customer past the threshold is waiting for the programme's upgrade).

    Args:
        stored_tier: the loyalty account's tier, or None when the customer is not a member.
        points: the account's points.
        thresholds: (tier, minimum points), lowest first.

    Returns:
        The tier status; tier "" and no next tier for a non-member.
    """
    if stored_tier is None:
        return TierStatus("", None, None)
    names = [name.lower() for name, _ in thresholds]
    if stored_tier.strip().lower() in names:
        index = names.index(stored_tier.strip().lower())
    else:
        index = names.index(tier_for_points(points, thresholds).lower())
    tier = thresholds[index][0]
    if index + 1 >= len(thresholds):
        return TierStatus(tier, None, None)
    next_name, next_minimum = thresholds[index + 1]
    return TierStatus(tier, next_name, max(0, next_minimum - points))


def tier_progress(points: int, tier: str, thresholds: Sequence[tuple[str, int]]) -> float:
    """How far, 0..1, the points have come from the tier's threshold to the next one's."""
    names = [name.lower() for name, _ in thresholds]
    if tier.lower() not in names:
        return 0.0
    index = names.index(tier.lower())
    if index + 1 >= len(thresholds):
        return 1.0
    low, high = thresholds[index][1], thresholds[index + 1][1]
    return min(1.0, max(0.0, (points - low) / (high - low)))
