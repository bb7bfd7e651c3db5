"""The audit trail: who saw or changed which customer, and when."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.models import AuditEvent


class AuditService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(
        self, actor: str, action: str, customer_id: int | None = None, detail: str = ""
    ) -> None:
        """Write one audit event in its own transaction.

        Args:
            actor: the agent's user name.
            action: what they did ("view", "lookup", "update", …).
            customer_id: the customer concerned, if any.
            detail: free text, cut to the column's 1,000 characters.
        """
        async with self._sessions() as session, session.begin():
            session.add(
                AuditEvent(
                    actor=actor[:100],
                    action=action[:40],
                    customer_id=customer_id,
                    detail=detail[:1000],
                )
            )

    async def for_customer(self, customer_id: int, limit: int = 50) -> list[AuditEvent]:
        """The latest audit events about one customer, newest first."""
        async with self._sessions() as session:
            result = await session.execute(
                select(AuditEvent)
                .where(col(AuditEvent.customer_id) == customer_id)
                .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
                .limit(limit)
            )
            return list(result.scalars())
