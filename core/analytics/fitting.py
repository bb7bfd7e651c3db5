"""`frontline analytics fit`: BG/NBD and Gamma-Gamma on a transactions file.

The file has the columns of `frontline import transactions` (external_id, date, amount and
optionally product_code, channel). Weeks are the unit, several purchases on one day count
once, each customer's calibration period starts at their first purchase and ends on the
calibration end day; Gamma-Gamma uses the repeat buyers and the average value of their repeat
transactions (Fader, Hardie & Lee 2005).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from core.analytics.clv import BgNbdFit, GammaGammaFit, fit_bgnbd, fit_gamma_gamma
from core.analytics.metrics import day_number
from core.analytics.summary import summarise
from core.i18n import words as _


class TransactionsFileError(ValueError):
    """The transactions file cannot be read; the message names the line."""


@dataclass(frozen=True)
class FitReport:
    bgnbd: BgNbdFit
    gamma_gamma: GammaGammaFit

    def as_json(self) -> dict[str, dict[str, Any]]:
        """The `--json` output: parameters, log-likelihoods and customer counts as numbers."""
        b, g = self.bgnbd, self.gamma_gamma
        return {
            "bgnbd": {
                "r": b.r,
                "alpha": b.alpha,
                "a": b.a,
                "b": b.b,
                "log_likelihood": b.log_likelihood,
                "customers": b.customers,
            },
            "gamma_gamma": {
                "p": g.p,
                "q": g.q,
                "v": g.v,
                "log_likelihood": g.log_likelihood,
                "customers": g.customers,
            },
        }


def _day(text: str, line: int) -> int:
    try:
        return day_number(date.fromisoformat(text.strip()[:10]))
    except ValueError:
        raise TransactionsFileError(
            _("line {line}: date {text} is not YYYY-MM-DD").format(line=line, text=repr(text))
        ) from None


def read_transactions(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer keys, day numbers, amounts) of every row of a transactions CSV file."""
    keys: dict[str, int] = {}
    k: list[int] = []
    d: list[int] = []
    a: list[float] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"external_id", "date", "amount"} - set(reader.fieldnames or ())
        if missing:
            raise TransactionsFileError(
                _("line 1: missing column(s) {columns}").format(columns=", ".join(sorted(missing)))
            )
        for line, row in enumerate(reader, start=2):
            external = (row["external_id"] or "").strip()
            if not external:
                raise TransactionsFileError(_("line {line}: empty external_id").format(line=line))
            try:
                amount = float(row["amount"])
            except (TypeError, ValueError):
                raise TransactionsFileError(
                    _("line {line}: amount {amount} is not a number").format(
                        line=line, amount=repr(row["amount"])
                    )
                ) from None
            k.append(keys.setdefault(external, len(keys)))
            d.append(_day(row["date"] or "", line))
            a.append(amount)
    return np.array(k, dtype=np.int64), np.array(d, dtype=np.int64), np.array(a, dtype=np.float64)


def fit_file(path: Path, calibration_end: date) -> FitReport:
    """Fit both models on the purchases up to and including `calibration_end`.

    Args:
        path: a transactions CSV file.
        calibration_end: the last day of the calibration period.

    Returns:
        The two fits. Raises TransactionsFileError or clv.FitError.
    """
    keys, days, amounts = read_transactions(path)
    end = day_number(calibration_end)
    summary = summarise(keys, days, amounts, end)
    t_x, age = summary.weeks(end)
    return FitReport(
        bgnbd=fit_bgnbd(summary.repeat, t_x, age),
        gamma_gamma=fit_gamma_gamma(summary.repeat, summary.repeat_average),
    )
