"""RFM: recency, frequency and monetary scores 1..5 against all customers, and their segments.

Scores are population quintiles with ties kept together: a customer's score is
1 + ⌊5 × (share of scored customers strictly worse than them)⌋, so equal values always get
the same score and the lowest value always scores 1. Most customers buy once, so frequency
ties are heavy: all one-time buyers score F=1 and the next score reached is the one the
share of one-time buyers points at. Fixed frequency bands (minimum purchase days for scores
2..5) can replace the quintiles through configuration.

The scores found in a refresh are stored as thresholds (the lowest value that reaches each
score 2..5), so one customer's figures can be scored later without reading everyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

NO_PURCHASES = "No Purchases"
NOT_SCORED = "Not Scored"

SEGMENTS: tuple[str, ...] = (
    "Champions",
    "Loyal Customers",
    "Potential Loyalists",
    "New Customers",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
)

# (recency scores, frequency scores) -> name. Every one of the 25 cells gets one name.
_SEGMENT_CELLS: tuple[tuple[range, range, str], ...] = (
    (range(1, 3), range(1, 3), "Hibernating"),
    (range(1, 3), range(3, 5), "At Risk"),
    (range(1, 3), range(5, 6), "Can't Lose Them"),
    (range(3, 4), range(1, 3), "About to Sleep"),
    (range(3, 4), range(3, 4), "Need Attention"),
    (range(3, 5), range(4, 6), "Loyal Customers"),
    (range(4, 5), range(1, 2), "Promising"),
    (range(5, 6), range(1, 2), "New Customers"),
    (range(4, 6), range(2, 4), "Potential Loyalists"),
    (range(5, 6), range(4, 6), "Champions"),
)

SEGMENT_MAP: dict[tuple[int, int], str] = {
    (r, f): name for rs, fs, name in _SEGMENT_CELLS for r in rs for f in fs
}
"""The segment of each (R score, F score) cell."""


def segment(r_score: int, f_score: int) -> str:
    """The segment name of an R×F cell; "No Purchases" when either score is 0."""
    if r_score == 0 or f_score == 0:
        return NO_PURCHASES
    return SEGMENT_MAP[(r_score, f_score)]


def quantile_scores(values: NDArray[np.float64]) -> NDArray[np.int64]:
    """Scores 1..5 where higher values are better and tied values score the same.

    Args:
        values: one value per scored customer.

    Returns:
        1 + ⌊5 × (share of values strictly below)⌋ for each value.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    below = np.searchsorted(np.sort(values), values, side="left")
    result: NDArray[np.int64] = np.minimum(5, 1 + (5 * below) // n).astype(np.int64)
    return result


def thresholds_of(values: NDArray[np.float64], scores: NDArray[np.int64]) -> tuple[float, ...]:
    """The lowest value reaching each score 2..5 (infinity for a score nobody reached)."""
    out = []
    for level in range(2, 6):
        reached = values[scores >= level]
        out.append(float(reached.min()) if len(reached) else float("inf"))
    return tuple(out)


def apply_thresholds(values: NDArray[np.float64], thresholds: Sequence[float]) -> NDArray[np.int64]:
    """Scores 1..5 from stored thresholds: 1 + how many of them the value reaches."""
    values = np.asarray(values, dtype=np.float64)
    edges = np.asarray(thresholds, dtype=np.float64)
    result: NDArray[np.int64] = 1 + (values[:, None] >= edges[None, :]).sum(axis=1)
    return result.astype(np.int64)


@dataclass(frozen=True)
class RfmThresholds:
    """What a refresh learnt about the population, to score customers one by one later.

    Recency is stored negated (higher is better), so every dimension uses the same rule.
    """

    recency: tuple[float, ...]
    frequency: tuple[float, ...]
    monetary: tuple[float, ...]

    def as_lists(self) -> dict[str, list[float | None]]:
        return {
            name: [None if np.isinf(v) else v for v in values]
            for name, values in (
                ("recency", self.recency),
                ("frequency", self.frequency),
                ("monetary", self.monetary),
            )
        }

    @classmethod
    def from_lists(cls, data: dict[str, list[float | None]]) -> RfmThresholds:
        def edges(name: str) -> tuple[float, ...]:
            return tuple(float("inf") if v is None else float(v) for v in data[name])

        return cls(edges("recency"), edges("frequency"), edges("monetary"))


@dataclass(frozen=True)
class RfmScores:
    r: NDArray[np.int64]
    f: NDArray[np.int64]
    m: NDArray[np.int64]
    thresholds: RfmThresholds


def score_population(
    recency_days: NDArray[np.float64],
    frequency: NDArray[np.float64],
    monetary: NDArray[np.float64],
    frequency_bands: Sequence[int] = (),
) -> RfmScores:
    """Score every customer with purchases against the others.

    Args:
        recency_days: days since each customer's last purchase (fewer is better).
        frequency: purchase days in the RFM window.
        monetary: spend in the RFM window.
        frequency_bands: minimum purchase days for F scores 2..5; empty for quintiles.

    Returns:
        The three scores per customer and the thresholds that reproduce them.
    """
    neg_recency = -np.asarray(recency_days, dtype=np.float64)
    frequency = np.asarray(frequency, dtype=np.float64)
    monetary = np.asarray(monetary, dtype=np.float64)
    r = quantile_scores(neg_recency)
    m = quantile_scores(monetary)
    if frequency_bands:
        f_edges = tuple(float(b) for b in frequency_bands)
        f = apply_thresholds(frequency, f_edges)
    else:
        f = quantile_scores(frequency)
        f_edges = thresholds_of(frequency, f)
    thresholds = RfmThresholds(
        recency=thresholds_of(neg_recency, r),
        frequency=f_edges,
        monetary=thresholds_of(monetary, m),
    )
    return RfmScores(r=r, f=f, m=m, thresholds=thresholds)


def score_with(
    thresholds: RfmThresholds,
    recency_days: NDArray[np.float64],
    frequency: NDArray[np.float64],
    monetary: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Score customers against a population seen earlier (its stored thresholds)."""
    return (
        apply_thresholds(-np.asarray(recency_days, dtype=np.float64), thresholds.recency),
        apply_thresholds(np.asarray(frequency, dtype=np.float64), thresholds.frequency),
        apply_thresholds(np.asarray(monetary, dtype=np.float64), thresholds.monetary),
    )
