"""Lifetime value: the BG/NBD and Gamma-Gamma models, fitted by maximum likelihood.

BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative
to the Pareto/NBD model", Marketing Science 24(2). While active, a customer buys as a Poisson
process with rate λ ~ Gamma(r, α); after each purchase they drop out with probability
p ~ Beta(a, b). Gamma-Gamma: Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves
for customer base analysis", Journal of Marketing Research 42(4): the average value of a
customer's repeat transactions follows Gamma(px, ν) with ν ~ Gamma(q, γ) (here `v` = γ).

Inputs per customer, in weeks: `x` repeat purchases (purchase days after the first one),
`t_x` time from the first to the last purchase, `T` time from the first purchase to the end
of the calibration period; for Gamma-Gamma, `m` the average value of the repeat purchases.
Parameters are fitted on their logarithms (so they stay positive) with scipy's optimiser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from core.i18n import words as _

Array = NDArray[np.float64]


class FitError(ValueError):
    """The data cannot support a fit (too few customers or no repeat buyers)."""


@dataclass(frozen=True)
class BgNbdFit:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int


@dataclass(frozen=True)
class GammaGammaFit:
    p: float
    q: float
    v: float
    log_likelihood: float
    customers: int


def bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, x: Array, t_x: Array, T: Array
) -> Array:
    """Each customer's log-likelihood under BG/NBD (FHL 2005, equation 6)."""
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    term_t = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    term_tx = np.full_like(x, -np.inf)
    xr = x[repeat]
    term_tx[repeat] = np.log(a) - np.log(b + xr - 1) - (r + xr) * np.log(alpha + t_x[repeat])
    result: Array = common + np.logaddexp(term_t, term_tx)
    return result


def gamma_gamma_log_likelihood(p: float, q: float, v: float, x: Array, m: Array) -> Array:
    """Each repeat buyer's log-likelihood of their average repeat spend `m` over `x` purchases."""
    px = p * x
    result: Array = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + v)
    )
    return result


Objective = Callable[[Array], tuple[float, Array]]


def _maximise(objective: Objective, start: Array) -> Array:
    """The log-parameters that minimise `objective` (mean negative log-likelihood, gradient).

    L-BFGS-B with the analytic gradient and tight tolerances reaches the published CDNOW
    optimum in a few dozen evaluations; Nelder-Mead takes over only when it stops short.
    """

    def value(log_params: Array) -> float:
        return objective(log_params)[0]

    first = minimize(
        objective, start, jac=True, method="L-BFGS-B", options={"ftol": 1e-13, "gtol": 1e-9}
    )
    if first.success and np.all(np.isfinite(first.x)):
        result: Array = np.asarray(first.x, dtype=np.float64)
        return result
    polished = minimize(
        value,
        first.x if np.all(np.isfinite(first.x)) else start,
        method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 4000, "maxfev": 8000},
    )
    best = polished if polished.fun <= first.fun else first
    result = np.asarray(best.x, dtype=np.float64)
    return result


_HUGE = 1e300


def bgnbd_objective(x: Array, t_x: Array, T: Array) -> Objective:
    """Mean negative log-likelihood of BG/NBD and its gradient in (log r, log α, log a, log b)."""
    repeat = x > 0
    x_r, t_x_r = x[repeat], t_x[repeat]
    n = len(x)

    def objective(log_params: Array) -> tuple[float, Array]:
        r, alpha, a, b = np.exp(np.clip(log_params, -30, 30))
        log_t = np.log(alpha + T)
        log_tx = np.log(alpha + t_x_r)
        term_t = -(r + x) * log_t
        term_tx = np.full(n, -np.inf)
        term_tx[repeat] = np.log(a) - np.log(b + x_r - 1) - (r + x_r) * log_tx
        mix = np.logaddexp(term_t, term_tx)
        ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b) + mix
        total = float(np.mean(ll))
        if not np.isfinite(total):
            return _HUGE, np.zeros(4)
        w = np.exp(term_tx - mix)  # weight of the "dropped out after the last purchase" term
        w_r = w[repeat]
        psi_abx = digamma(a + b + x)
        d_r = digamma(r + x) - digamma(r) + np.log(alpha) - (1 - w) * log_t
        d_r[repeat] -= w_r * log_tx
        d_alpha = r / alpha - (1 - w) * (r + x) / (alpha + T)
        d_alpha[repeat] -= w_r * (r + x_r) / (alpha + t_x_r)
        d_a = digamma(a + b) - psi_abx
        d_a[repeat] += w_r / a
        d_b = digamma(b + x) - psi_abx - digamma(b) + digamma(a + b)
        d_b[repeat] -= w_r / (b + x_r - 1)
        grad = -np.array(
            [
                r * np.mean(d_r),
                alpha * np.mean(d_alpha),
                a * np.mean(d_a),
                b * np.mean(d_b),
            ]
        )
        return -total, grad

    return objective


