"""A customer's interaction history, newest first, one page at a time.

Pages are read by keyset on (at, id) under `customer_id`, so the 200th page of a customer
with 10,000 interactions costs what the first does: an index range scan of one page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.db import Reads
from core.models import Interaction

PAGE_SIZE = 100


@dataclass(frozen=True)
class HistoryCursor:
    """Where the next page starts: just older than this interaction."""

    at: datetime
    id: int


@dataclass(frozen=True)
class HistoryPage:
    """Some interactions, newest first, and where the next (older) page starts."""

    items: list[Interaction]
    next_cursor: HistoryCursor | None
    """None when this is the last page."""


class HistoryService:
    """Reads the interaction history of one customer in pages."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], reads: Reads | None = None
    ) -> None:
        self._reads = reads or Reads(sessions)

    async def page(
        self,
        customer_id: int,
        channel: str | None = None,
        after: HistoryCursor | None = None,
        limit: int = PAGE_SIZE,
    ) -> HistoryPage:
        """One page of the history, newest first.

        Args:
            customer_id: whose history.
            channel: only this channel (phone, email, …); None for every channel.
            after: the previous page's `next_cursor`; None for the newest page.
            limit: how many interactions per page.

        Returns:
            The page.
        """
        query = select(Interaction).where(col(Interaction.customer_id) == customer_id)
        if channel:
            query = query.where(col(Interaction.channel) == channel)
        if after is not None:
            query = query.where(
                or_(
                    col(Interaction.at) < after.at,
                    and_(col(Interaction.at) == after.at, col(Interaction.id) < after.id),
                )
            )
        query = query.order_by(col(Interaction.at).desc(), col(Interaction.id).desc()).limit(
            limit + 1
        )
        rows = await self._reads.run(lambda session: list(session.execute(query).scalars()))
        more = len(rows) > limit
        items = rows[:limit]
        cursor = None
        if more and items:
            last = items[-1]
            assert last.id is not None
            cursor = HistoryCursor(at=last.at, id=last.id)
        return HistoryPage(items=items, next_cursor=cursor)

    async def channel_counts(self, customer_id: int) -> dict[str, int]:
        """How many interactions the customer has on each channel."""
        query = (
            select(col(Interaction.channel), func.count())
            .where(col(Interaction.customer_id) == customer_id)
            .group_by(col(Interaction.channel))
        )
        return await self._reads.run(
            lambda session: {channel: int(n) for channel, n in session.execute(query).all()}
        )
