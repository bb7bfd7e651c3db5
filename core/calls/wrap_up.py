"""The agent's wrap-up landing on a call: its codes and notes, and the customer's history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.calls.model import WrapUp
from core.db import publish_change
from core.i18n import words as _
from core.i18n.codes import codes
from core.models import Agent, Call, CallDraft, Customer, Interaction
from core.models.interaction import Channel, Direction


def subject_for(reason: str) -> str:
    """The history subject of a call logged with this reason code: its label in the language
    of the agent saving it (the id stays on the interaction's `reason` for flags and rules)."""
    reason = reason.strip()
    if not reason:
        return _("Phone call")
    label = codes().label("reason", reason)
    return label[:1].upper() + label[1:]


async def land_wrap_up(session: AsyncSession, call: Call, wrap: WrapUp, at: datetime) -> None:
    """Store the agent's wrap-up on `call`, in the caller's transaction.

    The call gets the codes and notes; a known caller gets a phone interaction in their
    history; the agent's draft for it is gone: all of it or none, with the transition.

    Args:
        session: inside its transaction.
        call: the call, whatever the phone system already did to it.
        wrap: what the agent saved.
        at: when.
    """
    assert call.id is not None
    call.reason = wrap.reason
    call.disposition = wrap.disposition
    call.notes = wrap.notes
    call.follow_up_on = wrap.follow_up_on
    agent_name = ""
    if call.agent_id is not None:
        agent = await session.get(Agent, call.agent_id)
        agent_name = agent.user_name if agent is not None else ""
        await session.execute(delete(CallDraft).where(col(CallDraft.agent_id) == call.agent_id))
    if call.customer_id is None:
        return  # a call logged for someone not found stays in the call table only
    session.add(
        Interaction(
            customer_id=call.customer_id,
            at=call.answered_at or at,
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            subject=subject_for(wrap.reason)[:300],
            reason=wrap.reason[:60],
            outcome=wrap.disposition[:100],
            agent=agent_name,
            notes=wrap.notes,
            call_id=call.id,
        )
    )
    customer = await session.get(Customer, call.customer_id)
    if customer is not None:
        customer.last_activity_at = at
    await publish_change(session, "interaction", str(call.customer_id))


__all__ = ["land_wrap_up", "subject_for"]
