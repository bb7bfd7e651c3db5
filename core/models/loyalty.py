"""The loyalty programme and the customers' NPS answers."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from core.models.types import UtcDateTime, utcnow


class LoyaltyAccount(SQLModel, table=True):
    __tablename__ = "loyalty_account"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", unique=True, ondelete="CASCADE")
    tier: str = Field(max_length=20)
    """Tier name, e.g. Bronze, Silver, Gold, Platinum (thresholds in configuration)."""
    points: int = 0
    tier_since: date | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class NpsResponse(SQLModel, table=True):
    """One answer to "how likely are you to recommend us", 0 to 10."""

    __tablename__ = "nps_response"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    at: datetime = Field(sa_type=UtcDateTime)
    score: int = Field(ge=0, le=10)
    comment: str = Field(default="", max_length=2000)
