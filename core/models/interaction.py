"""Every contact with a customer, on any channel: the customer's history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from core.models.types import UtcDateTime


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    WEB = "web"
    STORE = "store"
    SALES_VISIT = "sales_visit"
    CHAT = "chat"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class InteractionBase(SQLModel):
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    at: datetime = Field(sa_type=UtcDateTime)
    channel: str = Field(max_length=20)
    """A Channel value."""
    direction: str = Field(max_length=10)
    """A Direction value."""
    subject: str = Field(max_length=300)
    outcome: str = Field(default="", max_length=100)
    agent: str = Field(default="", max_length=100)
    """User name of the agent who handled it, as recorded (may predate Frontline)."""
    notes: str = Field(default="", sa_type=Text)


class Interaction(InteractionBase, table=True):
    # The history is read newest first per customer, in pages.
    __table_args__ = (
        Index("ix_interaction_customer_at", "customer_id", "at"),
        Index("ix_interaction_customer_reason", "customer_id", "reason"),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int | None = Field(default=None, foreign_key="call.id")
    import_key: str | None = Field(default=None, max_length=64, unique=True)
    """A digest of an imported row, so that re-importing a file adds nothing twice."""
    reason: str = Field(default="", max_length=60)
    """The reason code's id (core/i18n/codes.toml: `complaint`), whatever the subject's words;
    what flags and rules read. Empty when none was recorded."""


class InteractionRead(InteractionBase):
    id: int
    call_id: int | None
