"""A call on the agent's side: taken, ended (wrap-up starts), completed (saved in the history).

Completing a call writes the call row and a phone interaction in the customer's history in
one transaction, clears the agent's draft and makes the agent available again, so a call is
either fully logged or not at all.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.db import publish_change
from core.models import Agent, AgentState, Call, CallDraft, CallState, Customer, Interaction
from core.models.interaction import Channel, Direction
from core.models.types import utcnow


class CallNotFound(LookupError):
    """No call has that id."""


class CallStateError(ValueError):
    """The call is not in a state that allows this step (e.g. ending a completed call)."""


ACTIVE_STATES = (CallState.ANSWERED, CallState.HELD, CallState.WRAP_UP)


def subject_for(reason: str) -> str:
    """The history subject of a call logged with this reason code."""
    reason = reason.strip()
    return reason[:1].upper() + reason[1:] if reason else "Phone call"


async def _set_agent_state(session: AsyncSession, agent_id: int | None, state: str) -> None:
    if agent_id is None:
        return
    agent = await session.get(Agent, agent_id)
    if agent is None or agent.state == state:
        return
    agent.state = state
    agent.state_reason = ""
    agent.state_since = utcnow()
    await publish_change(session, "agent", str(agent_id))


class CallService:
    """Take a call, end it, complete its wrap-up; the agent's state follows."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def _get(self, session: AsyncSession, call_id: int) -> Call:
        call = await session.get(Call, call_id)
        if call is None:
            raise CallNotFound(f"no call with id {call_id}")
        return call

    async def get(self, call_id: int) -> Call:
        """The call with this id. Raises CallNotFound."""
        async with self._sessions() as session:
            return await self._get(session, call_id)

    async def start(
        self,
        agent_id: int,
        customer_id: int | None,
        caller_number: str = "",
        call_id: int | None = None,
    ) -> Call:
        """The agent takes a call: a new one, or one the phone system queued or offered.

        Args:
            agent_id: the agent taking it.
            customer_id: the caller's customer id, or None while unknown.
            caller_number: the number the call came from, as the phone system gave it.
            call_id: an existing queued/offered call to answer; None creates a new call.

        Returns:
            The answered call. The agent is now on_call.
        """
        now = utcnow()
        async with self._sessions() as session, session.begin():
            if call_id is not None:
                call = await self._get(session, call_id)
                if call.state not in (CallState.QUEUED, CallState.OFFERED, CallState.ANSWERED):
                    raise CallStateError(f"call {call_id} is {call.state}; it cannot be taken")
                if call.state != CallState.ANSWERED:
                    call.answered_at = now
                call.state = CallState.ANSWERED
                call.agent_id = agent_id
                if customer_id is not None:
                    call.customer_id = customer_id
                if caller_number and not call.caller_number:
                    call.caller_number = caller_number
            else:
                call = Call(
                    customer_id=customer_id,
                    caller_number=caller_number,
                    state=CallState.ANSWERED,
                    agent_id=agent_id,
                    answered_at=now,
                )
                session.add(call)
            await session.flush()
            await _set_agent_state(session, agent_id, AgentState.ON_CALL)
            await publish_change(session, "call", str(call.id))
        return call

    async def identify(self, call_id: int, customer_id: int) -> Call:
        """Attach the caller's customer record to a call taken as unknown (or correct it)."""
        async with self._sessions() as session, session.begin():
            call = await self._get(session, call_id)
            if call.state not in ACTIVE_STATES:
                raise CallStateError(f"call {call_id} is {call.state}")
            call.customer_id = customer_id
            await publish_change(session, "call", str(call_id))
        return call

    async def end(self, call_id: int) -> Call:
        """The caller hung up or the agent ended the call: wrap-up starts."""
        async with self._sessions() as session, session.begin():
            call = await self._get(session, call_id)
            if call.state == CallState.WRAP_UP:
                return call
            if call.state not in (CallState.ANSWERED, CallState.HELD):
                raise CallStateError(f"call {call_id} is {call.state}; it cannot be ended")
            call.state = CallState.WRAP_UP
            call.ended_at = utcnow()
            await _set_agent_state(session, call.agent_id, AgentState.WRAP_UP)
            await publish_change(session, "call", str(call_id))
        return call

    async def complete(
        self,
        call_id: int,
        reason: str,
        disposition: str,
        notes: str,
        follow_up_on: date | None = None,
    ) -> Interaction | None:
        """Finish wrap-up: save the call and, for a known caller, a phone interaction.

        Both rows, the agent's state (available) and the removal of the agent's draft are
        one transaction. Completing an already completed call changes nothing.

        Args:
            call_id: the call.
            reason: the reason code.
            disposition: the outcome code.
            notes: the agent's notes.
            follow_up_on: when someone should get back to the customer, if at all.

        Returns:
            The interaction now in the customer's history, or None for a call logged for
            someone not found (it stays in the call table only).
        """
        async with self._sessions() as session, session.begin():
            call = await self._get(session, call_id)
            if call.state == CallState.COMPLETED:
                found = await session.execute(
                    select(Interaction).where(col(Interaction.call_id) == call_id)
                )
                return found.scalars().first()
            if call.state not in ACTIVE_STATES:
                raise CallStateError(f"call {call_id} is {call.state}; it cannot be completed")
            now = utcnow()
            if call.ended_at is None:
                call.ended_at = now
            call.wrap_up_ended_at = now
            call.state = CallState.COMPLETED
            call.reason = reason
            call.disposition = disposition
            call.notes = notes
            call.follow_up_on = follow_up_on
            agent_name = ""
            if call.agent_id is not None:
                agent = await session.get(Agent, call.agent_id)
                agent_name = agent.user_name if agent is not None else ""
                await session.execute(
                    delete(CallDraft).where(col(CallDraft.agent_id) == call.agent_id)
                )
            await _set_agent_state(session, call.agent_id, AgentState.AVAILABLE)
            interaction: Interaction | None = None
            if call.customer_id is not None:
                interaction = Interaction(
                    customer_id=call.customer_id,
                    at=call.answered_at or now,
                    channel=Channel.PHONE,
                    direction=Direction.INBOUND,
                    subject=subject_for(reason)[:300],
                    outcome=disposition[:100],
                    agent=agent_name,
                    notes=notes,
                    call_id=call_id,
                )
                session.add(interaction)
                customer = await session.get(Customer, call.customer_id)
                if customer is not None:
                    customer.last_activity_at = now
                await publish_change(session, "interaction", str(call.customer_id))
            await publish_change(session, "call", str(call_id))
        return interaction

    async def active_call(self, agent_id: int) -> Call | None:
        """The agent's call still answered, held or in wrap-up, if any (newest first)."""
        async with self._sessions() as session:
            result = await session.execute(
                select(Call)
                .where(col(Call.agent_id) == agent_id, col(Call.state).in_(ACTIVE_STATES))
                .order_by(col(Call.id).desc())
                .limit(1)
            )
            return result.scalars().first()

    async def sign_in(self, agent_id: int) -> None:
        """The agent opened the console: available, unless a call is still theirs."""
        async with self._sessions() as session, session.begin():
            agent = await session.get(Agent, agent_id)
            if agent is None or agent.state in (AgentState.ON_CALL, AgentState.WRAP_UP):
                return
            await _set_agent_state(session, agent_id, AgentState.AVAILABLE)

    async def sign_out(self, agent_id: int) -> None:
        """The agent left the console: offline, unless a call is still theirs."""
        async with self._sessions() as session, session.begin():
            agent = await session.get(Agent, agent_id)
            if agent is None or agent.state in (AgentState.ON_CALL, AgentState.WRAP_UP):
                return
            await _set_agent_state(session, agent_id, AgentState.OFFLINE)


__all__ = [
    "ACTIVE_STATES",
    "CallNotFound",
    "CallService",
    "CallStateError",
    "subject_for",
]
