"""Panels other parts of Frontline provide: used when present, hidden when not (yet) there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.widget import Widget

try:
    from console.widgets.loyalty_panel import LoyaltyPanel
except ImportError:  # the analytics panel is not installed in this build
    LoyaltyPanel = None  # type: ignore[assignment,misc]

try:
    from console.widgets.offer_prompt import OfferPrompt
except ImportError:  # the offer prompt is not installed in this build
    OfferPrompt = None  # type: ignore[assignment,misc]


def loyalty_set(panel: Widget, profile: Any) -> None:
    """Hand a CustomerProfile to the loyalty panel."""
    panel.profile = profile  # type: ignore[attr-defined]


def offers_set(
    prompt: Widget,
    proposals: Sequence[Any],
    decline_reasons: Sequence[str] | None = None,
    customer_id: int | None = None,
    call_id: int | None = None,
) -> None:
    """Hand the offers to propose to `customer_id` on `call_id` (and the reasons a customer
    may give) to the offer prompt; no proposals clear it."""
    prompt.show(list(proposals), decline_reasons, customer_id, call_id)  # type: ignore[attr-defined]


def loyalty_help() -> str:
    """What the loyalty figures mean, as the analytics panel defines them ("" when absent)."""
    try:
        from console.widgets import loyalty_panel
    except ImportError:
        return ""
    for name in ("HELP_TEXT", "HELP", "DEFINITIONS"):
        value = getattr(loyalty_panel, name, None)
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            return "\n".join(f"{k}: {v}" for k, v in value.items())
        if isinstance(value, list | tuple):
            return "\n".join(
                f"{item[0]}: {item[1]}" if isinstance(item, tuple) else str(item) for item in value
            )
    return ""
