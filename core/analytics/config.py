"""The analytics settings, as the analytics code reads them (from `Settings.analytics`).

Every setting is documented in `.env.example` and parsed, with its defaults, by `core.config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config import DEFAULT_TIER_THRESHOLDS, DEFAULT_WALLET_ESTIMATE, Settings


@dataclass(frozen=True)
class AnalyticsConfig:
    """Thresholds, estimates and horizons the analytics use."""

    tier_thresholds: tuple[tuple[str, int], ...] = DEFAULT_TIER_THRESHOLDS
    """(tier, minimum points), lowest first."""
    wallet_estimate: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WALLET_ESTIMATE))
    """Yearly category spend per product line, summed over all lines for the depth estimate."""
    frequency_bands: tuple[int, ...] = ()
    """Minimum purchase days for F scores 2..5 (fixed bands); empty means quantile scores."""
    rfm_window_days: int = 0
    """Days of history that frequency and monetary count; 0 means all history."""
    horizon_months: int = 12
    """Horizon of expected purchases and expected value."""
    fit_sample: int = 200_000
    """Customers drawn (with a fixed seed) to fit BG/NBD and Gamma-Gamma; 0 fits on all."""

    @property
    def horizon_weeks(self) -> float:
        return self.horizon_months * 52.0 / 12.0

    @property
    def wallet_total(self) -> float:
        return float(sum(self.wallet_estimate.values()))


def analytics_config(settings: Settings | None) -> AnalyticsConfig:
    """The analytics configuration from `settings` (defaults when None).

    Args:
        settings: Frontline's settings, already parsed and checked by `core.config`.

    Returns:
        The configuration.
    """
    if settings is None:
        return AnalyticsConfig()
    section = settings.analytics
    return AnalyticsConfig(
        tier_thresholds=section.tier_thresholds,
        wallet_estimate=dict(section.wallet_estimate),
        frequency_bands=section.rfm_frequency_bands,
        rfm_window_days=section.rfm_window_days,
        horizon_months=section.clv_horizon_months,
        fit_sample=section.clv_fit_sample,
    )


__all__ = [
    "DEFAULT_TIER_THRESHOLDS",
    "DEFAULT_WALLET_ESTIMATE",
    "AnalyticsConfig",
    "analytics_config",
]
