"""The audit trail: who saw or changed which customer, when, and from where.

Writes are one INSERT each (a search's listed customers go in one multi-row statement);
`frontline search --batch` collects its rows and writes them `AuditBatch.SIZE` entries at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.models import AuditEvent
from core.models.types import utcnow
from core.privacy.trail import AuditAction, Entry, listed

# The table itself, not the ORM class: a plain executemany skips the ORM's per-row work.
AUDIT_TABLE = cast(Table, AuditEvent.__table__)  # type: ignore[attr-defined]

__all__ = ["AuditAction", "AuditBatch", "AuditService", "Entry", "listed"]


class AuditService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(
        self,
        actor: str,
        action: str,
        customer_id: int | None = None,
        detail: str = "",
        place: str = "",
    ) -> None:
        """Write one audit event in its own transaction.

        Args:
            actor: the acting person's name.
            action: an AuditAction value.
            customer_id: the customer concerned, if any.
            detail: free text, cut to the column's 1,000 characters.
            place: where from (core.identity.place, or "api").
        """
        await self.record_many([Entry(actor, action, customer_id, detail, place)])

    async def record_many(self, entries: Iterable[Entry]) -> None:
        """Write many audit events in one statement and one transaction."""
        now = utcnow()
        rows = [entry.row(now) for entry in entries]
        if not rows:
            return
        async with self._sessions() as session, session.begin():
            await session.execute(insert(AUDIT_TABLE), rows)

    async def for_customer(self, customer_id: int, limit: int = 50) -> list[AuditEvent]:
        """The latest audit events about one customer, newest first."""
        return await self.find(customer_id=customer_id, limit=limit)

    async def find(
        self,
        *,
        customer_id: int | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[AuditEvent]:
        """Audit events, newest first, filtered by customer, actor and time.

        Args:
            customer_id: only about this customer.
            actor: only by this person.
            since: only at or after this moment (aware).
            limit: at most this many.

        Returns:
            The events.
        """
        query = select(AuditEvent)
        if customer_id is not None:
            query = query.where(col(AuditEvent.customer_id) == customer_id)
        if actor is not None:
            query = query.where(col(AuditEvent.actor) == actor)
        if since is not None:
            query = query.where(col(AuditEvent.at) >= since)
        query = query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
        async with self._sessions() as session:
            return list((await session.execute(query)).scalars())


class AuditBatch:
    """Audit entries collected by a long run of queries and written a batch at a time."""

    SIZE = 500
    """Entries held before a write: one INSERT per this many, not one per query."""

    def __init__(self, audit: AuditService) -> None:
        self._audit = audit
        self._pending: list[Entry] = []

    async def add(self, entries: Iterable[Entry]) -> None:
        self._pending.extend(entries)
        if len(self._pending) >= self.SIZE:
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        await self._audit.record_many(pending)
