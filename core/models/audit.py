"""Who saw or changed what, and the change feed other processes follow."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.models.types import UtcDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=40)
    """An AuditAction value: lookup, search, view, reveal, export, update, erase, …"""
    customer_id: int | None = Field(default=None, index=True)
    """The customer concerned. Not a foreign key: the trail outlives an erased customer."""
    detail: str = Field(default="", max_length=1000)
    place: str = Field(default="", max_length=100)
    """Where from: "ssh <client address>", a terminal, "api", "local"."""


class FieldChange(SQLModel, table=True):
    """One change to a customer's record: who, when, the old value and the new (JSON)."""

    __tablename__ = "field_history"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    actor: str = Field(max_length=100)
    field: str = Field(max_length=40)
    """A customer field, or `phones` / `emails` for the whole list of contact points."""
    old: str = Field(default="null", max_length=2000)
    new: str = Field(default="null", max_length=2000)
    restored_from: int | None = Field(default=None)
    """The change this one undid, for a restore."""


class ChangeEvent(SQLModel, table=True):
    """A committed change other console processes should know of (see core.db.ChangeFeed)."""

    __tablename__ = "change_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    topic: str = Field(max_length=40)
    """customer, call, agent, offer, rules, …"""
    key: str = Field(default="", max_length=80)


class CustomerMerge(SQLModel, table=True):
    """One customer merged into another: what moved, so that the merge can be undone."""

    __tablename__ = "customer_merge"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    """The customer kept (everything of the other one is theirs now)."""
    merged_id: int
    """The merged customer's database id (deleted by the merge; back with the same id on undo).
    Not a foreign key: that row is gone while the merge stands."""
    merged_number: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    actor: str = Field(max_length=100)
    undo: str = Field(default="{}")
    """JSON: the merged customer's row, the rows moved by table, the rows set aside, the kept
    customer's fields before; what `undo_merge` puts back. Personal data: exported and erased
    with the kept customer."""
    undone_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    undone_by: str = Field(default="", max_length=100)
