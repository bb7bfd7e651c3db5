"""What the phone system told us about each call, and supervisors' quality scores."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models.types import UtcDateTime, utcnow


class CallEventKind(StrEnum):
    """The events a phone system reports (and `frontline call …` sends)."""

    QUEUED = "queued"
    OFFERED = "offered"
    ANSWERED = "answered"
    HELD = "held"
    UNHELD = "unheld"
    ENDED = "ended"
    ABANDONED = "abandoned"
    COMPLETED = "completed"
    """Wrap-up finished: the agent is ready for the next call."""
    IDENTIFIED = "identified"
    """The agent linked the caller to a customer record (the console's own event)."""
    TRANSFERRED = "transferred"
    """Blind or consult, to an agent or back to a queue (see EventRequest.transfer)."""
    CONFERENCED = "conferenced"
    """A third party joined the call; the call stays with its agent."""
    CLOSED_STALE = "closed_stale"
    """Frontline closed a call whose end never arrived (the stale-call sweep): the flag."""


class CallEvent(SQLModel, table=True):
    """One applied event: the log that metrics and audits are computed from."""

    __tablename__ = "call_event"
    __table_args__ = (Index("ix_call_event_call_at", "call_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id")
    kind: str = Field(max_length=20)
    """A CallEventKind value."""
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    """When it happened, as the phone system reported it (or when it arrived)."""
    received_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    payload: str = Field(default="{}", sa_type=Text)
    """The event body as JSON (caller number, queue, agent, …)."""
    idempotency_key: str | None = Field(default=None, max_length=200, unique=True)
    """The sender's Idempotency-Key (or "source:source_event_id"): applied once."""
    source: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})
    """Who reported it: kamailio, asterisk, freeswitch, api, console, frontline (the sweep)."""
    source_event_id: str | None = Field(default=None, max_length=200)
    """The phone system's own id for this event."""
    leg_id: str | None = Field(default=None, max_length=128)
    """The phone system's id for the leg (channel) the event is about."""
    raw: str | None = Field(default=None, sa_type=Text)
    """What the phone system sent, verbatim, for audit (JSON or its own text format)."""


class CallReference(SQLModel, table=True):
    """The phone system's own id for a call (Asterisk's UNIQUEID, …)."""

    __tablename__ = "call_reference"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", unique=True)
    external_id: str = Field(max_length=128, unique=True)


class QualityScore(SQLModel, table=True):
    """A supervisor's review of one logged call."""

    __tablename__ = "quality_score"
    __table_args__ = (UniqueConstraint("call_id", "reviewer"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id", index=True)
    """The agent who handled the call."""
    reviewer: str = Field(max_length=100)
    """User name of the supervisor who scored it."""
    scored_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    scores: str = Field(default="{}", sa_type=Text)
    """JSON object: criterion -> points given (0..max)."""
    percent: float = 0.0
    """Points given as a share of points possible, 0..100."""
    coaching_note: str = Field(default="", sa_type=Text)
