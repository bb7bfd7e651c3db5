"""The analytics settings, read from `FRONTLINE_*` variables through `Settings.get`.

Every setting is documented in `.env.example`; the defaults below apply when it is unset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config import Settings

DEFAULT_TIER_THRESHOLDS: tuple[tuple[str, int], ...] = (
    ("Bronze", 0),
    ("Silver", 2000),
    ("Gold", 6000),
    ("Platinum", 15000),
)

DEFAULT_WALLET_ESTIMATE: dict[str, float] = {
    "mobile": 480.0,
    "fibre": 540.0,
    "tv": 360.0,
    "energy": 1200.0,
    "insurance": 420.0,
    "devices": 600.0,
}
"""A household's yearly spend on each category we sell, from any supplier."""


class AnalyticsConfigError(ValueError):
    """An analytics setting could not be read; the message names the variable."""


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


def _pairs(raw: str, name: str) -> list[tuple[str, str]]:
    pairs = []
    for item in raw.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition(":")
        if not sep:
            key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise AnalyticsConfigError(
                f"FRONTLINE_{name.upper()}: expected NAME:NUMBER, got {item!r}"
            )
        pairs.append((key.strip(), value.strip()))
    return pairs


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise AnalyticsConfigError(f"FRONTLINE_{name.upper()}: {value!r} is not a number") from None


def _integer(raw: str, name: str, default: int) -> int:
    if not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise AnalyticsConfigError(
            f"FRONTLINE_{name.upper()}: {raw!r} is not a whole number"
        ) from None
    if value < 0:
        raise AnalyticsConfigError(f"FRONTLINE_{name.upper()}: must not be negative")
    return value


def analytics_config(settings: Settings | None) -> AnalyticsConfig:
    """The analytics configuration from `settings` (defaults when None or unset).

    Args:
        settings: Frontline's settings; subsystem values come from `settings.get`.

    Returns:
        The parsed configuration. Raises AnalyticsConfigError on a malformed value.
    """
    if settings is None:
        return AnalyticsConfig()
    tiers = DEFAULT_TIER_THRESHOLDS
    raw = settings.get("tier_thresholds")
    if raw.strip():
        parsed = [
            (k, int(_number(v, "tier_thresholds"))) for k, v in _pairs(raw, "tier_thresholds")
        ]
        parsed.sort(key=lambda pair: pair[1])
        if not parsed or parsed[0][1] != 0:
            raise AnalyticsConfigError("FRONTLINE_TIER_THRESHOLDS: the lowest tier must start at 0")
        if len({p for _, p in parsed}) != len(parsed):
            raise AnalyticsConfigError("FRONTLINE_TIER_THRESHOLDS: two tiers share a threshold")
        tiers = tuple(parsed)
    wallet = dict(DEFAULT_WALLET_ESTIMATE)
    raw = settings.get("wallet_estimate")
    if raw.strip():
        wallet = {k: _number(v, "wallet_estimate") for k, v in _pairs(raw, "wallet_estimate")}
        if sum(wallet.values()) <= 0:
            raise AnalyticsConfigError("FRONTLINE_WALLET_ESTIMATE: the total must be positive")
    bands: tuple[int, ...] = ()
    raw = settings.get("rfm_frequency_bands")
    if raw.strip():
        bands = tuple(_integer(v, "rfm_frequency_bands", 0) for v in raw.split(",") if v.strip())
        if len(bands) != 4 or list(bands) != sorted(set(bands)) or bands[0] < 1:
            raise AnalyticsConfigError(
                "FRONTLINE_RFM_FREQUENCY_BANDS: four increasing purchase counts (scores 2..5)"
            )
    horizon = _integer(settings.get("clv_horizon_months"), "clv_horizon_months", 12)
    if horizon == 0:
        raise AnalyticsConfigError("FRONTLINE_CLV_HORIZON_MONTHS: must be at least 1")
    return AnalyticsConfig(
        tier_thresholds=tiers,
        wallet_estimate=wallet,
        frequency_bands=bands,
        rfm_window_days=_integer(settings.get("rfm_window_days"), "rfm_window_days", 0),
        horizon_months=horizon,
        fit_sample=_integer(settings.get("clv_fit_sample"), "clv_fit_sample", 200_000),
    )
