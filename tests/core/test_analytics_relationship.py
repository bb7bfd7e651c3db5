"""Loyalty tiers, depth, NPS arithmetic and the analytics settings."""

from __future__ import annotations

from datetime import date

import pytest

from core.analytics.config import analytics_config
from core.analytics.loyalty import tier_for_points, tier_progress, tier_status
from core.analytics.relationship import (
    depth,
    net_promoter_score,
    nps_category,
    tenure_days,
)
from core.config import Settings, SettingsError, parse_settings

TIERS = (("Bronze", 0), ("Silver", 2000), ("Gold", 6000), ("Platinum", 15000))


@pytest.mark.parametrize(
    ("score", "category"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter")]
    + [(10, "promoter"), (None, None)],
)
def test_nps_categories(score: int | None, category: str | None) -> None:
    assert nps_category(score) == category


def test_nps_answer_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        nps_category(11)


def test_group_nps_is_percent_promoters_minus_percent_detractors() -> None:
    # 5 promoters, 3 passives, 2 detractors: 50% - 20% = 30
    assert net_promoter_score([10, 9, 9, 10, 9, 7, 8, 8, 0, 6]) == pytest.approx(30.0)
    assert net_promoter_score([0, 1, 2]) == pytest.approx(-100.0)
    assert net_promoter_score([7, 8]) == pytest.approx(0.0)
    assert net_promoter_score([]) is None


def test_tier_from_points_and_points_to_next() -> None:
    assert tier_for_points(0, TIERS) == "Bronze"
    assert tier_for_points(1999, TIERS) == "Bronze"
    assert tier_for_points(2000, TIERS) == "Silver"
    assert tier_for_points(20000, TIERS) == "Platinum"
    silver = tier_status("Silver", 4500, TIERS)
    assert (silver.tier, silver.next_tier, silver.points_to_next_tier) == ("Silver", "Gold", 1500)
    top = tier_status("Platinum", 30000, TIERS)
    assert (top.next_tier, top.points_to_next_tier) == (None, None)
    # an unknown stored tier follows the points; letter case does not matter
    assert tier_status("", 7000, TIERS).tier == "Gold"
    assert tier_status("gold", 7000, TIERS).tier == "Gold"
    # a tier kept past its points (qualification period) still shows the way up
    assert tier_status("Gold", 16000, TIERS).points_to_next_tier == 0
    assert tier_status(None, 0, TIERS).tier == ""
    assert tier_progress(4000, "Silver", TIERS) == pytest.approx(0.5)


def test_depth_is_share_of_the_estimated_wallet() -> None:
    assert depth(900.0, 3600.0) == pytest.approx(0.25)
    assert depth(5000.0, 3600.0) == 1.0
    assert depth(0.0, 3600.0) == 0.0


def test_tenure() -> None:
    assert tenure_days(date(2020, 1, 1), date(2021, 1, 1)) == 366
    assert tenure_days(None, date(2021, 1, 1)) == 0
    assert tenure_days(date(2022, 1, 1), date(2021, 1, 1)) == 0


def test_settings_configure_tiers_wallet_bands_and_horizon() -> None:
    settings = parse_settings(
        {
            "FRONTLINE_TIER_THRESHOLDS": "Blue:0, Gold:1000 ,Black:5000",
            "FRONTLINE_WALLET_ESTIMATE": "mobile:600,fibre:400",
            "FRONTLINE_RFM_FREQUENCY_BANDS": "2,4,8,16",
            "FRONTLINE_CLV_HORIZON_MONTHS": "24",
        }
    )
    config = analytics_config(settings)
    assert config.tier_thresholds == (("Blue", 0), ("Gold", 1000), ("Black", 5000))
    assert config.wallet_total == pytest.approx(1000.0)
    assert config.frequency_bands == (2, 4, 8, 16)
    assert config.horizon_weeks == pytest.approx(104.0)
    defaults = analytics_config(Settings())
    assert defaults.tier_thresholds == TIERS
    assert defaults.wallet_total == pytest.approx(3600.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("tier_thresholds", "Silver:100,Gold:200"),
        ("tier_thresholds", "Bronze:0,Silver:lots"),
        ("rfm_frequency_bands", "3,2,1"),
        ("clv_horizon_months", "-1"),
    ],
)
def test_malformed_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"FRONTLINE_{name.upper()}"):
        parse_settings({f"FRONTLINE_{name.upper()}": value})