def gamma_gamma_objective(x: Array, m: Array) -> Objective:
    """Mean negative log-likelihood of Gamma-Gamma and its gradient in (log p, log q, log v)."""
    log_m, log_x = np.log(m), np.log(x)
    xm = x * m

    def objective(log_params: Array) -> tuple[float, Array]:
        p, q, v = np.exp(np.clip(log_params, -30, 30))
        px = p * x
        log_xmv = np.log(xm + v)
        total = float(np.mean(gamma_gamma_log_likelihood(p, q, v, x, m)))
        if not np.isfinite(total):
            return _HUGE, np.zeros(3)
        psi = digamma(px + q)
        d_p = x * (psi - digamma(px) + log_m + log_x - log_xmv)
        d_q = psi - digamma(q) + np.log(v) - log_xmv
        d_v = q / v - (px + q) / (xm + v)
        grad = -np.array([p * np.mean(d_p), q * np.mean(d_q), v * np.mean(d_v)])
        return -total, grad

    return objective


def fit_bgnbd(x: Array, t_x: Array, T: Array) -> BgNbdFit:
    """Fit BG/NBD by maximum likelihood.

    Args:
        x: repeat purchases per customer.
        t_x: weeks from first to last purchase.
        T: weeks from first purchase to the end of the calibration period.

    Returns:
        The parameters, the total log-likelihood and the number of customers.
    """
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    n = len(x)
    if n < 2 or not np.any(x > 0):
        raise FitError(_("BG/NBD needs at least two customers and one repeat purchase"))
    # Start where lifetimes does (all ones), with α on the scale of the observation period
    # so the first steps stay in a sensible region.
    start = np.log(np.array([1.0, max(float(np.mean(T)), 1e-3) / 10.0, 1.0, 1.0]))
    r, alpha, a, b = (float(v) for v in np.exp(_maximise(bgnbd_objective(x, t_x, T), start)))
    ll = float(np.sum(bgnbd_log_likelihood(r, alpha, a, b, x, t_x, T)))
    return BgNbdFit(r=r, alpha=alpha, a=a, b=b, log_likelihood=ll, customers=n)


def fit_gamma_gamma(x: Array, m: Array) -> GammaGammaFit:
    """Fit Gamma-Gamma by maximum likelihood on repeat buyers.

    Args:
        x: repeat purchases (only customers with x > 0 and m > 0 are used).
        m: the average value of each customer's repeat purchases.

    Returns:
        The parameters, the total log-likelihood and the number of customers used.
    """
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if len(x) < 2:
        raise FitError(_("Gamma-Gamma needs at least two repeat buyers"))
    start = np.log(np.array([1.0, 1.0, max(float(np.mean(m)), 1e-3)]))
    p, q, v = (float(value) for value in np.exp(_maximise(gamma_gamma_objective(x, m), start)))
    ll = float(np.sum(gamma_gamma_log_likelihood(p, q, v, x, m)))
    return GammaGammaFit(p=p, q=q, v=v, log_likelihood=ll, customers=len(x))


def _log_dropout_odds(fit: BgNbdFit, x: Array, t_x: Array, T: Array) -> Array:
    """log of δ(x>0)·a/(b+x-1)·((α+T)/(α+t_x))^(r+x); -inf for customers with no repeat."""
    out = np.full_like(x, -np.inf)
    repeat = x > 0
    xr = x[repeat]
    out[repeat] = (
        np.log(fit.a)
        - np.log(fit.b + xr - 1)
        + (fit.r + xr) * (np.log(fit.alpha + T[repeat]) - np.log(fit.alpha + t_x[repeat]))
    )
    return out


def probability_alive(fit: BgNbdFit, x: Array, t_x: Array, T: Array) -> Array:
    """P(still active | x, t_x, T) (FHL 2005, equation 11 of the technical note)."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    result: Array = expit(-_log_dropout_odds(fit, x, t_x, T))
    return result


def expected_purchases(fit: BgNbdFit, t: float, x: Array, t_x: Array, T: Array) -> Array:
    """Expected purchases in the next `t` weeks given the history (FHL 2005, equation 10)."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = t / (alpha + T + t)
    ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    numerator = (a + b + x - 1) / (a - 1) * (1 - ratio * hyp2f1(r + x, b + x, a + b + x - 1, z))
    result: Array = numerator * probability_alive(fit, x, t_x, T)
    return np.where(np.isfinite(result), np.maximum(result, 0.0), 0.0)


def expected_spend(fit: GammaGammaFit, x: Array, m: Array) -> Array:
    """Expected average spend per purchase given x repeat purchases averaging m.

    A customer with no repeat purchase gets the population mean p·γ/(q-1).
    """
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    p, q, v = fit.p, fit.q, fit.v
    if q <= 1:  # the population mean is infinite; fall back on what each customer spent
        return np.where(x > 0, m, 0.0)
    m = np.where(x > 0, m, 0.0)
    result: Array = p * (v + x * m) / (p * x + q - 1)
    return result
