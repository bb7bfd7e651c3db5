"""The loyalty panel alone: what the agent reads from a customer profile."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

from rich.console import Console
from textual.app import App, ComposeResult

from console.widgets.loyalty_panel import HELP_TEXT, LoyaltyPanel, churn_level
from core.analytics.profile import CustomerProfile

PROFILE = CustomerProfile(
    customer_id=7,
    as_of=date(2025, 6, 30),
    tier="Gold",
    points=7450,
    next_tier="Platinum",
    points_to_next_tier=7550,
    tier_since=date(2024, 1, 1),
    tenure_days=1826,
    tenure_years=5.0,
    scope=3,
    product_lines=("fibre", "mobile", "tv"),
    products=("FIBRE_600", "MOBILE_PLUS", "TV_SPORTS"),
    depth=0.27,
    spend_12m=980.0,
    nps_score=9,
    nps_category="promoter",
    recency_days=12,
    frequency=14,
    monetary=2500.0,
    r_score=4,
    f_score=5,
    m_score=4,
    rfm_segment="Loyal Customers",
    expected_purchases=6.2,
    p_alive=0.35,
    churn_risk=0.65,
    expected_value=1234.5,
    days_since_last_purchase=12,
    days_since_last_contact=3,
)


class PanelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LoyaltyPanel(id="loyalty")


def _text(panel: LoyaltyPanel) -> str:
    console = Console(width=60, record=True, file=io.StringIO())
    console.print(panel.content)
    return console.export_text()


async def test_panel_shows_tier_points_segment_value_churn_and_nps() -> None:
    async with PanelApp().run_test(size=(80, 24)) as pilot:
        panel = pilot.app.query_one(LoyaltyPanel)
        assert _text(panel).strip() == ""
        panel.profile = PROFILE
        await pilot.pause()
        text = _text(panel)
        assert "GOLD" in text
        assert "7,450 pts" in text
        assert "7,550 to Platinum" in text
        assert "Loyal Customers" in text and "R4 F5 M4" in text
        assert "1,234.50" in text
        assert "980.00" in text and "wallet 27%" in text
        assert "65% high" in text
        assert "9 promoter" in text
        assert panel.region.height > 3  # it takes room on the screen


async def test_panel_for_a_customer_without_purchases_or_refresh() -> None:
    async with PanelApp().run_test() as pilot:
        panel = pilot.app.query_one(LoyaltyPanel)
        panel.profile = replace(
            PROFILE, rfm_segment="Not Scored", tier="", next_tier=None, nps_score=None
        )
        await pilot.pause()
        text = _text(panel)
        assert "Not a loyalty member" in text
        assert "not scored yet" in text
        assert "no answer" in text
        panel.profile = replace(PROFILE, tier="Platinum", next_tier=None, points_to_next_tier=None)
        await pilot.pause()
        assert "Top tier" in _text(panel)
        panel.profile = None
        await pilot.pause()
        assert _text(panel).strip() == ""


async def test_tier_names_from_the_database_are_shown_as_text() -> None:
    async with PanelApp().run_test() as pilot:
        panel = pilot.app.query_one(LoyaltyPanel)
        panel.profile = replace(PROFILE, tier="[bold]Gold\x1b[31m", next_tier="[red]X")
        await pilot.pause()
        text = _text(panel)
        assert "[BOLD]GOLD" in text and "[red]X" in text
        assert "\x1b[31m" not in text


def test_churn_levels_and_help_explain_the_figures() -> None:
    assert [churn_level(r) for r in (0.1, 0.3, 0.59, 0.6, 0.95)] == [
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]
    for words in ("Churn risk", "P(alive)", "Segment", "expected value", "NPS", "promoter"):
        assert words in HELP_TEXT
