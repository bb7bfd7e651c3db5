"""Purchase histories to per-customer figures, for millions of purchases at once (numpy).

Purchases come in as three arrays: a customer key, the purchase's day (days since
1970-01-01, UTC) and its amount. Several purchases by one customer on one day count as one
purchase of their total, as in the BG/NBD and Gamma-Gamma papers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class PurchaseSummary:
    """One row per customer with purchases up to the cut-off day, in key order."""

    keys: Ints
    first_day: Ints
    last_day: Ints
    days: Ints
    """Distinct purchase days."""
    total: Floats
    first_amount: Floats
    """Spend on the first purchase day."""

    @property
    def repeat(self) -> Floats:
        """x: repeat purchase days."""
        result: Floats = (self.days - 1).astype(np.float64)
        return result

    @property
    def repeat_average(self) -> Floats:
        """m: the average value of the repeat purchases (0 for customers with none)."""
        x = self.repeat
        result: Floats = np.divide(
            self.total - self.first_amount, x, out=np.zeros_like(x), where=x > 0
        )
        return result

    def weeks(self, end_day: int) -> tuple[Floats, Floats]:
        """(t_x, T) in weeks, T measured to the end of `end_day` as FHL do (day counts / 7)."""
        t_x = (self.last_day - self.first_day).astype(np.float64) / 7.0
        age = (end_day - self.first_day).astype(np.float64) / 7.0
        return t_x, age


def _run_starts(sorted_keys: Ints) -> Ints:
    """Where each run of equal keys starts (np.r_ would cost more than the work on one
    customer's few purchases: a profile runs this code too)."""
    change = np.empty(len(sorted_keys), dtype=np.bool_)
    change[:1] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=change[1:])
    return np.flatnonzero(change)


def day_totals(keys: Ints, days: Ints, amounts: Floats) -> tuple[Ints, Ints, Floats]:
    """Purchases collapsed to one per customer and day, sorted by customer then day."""
    keys = np.asarray(keys, dtype=np.int64)
    days = np.asarray(days, dtype=np.int64)
    amounts = np.asarray(amounts, dtype=np.float64)
    if len(keys) == 0:
        return keys, days, amounts
    day_min = int(days.min())
    span = int(days.max()) - day_min + 1
    combined = keys * span + (days - day_min)
    order = np.argsort(combined, kind="stable")
    combined = combined[order]
    starts = _run_starts(combined)
    totals = np.add.reduceat(amounts[order], starts)
    unique = combined[starts]
    return unique // span, unique % span + day_min, totals


def summarise(
    keys: Ints, days: Ints, amounts: Floats, end_day: int, collapsed: bool = False
) -> PurchaseSummary:
    """Per-customer first/last purchase day, purchase days and spend up to `end_day` inclusive.

    Args:
        keys: the customer of each purchase (any integer key).
        days: the day of each purchase, days since 1970-01-01.
        amounts: each purchase's amount.
        end_day: the last day counted; later purchases are ignored.
        collapsed: the purchases are already `day_totals` (skips collapsing them again).

    Returns:
        The summary, one row per customer with at least one purchase, sorted by key.
    """
    keys = np.asarray(keys, dtype=np.int64)
    days = np.asarray(days, dtype=np.int64)
    amounts = np.asarray(amounts, dtype=np.float64)
    keep = days <= end_day
    if collapsed:
        k, d, a = keys[keep], days[keep], amounts[keep]
    else:
        k, d, a = day_totals(keys[keep], days[keep], amounts[keep])
    if len(k) == 0:
        empty_i = np.zeros(0, dtype=np.int64)
        empty_f = np.zeros(0, dtype=np.float64)
        return PurchaseSummary(empty_i, empty_i, empty_i, empty_i, empty_f, empty_f)
    starts = _run_starts(k)
    ends = np.append(starts[1:], len(k)) - 1
    return PurchaseSummary(
        keys=k[starts],
        first_day=d[starts],
        last_day=d[ends],
        days=(ends - starts + 1).astype(np.int64),
        total=np.add.reduceat(a, starts),
        first_amount=a[starts],
    )


def window_figures(
    keys: Ints, days: Ints, amounts: Floats, start_day: int, end_day: int, collapsed: bool = False
) -> tuple[Ints, Ints, Floats]:
    """Purchase days and spend per customer between two days inclusive (`collapsed`: the
    purchases are already `day_totals`).

    Returns:
        (keys, purchase days, spend), one row per customer with a purchase in the window.
    """
    keys = np.asarray(keys, dtype=np.int64)
    days = np.asarray(days, dtype=np.int64)
    amounts = np.asarray(amounts, dtype=np.float64)
    keep = (days >= start_day) & (days <= end_day)
    if collapsed:
        k, a = keys[keep], amounts[keep]
    else:
        k, _, a = day_totals(keys[keep], days[keep], amounts[keep])
    if len(k) == 0:
        return k, k.copy(), a
    starts = _run_starts(k)
    counts = np.diff(np.append(starts, len(k))).astype(np.int64)
    return k[starts], counts, np.add.reduceat(a, starts)
