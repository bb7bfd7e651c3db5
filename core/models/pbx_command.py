"""Commands for the phone system: the console asks, the PBX's adapter sends and answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from core.models.types import UtcDateTime, utcnow


class PbxCommandKind(StrEnum):
    HOLD = "hold"
    UNHOLD = "unhold"
    BLIND_TRANSFER = "blind_transfer"
    CONSULT_TRANSFER = "consult_transfer"
    """Start a consult: the agent talks to the target while the caller waits."""
    COMPLETE_CONSULT = "complete_consult"
    """The consulted target takes the caller over."""
    CANCEL_CONSULT = "cancel_consult"
    """Back to the caller; the consulted target is dropped."""


class PbxCommandState(StrEnum):
    PENDING = "pending"
    """Recorded; no adapter has taken it yet."""
    SENT = "sent"
    """An adapter sent it to the phone system and waits for its answer."""
    DONE = "done"
    """The phone system accepted it."""
    FAILED = "failed"
    """Refused, or it could not be sent: `error` says why."""


class PbxCommand(SQLModel, table=True):
    """One command for the phone system behind a call (the outbox its adapter reads)."""

    __tablename__ = "pbx_command"
    __table_args__ = (Index("ix_pbx_command_source_state", "source", "state", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    source: str = Field(max_length=20)
    """The phone system that must carry it out (asterisk, freeswitch): its adapter's source."""
    external_id: str = Field(max_length=128)
    """The phone system's id for the call."""
    kind: str = Field(max_length=20)
    """A PbxCommandKind value."""
    to_agent: str = Field(default="", max_length=100)
    to_queue: str = Field(default="", max_length=40)
    requested_by: str = Field(default="", max_length=100)
    """The agent's user name."""
    state: str = Field(default=PbxCommandState.PENDING, max_length=10)
    error: str = Field(default="", sa_type=Text)
    """The phone system's reason for a refusal, or why it could not be sent."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
