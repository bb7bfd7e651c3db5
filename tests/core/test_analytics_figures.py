"""A profile's figures are the refresh's: one customer scored on their own purchases gets the
row the whole-base computation gave them, over random purchase histories."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from core.analytics.config import AnalyticsConfig
from core.analytics.metrics import day_number, one_customer_figures, population_figures

AS_OF = date(2026, 11, 23)


@pytest.mark.parametrize("config", [AnalyticsConfig(), AnalyticsConfig(rfm_window_days=365)])
def test_one_customer_gets_the_figures_of_the_whole_base(config: AnalyticsConfig) -> None:
    rng = np.random.default_rng(3)
    customers = 600
    counts = rng.integers(1, 15, customers)
    keys = np.repeat(np.arange(customers, dtype=np.int64), counts)
    # some purchases after the day described (ignored) and several on one day (one purchase)
    days = day_number(AS_OF) - rng.integers(-20, 1200, len(keys))
    days[1::5] = days[::5][: len(days[1::5])]
    amounts = np.round(rng.gamma(2.0, 30.0, len(keys)), 2)
    figures, population = population_figures(keys, days, amounts, AS_OF, config)
    assert population.bgnbd is not None and population.thresholds is not None
    row_of = {int(k): i for i, k in enumerate(figures.keys)}
    for key in range(customers):
        mine = keys == key
        one = one_customer_figures(
            days[mine].tolist(), amounts[mine].tolist(), AS_OF, config, population
        )
        if key not in row_of:
            assert one is None  # every purchase after AS_OF
            continue
        assert one is not None
        i = row_of[key]
        assert (one.recency_days, one.frequency, one.r, one.f, one.m, one.segment) == (
            figures.recency_days[i], figures.frequency[i], figures.r[i], figures.f[i],
            figures.m[i], figures.segment[i],
        )  # fmt: skip
        for name in ("monetary", "spend_12m", "expected_purchases", "p_alive", "expected_value"):
            assert getattr(one, name) == pytest.approx(getattr(figures, name)[i], rel=1e-9), name
