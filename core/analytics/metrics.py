"""Every customer's RFM and lifetime-value figures from their purchases, with numpy.

`population_figures` fits the models and the RFM thresholds on everyone (a refresh);
`scored_figures` scores some customers against a population fitted earlier (the customers
whose purchases just changed), and `one_customer_figures` is that on one customer (a profile).
Each figure is defined once, here, on arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray

from core.analytics.clv import (
    BgNbdFit,
    FitError,
    GammaGammaFit,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
)
from core.analytics.config import AnalyticsConfig
from core.analytics.rfm import (
    NOT_SCORED,
    SEGMENT_MAP,
    RfmThresholds,
    score_population,
    score_with,
)
from core.analytics.summary import day_totals, summarise, window_figures

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]

EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


@dataclass(frozen=True)
class Population:
    """What a refresh learnt about all customers: the fits and the RFM thresholds."""

    as_of: date
    customers: int
    bgnbd: BgNbdFit | None
    gamma_gamma: GammaGammaFit | None
    thresholds: RfmThresholds | None


@dataclass(frozen=True)
class OneCustomer:
    """One customer's figures: a row of Figures, as plain numbers."""

    last_day: int
    recency_days: int
    frequency: int
    monetary: float
    spend_12m: float
    r: int
    f: int
    m: int
    segment: str
    expected_purchases: float
    p_alive: float
    expected_value: float


@dataclass(frozen=True)
class Figures:
    """One row per customer with purchases, in customer-key order."""

    keys: Ints
    last_day: Ints
    recency_days: Ints
    frequency: Ints
    monetary: Floats
    spend_12m: Floats
    r: Ints
    f: Ints
    m: Ints
    segment: NDArray[np.object_]
    x: Floats
    t_x: Floats
    age: Floats
    repeat_average: Floats
    expected_purchases: Floats
    p_alive: Floats
    expected_spend: Floats
    expected_value: Floats

    def __len__(self) -> int:
        return len(self.keys)

    def rows(self) -> list[OneCustomer]:
        """Each customer's figures as plain numbers, in key order."""
        columns = (
            self.last_day, self.recency_days, self.frequency, self.monetary, self.spend_12m,
            self.r, self.f, self.m, self.segment, self.expected_purchases, self.p_alive,
            self.expected_value,
        )  # fmt: skip
        # tolist() once per column: indexing numpy arrays one element at a time is slow
        return [OneCustomer(*values) for values in zip(*(c.tolist() for c in columns), strict=True)]


_SEGMENT_LOOKUP = np.full(36, NOT_SCORED, dtype=object)
for (_r, _f), _name in SEGMENT_MAP.items():
    _SEGMENT_LOOKUP[_r * 6 + _f] = _name


def _align(keys: Ints, sub_keys: Ints, values: NDArray[np.generic], fill: float) -> Floats:
    out = np.full(len(keys), fill, dtype=np.float64)
    if len(sub_keys):
        out[np.searchsorted(keys, sub_keys)] = values
    return out


def _fit_sample(n: int, sample: int) -> Ints | None:
    if sample <= 0 or n <= sample:
        return None
    rng = np.random.default_rng(20050101)  # a fixed seed: the same data gives the same fit
    return np.sort(rng.choice(n, size=sample, replace=False)).astype(np.int64)


