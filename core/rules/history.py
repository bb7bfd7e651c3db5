"""What a customer was offered before: the history the contact policy and the conditions read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class OfferHistory:
    """One offer's past with one customer."""

    shown: int = 0
    accepted: int = 0
    declined: int = 0
    last_response: str = ""
    last_shown: datetime | None = None
    last_declined: datetime | None = None
    shown_in_window: int = 0


NO_HISTORY = OfferHistory()


@dataclass(frozen=True)
class CustomerHistory:
    """Every offer shown to one customer, by offer id."""

    offers: Mapping[str, OfferHistory] = field(default_factory=dict)
    shown_in_window: int = 0
    """Offers of any kind shown within the policy's impression window."""
    last_offer_at: datetime | None = None

    @property
    def empty(self) -> bool:
        return not (self.offers or self.shown_in_window)


EMPTY_HISTORY = CustomerHistory()
