"""The people who use Frontline: agents, supervisors and branch staff, and their states."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from core.models.types import UtcDateTime, utcnow


class Role(StrEnum):
    """What a person may do; `role` is a plain text column, so a new role needs no migration."""

    BRANCH = "branch"
    """Look-ups only, masked (branch offices over SSH); the least role, for unknown users."""
    AGENT = "agent"
    SUPERVISOR = "supervisor"

    @property
    def rank(self) -> int:
        """Higher may do everything lower may."""
        return list(Role).index(self)


class AgentState(StrEnum):
    AVAILABLE = "available"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    BREAK = "break"
    OFFLINE = "offline"


class Agent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_name: str = Field(max_length=100, unique=True, index=True)
    display_name: str = Field(default="", max_length=150)
    role: str = Field(default=Role.AGENT, max_length=20)
    """A Role value; `AgentService.ensure` starts unknown users as branch staff."""
    state: str = Field(default=AgentState.OFFLINE, max_length=20)
    state_reason: str = Field(default="", max_length=100)
    """Why the agent is on a break (lunch, training…)."""
    state_since: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    sip_contact: str = Field(default="", max_length=255)
    """Where a SIP proxy rings the agent (`sip:ana@10.0.0.5:5060`); empty: not routable."""
    queues: str = Field(default="", max_length=500)
    """The queues the agent takes, comma-separated; empty: every queue."""