def _figures(
    keys: Ints,
    days: Ints,
    amounts: Floats,
    as_of: date,
    config: AnalyticsConfig,
    population: Population | None,
) -> tuple[Figures, Population]:
    end = day_number(as_of)
    # one sort into daily totals serves the summary and both windows
    keep = np.asarray(days) <= end
    keys, days, amounts = day_totals(
        np.asarray(keys)[keep], np.asarray(days)[keep], np.asarray(amounts)[keep]
    )
    summary = summarise(keys, days, amounts, end, collapsed=True)
    k = summary.keys
    x = summary.repeat
    t_x, age = summary.weeks(end)
    m_avg = summary.repeat_average
    start = (
        end - config.rfm_window_days + 1 if config.rfm_window_days else int(np.iinfo(np.int32).min)
    )
    wk, wcount, wspend = window_figures(keys, days, amounts, start, end, collapsed=True)
    frequency = _align(k, wk, wcount, 0.0)
    # sums of amounts in cents, to the cent: the order of a float sum must not show
    monetary = np.round(_align(k, wk, wspend, 0.0), 2)
    yk, _, yspend = window_figures(keys, days, amounts, end - 364, end, collapsed=True)
    spend_12m = np.round(_align(k, yk, yspend, 0.0), 2)
    recency = (end - summary.last_day).astype(np.float64)

    if population is None:
        bg: BgNbdFit | None = None
        gg: GammaGammaFit | None = None
        chosen = _fit_sample(len(k), config.fit_sample)
        pick = slice(None) if chosen is None else chosen
        try:
            bg = fit_bgnbd(x[pick], t_x[pick], age[pick])
        except FitError:
            bg = None
        try:
            gg = fit_gamma_gamma(x[pick], m_avg[pick])
        except FitError:
            gg = None
        thresholds = None
        if len(k):
            scores = score_population(recency, frequency, monetary, config.frequency_bands)
            r, f, m = scores.r, scores.f, scores.m
            thresholds = scores.thresholds
        else:
            r = f = m = np.zeros(0, dtype=np.int64)
        population = Population(as_of, len(k), bg, gg, thresholds)
    elif population.thresholds is not None:
        r, f, m = score_with(population.thresholds, recency, frequency, monetary)
    else:
        r = f = m = np.zeros(len(k), dtype=np.int64)

    horizon = config.horizon_weeks
    if population.bgnbd is not None:
        alive = probability_alive(population.bgnbd, x, t_x, age)
        purchases = expected_purchases(population.bgnbd, horizon, x, t_x, age)
    else:
        alive = np.ones(len(k))
        purchases = np.zeros(len(k))
    if population.gamma_gamma is not None:
        spend = expected_spend(population.gamma_gamma, x, m_avg)
    else:
        spend = np.where(x > 0, m_avg, summary.first_amount)
    figures = Figures(
        keys=k,
        last_day=summary.last_day,
        recency_days=recency.astype(np.int64),
        frequency=frequency.astype(np.int64),
        monetary=monetary,
        spend_12m=spend_12m,
        r=r,
        f=f,
        m=m,
        segment=_SEGMENT_LOOKUP[r * 6 + f],
        x=x,
        t_x=t_x,
        age=age,
        repeat_average=m_avg,
        expected_purchases=purchases,
        p_alive=alive,
        expected_spend=spend,
        expected_value=purchases * spend,
    )
    return figures, population


def population_figures(
    keys: Ints, days: Ints, amounts: Floats, as_of: date, config: AnalyticsConfig
) -> tuple[Figures, Population]:
    """Fit BG/NBD, Gamma-Gamma and the RFM thresholds on everyone, and score everyone.

    Args:
        keys: customer of each purchase.
        days: day of each purchase (days since 1970-01-01).
        amounts: amount of each purchase.
        as_of: the day the figures describe; later purchases are ignored.
        config: the analytics settings (window, bands, horizon, fit sample).

    Returns:
        The figures of every customer with purchases, and the population fitted.
    """
    return _figures(keys, days, amounts, as_of, config, None)


def scored_figures(
    keys: Ints,
    days: Ints,
    amounts: Floats,
    as_of: date,
    config: AnalyticsConfig,
    population: Population | None,
) -> Figures:
    """Figures of some customers against a population fitted earlier (no refit).

    Without a population (never refreshed) the scores are 0, the segment "Not Scored",
    P(alive) 1 and the expected purchases 0.
    """
    if population is None:
        population = Population(as_of, 0, None, None, None)
    return _figures(keys, days, amounts, as_of, config, population)[0]


def one_customer_figures(
    days: list[int],
    amounts: list[float],
    as_of: date,
    config: AnalyticsConfig,
    population: Population | None,
) -> OneCustomer | None:
    """`scored_figures` on a single customer's purchases (a profile): the same code, so the
    profile and the stored figures of a refresh cannot disagree.

    Returns:
        The figures, or None when the customer bought nothing up to `as_of`.
    """
    keys = np.zeros(len(days), dtype=np.int64)
    day_array = np.asarray(days, dtype=np.int64)
    amount_array = np.asarray(amounts, dtype=np.float64)
    rows = scored_figures(keys, day_array, amount_array, as_of, config, population).rows()
    return rows[0] if rows else None
