"""RFM scores, tie handling, fixed frequency bands and the segment map."""

from __future__ import annotations

import numpy as np
import pytest

from core.analytics.rfm import (
    NO_PURCHASES,
    SEGMENT_MAP,
    SEGMENTS,
    apply_thresholds,
    quantile_scores,
    score_population,
    score_with,
    segment,
)


def test_every_one_of_the_25_cells_has_exactly_one_of_the_ten_names() -> None:
    assert set(SEGMENT_MAP) == {(r, f) for r in range(1, 6) for f in range(1, 6)}
    assert len(SEGMENT_MAP) == 25
    assert set(SEGMENT_MAP.values()) == set(SEGMENTS)
    assert len(SEGMENTS) == 10
    for r in range(1, 6):
        for f in range(1, 6):
            assert segment(r, f) in SEGMENTS


@pytest.mark.parametrize(
    ("r", "f", "name"),
    [
        (5, 5, "Champions"),
        (5, 1, "New Customers"),
        (4, 1, "Promising"),
        (3, 3, "Need Attention"),
        (3, 1, "About to Sleep"),
        (1, 5, "Can't Lose Them"),
        (2, 4, "At Risk"),
        (1, 1, "Hibernating"),
        (4, 5, "Loyal Customers"),
        (5, 3, "Potential Loyalists"),
    ],
)
def test_well_known_cells(r: int, f: int, name: str) -> None:
    assert segment(r, f) == name


def test_no_purchases_is_its_own_group() -> None:
    assert segment(0, 0) == NO_PURCHASES


def test_quintiles_of_distinct_values() -> None:
    scores = quantile_scores(np.arange(1.0, 11.0))
    assert scores.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_tied_values_get_the_same_score() -> None:
    # 60% buy once, as in most customer bases: all of them must share one score.
    frequency = np.array([1.0] * 60 + [2.0] * 20 + [3.0] * 10 + [5.0] * 5 + [9.0] * 5)
    scores = quantile_scores(frequency)
    for value in np.unique(frequency):
        assert len(set(scores[frequency == value].tolist())) == 1
    assert scores[frequency == 1.0][0] == 1
    assert scores[frequency == 9.0][0] == 5
    # Higher values never score lower.
    order = np.argsort(frequency, kind="stable")
    assert np.all(np.diff(scores[order]) >= 0)


def test_stored_thresholds_reproduce_the_population_scores() -> None:
    rng = np.random.default_rng(1)
    recency = rng.integers(0, 1000, 500).astype(float)
    frequency = rng.poisson(1.5, 500).astype(float) + 1
    monetary = rng.gamma(2, 100, 500)
    scores = score_population(recency, frequency, monetary)
    again = score_with(scores.thresholds, recency, frequency, monetary)
    assert again[0].tolist() == scores.r.tolist()
    assert again[1].tolist() == scores.f.tolist()
    assert again[2].tolist() == scores.m.tolist()
    # The most recent buyer scores R=5, the longest ago R=1.
    assert scores.r[np.argmin(recency)] == 5
    assert scores.r[np.argmax(recency)] == 1


def test_fixed_frequency_bands_replace_the_quintiles() -> None:
    bands = (2, 3, 5, 8)  # minimum purchase days for F = 2, 3, 4, 5
    frequency = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 8.0, 30.0])
    scores = score_population(np.zeros(8), frequency, np.ones(8), frequency_bands=bands)
    assert scores.f.tolist() == [1, 2, 3, 3, 4, 4, 5, 5]
    assert apply_thresholds(np.array([6.0]), scores.thresholds.frequency).tolist() == [4]
