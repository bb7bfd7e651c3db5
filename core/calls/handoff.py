"""A transferred call's hand-off: the notes and reason go with the call, and the agent who
passed it on does their after-call work for their part of it.

The state machine calls `pass_on` for every transfer, whoever reports it (the console, or the
phone system's adapter for a transfer made on the PBX), so the receiving agent's console opens
the same customer with the notes so far and the reason either way. When the report carries no
notes (the PBX knows none), the passing agent's saved draft of the call gives them.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.calls.agents import CALL_STATES, reconcile_agent
from core.models import Agent, AgentState, Call, CallDraft

AFTER_TRANSFER = "after transfer"
"""The state reason of an agent wrapping up their part of a call they passed on."""


async def pass_on(session: AsyncSession, call: Call, agent: Agent, at: datetime) -> None:
    """`agent` passed `call` on: the hand-off lands on the call, the agent goes to wrap-up.

    Args:
        session: inside the transfer's transaction.
        call: the call after the transfer (its new agent, or back in a queue).
        agent: the agent who had it; their draft is kept (their wrap-up is saved from it).
        at: when the transfer happened.
    """
    if not call.notes and not call.reason:
        draft = (
            await session.execute(
                select(col(CallDraft.payload)).where(
                    col(CallDraft.agent_id) == agent.id, col(CallDraft.call_id) == call.id
                )
            )
        ).scalar_one_or_none()
        notes, reason = _typed(draft)
        call.notes, call.reason = notes, reason[:60]
    was = agent.state
    await reconcile_agent(session, agent, at)  # their other calls first
    if was in CALL_STATES and agent.state == AgentState.AVAILABLE:
        agent.state = AgentState.WRAP_UP
        agent.state_reason = AFTER_TRANSFER
        agent.state_since = at


def _typed(payload: str | None) -> tuple[str, str]:
    """The notes and reason of a stored draft (empty when there is none or it is unreadable)."""
    try:
        data = json.loads(payload or "{}")
        return str(data.get("notes") or ""), str((data.get("call") or {}).get("reason") or "")
    except (ValueError, AttributeError):
        return "", ""


__all__ = ["AFTER_TRANSFER", "pass_on"]
