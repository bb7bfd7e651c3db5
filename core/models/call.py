"""Calls through their life, and the agent's unsaved work on the current one."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from core.models.types import UtcDateTime, utcnow


class CallState(StrEnum):
    QUEUED = "queued"
    OFFERED = "offered"
    ANSWERED = "answered"
    HELD = "held"
    WRAP_UP = "wrap_up"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class Call(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    """None while the caller is unknown, or for a call logged for someone not found."""
    caller_number: str = Field(default="", max_length=40)
    queue: str = Field(default="", max_length=40, index=True)
    state: str = Field(default=CallState.QUEUED, max_length=20, index=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id", index=True)
    queued_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    offered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    wrap_up_ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    abandoned_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    reason: str = Field(default="", max_length=60)
    disposition: str = Field(default="", max_length=60)
    notes: str = Field(default="", sa_type=Text)
    follow_up_on: date | None = None


class CallDraft(SQLModel, table=True):
    """What an agent has typed for their unfinished call, saved as they type."""

    __tablename__ = "call_draft"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", unique=True)
    call_id: int | None = Field(default=None, foreign_key="call.id")
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    payload: str = Field(default="{}", sa_type=Text)
    """JSON of the call panel: notes, codes, timers, follow-up date."""
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
