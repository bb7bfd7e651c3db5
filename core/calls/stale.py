"""Calls whose end never arrived: closed after a while, and flagged.

A phone system that crashes, or loses the hang-up, leaves a call queued, ringing or talking
for ever: the agent looks busy, the queue looks long. The sweep closes every open call with
no event for `stale_after` with a `closed_stale` event (the flag: the call's events say who
closed it and when), through the state machine like any other event: a never-answered call
ends abandoned, an answered one completed, and its agent is free again. An end that arrives
later, with its own earlier time, is still applied (the call is replayed).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.calls.machine import apply_in
from core.calls.model import EventRequest, EventResult
from core.calls.states import TERMINAL
from core.models import Call, CallEvent, CallEventKind, CallState

SWEEPER = "frontline"
"""The source of the sweep's events."""

OPEN_STATES = tuple(s.value for s in CallState if s not in TERMINAL)


async def stale_calls(session: AsyncSession, cutoff: datetime, limit: int = 500) -> list[int]:
    """Open calls whose latest event is older than `cutoff`, oldest first."""
    latest = (
        select(func.max(col(CallEvent.at)))
        .where(col(CallEvent.call_id) == col(Call.id))
        .scalar_subquery()
    )
    rows = await session.execute(
        select(col(Call.id))
        .where(col(Call.state).in_(OPEN_STATES))
        .where(latest < cutoff)
        .order_by(col(Call.id))
        .limit(limit)
    )
    return [call_id for call_id in rows.scalars() if call_id is not None]


def close_request(call_id: int, now: datetime) -> EventRequest:
    """The sweep's event for one stale call (its key makes a second sweep a no-op)."""
    return EventRequest(
        kind=CallEventKind.CLOSED_STALE,
        call_id=call_id,
        at=now,
        source=SWEEPER,
        source_event_id=f"stale:{call_id}",
    )


async def close_in(session: AsyncSession, call_id: int, now: datetime) -> EventResult:
    """Close one stale call in the caller's transaction."""
    return await apply_in(session, close_request(call_id, now))


def cutoff_for(now: datetime, stale_after: timedelta) -> datetime:
    return now - stale_after


__all__ = ["OPEN_STATES", "SWEEPER", "close_in", "close_request", "cutoff_for", "stale_calls"]
