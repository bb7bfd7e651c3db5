"""Keeps the search index current. (Placeholder: the search index is being built now.)"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession


async def index_customers(session: AsyncSession, customer_ids: Sequence[int]) -> None:
    """Re-index these customers inside the caller's transaction (after they were written)."""


async def rebuild_index(
    engine: AsyncEngine, progress: Callable[[int, int], None] | None = None
) -> int:
    """Rebuild the whole index; returns how many customers were indexed."""
    return 0
