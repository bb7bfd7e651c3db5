"""The loyalty tier's colours: one table for every place a tier is shown."""

from __future__ import annotations

from rich.text import Text

from console.i18n import _
from console.safe_text import clean

TIER_STYLES = {
    "bronze": "bold black on dark_orange3",
    "silver": "bold black on grey70",
    "gold": "bold black on gold1",
    "platinum": "bold black on light_cyan1",
}
"""Rich styles by tier name (lower case); a tier not listed is shown reversed."""


def tier_style(tier: str) -> str:
    """The badge style of `tier` (any case)."""
    return TIER_STYLES.get(tier.lower(), "bold reverse")


def tier_badge(tier: str) -> Text:
    """The loyalty tier as a small coloured badge (empty for no tier)."""
    return Text(f" {clean(_(tier))} ", tier_style(tier)) if tier else Text()
