"""Offers shown to customers during calls, and how they answered."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from core.models.types import UtcDateTime, utcnow


class OfferResponse(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NOT_OFFERED = "not_offered"


class OfferPresentation(SQLModel, table=True):
    __tablename__ = "offer_presentation"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    call_id: int | None = Field(default=None, foreign_key="call.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    offer_id: str = Field(max_length=80, index=True)
    rules_version: str = Field(max_length=80)
    presented_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    response: str | None = Field(default=None, max_length=20)
    """An OfferResponse value, or None while unanswered."""
    decline_reason: str = Field(default="", max_length=100)
    responded_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
