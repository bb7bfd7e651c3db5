"""The agent's own states (ready, break with a reason, offline), as the phone system, a
supervisor or the agent's console sets them. On a call and in wrap-up follow the calls
(the transition table), never set here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.calls.errors import AgentNotFound, InvalidTransition
from core.calls.model import AgentStatus, EventRequest
from core.calls.states import ACTIVE_STATES, LIVE_STATES, Transition
from core.db import publish_change
from core.i18n import words as _
from core.models import Agent, AgentState, Call, CallEventKind, CallState

CALL_STATES = (AgentState.ON_CALL, AgentState.WRAP_UP)
"""The agent states that follow calls."""


async def put_agent(
    session: AsyncSession, agent: Agent, state: str, reason: str, at: datetime
) -> None:
    """Move `agent` into `state` and announce it (keyed by user name, as every agent change)."""
    if agent.state == state and agent.state_reason == reason:
        return
    agent.state = state
    agent.state_reason = reason
    agent.state_since = at
    await publish_change(session, "agent", agent.user_name)


async def set_agent_state_in(
    session: AsyncSession, user_name: str, state: AgentState, reason: str, at: datetime
) -> AgentStatus:
    """`CallEvents.set_agent_state` in the caller's transaction (see there)."""
    if state in CALL_STATES:
        raise InvalidTransition(
            _("{state} follows the agent's calls; it cannot be set").format(state=state.value)
        )
    if state == AgentState.BREAK and not reason.strip():
        raise InvalidTransition(_("a break needs a reason (lunch, training, …)"))
    clean_reason = reason.strip() if state == AgentState.BREAK else ""
    agent = (
        await session.execute(
            select(Agent).where(col(Agent.user_name) == user_name).with_for_update()
        )
    ).scalar_one_or_none()
    if agent is None:  # like a console's first start: agents are user names
        agent = Agent(user_name=user_name, display_name=user_name)
        session.add(agent)
    elif state != AgentState.OFFLINE:
        busy = (
            await session.execute(
                select(col(Call.id))
                .where(col(Call.agent_id) == agent.id)
                .where(col(Call.state).in_([CallState.ANSWERED, CallState.HELD]))
                .limit(1)
            )
        ).scalar_one_or_none()
        if busy is not None:
            raise InvalidTransition(
                _("agent {name!r} is on call {call}; end it first").format(
                    name=user_name, call=busy
                )
            )
    await put_agent(session, agent, state, clean_reason, at)
    return AgentStatus(agent.user_name, agent.state, agent.state_reason, agent.state_since)


async def follow_console(
    session: AsyncSession, agent_id: int, state: AgentState, at: datetime
) -> None:
    """The console opened (available) or closed (offline), unless a call is still the agent's."""
    agent = await session.get(Agent, agent_id)
    if agent is None or agent.state in CALL_STATES:
        return
    await put_agent(session, agent, state, "", at)


async def reconcile_agent(session: AsyncSession, agent: Agent, at: datetime) -> None:
    """Put the agent where their calls say: on a call, in wrap-up, or free again."""
    states = set(
        (
            await session.execute(
                select(col(Call.state))
                .where(col(Call.agent_id) == agent.id)
                .where(col(Call.state).in_([s.value for s in ACTIVE_STATES]))
            )
        ).scalars()
    )
    if states & {CallState.ANSWERED, CallState.HELD}:
        want = AgentState.ON_CALL
    elif CallState.WRAP_UP in states:
        want = AgentState.WRAP_UP
    elif agent.state in (AgentState.ON_CALL, AgentState.WRAP_UP):
        want = AgentState.AVAILABLE
    else:
        return
    if agent.state != want:
        agent.state = want
        agent.state_reason = ""
        agent.state_since = at


__all__ = ["CALL_STATES", "follow_console", "put_agent", "reconcile_agent", "set_agent_state_in"]


# --- the agent an event is about (the state machine's look-ups) ---


def move_agent(agent: Agent, step: Transition, at: datetime) -> None:
    if step.agent_to is None or agent.state == step.agent_to:
        return
    if step.agent_from is not None and agent.state not in step.agent_from:
        return
    agent.state = step.agent_to
    agent.state_reason = ""
    agent.state_since = at


async def named_agent(session: AsyncSession, request: EventRequest) -> Agent | None:
    """The agent the event names: a transfer's target, or the agent it is about."""
    if request.transfer is not None:
        if not request.transfer.to_agent:
            return None
        request = EventRequest(kind=request.kind, agent=request.transfer.to_agent)
    if request.agent_id is not None:
        agent = await session.get(Agent, request.agent_id)
        if agent is None:
            raise AgentNotFound(_("no agent with id {id}").format(id=request.agent_id))
        return agent
    if request.agent:
        found = (
            await session.execute(select(Agent).where(col(Agent.user_name) == request.agent))
        ).scalar_one_or_none()
        if found is None:
            raise AgentNotFound(_("no agent named {name!r}").format(name=request.agent))
        return found
    return None


async def agent_for(session: AsyncSession, call: Call, request: EventRequest) -> Agent | None:
    found = await named_agent(session, request)
    if request.kind == CallEventKind.TRANSFERRED:
        return found  # the agent who takes the call over; the call's agent passes it on
    if found is not None:
        if request.kind not in (CallEventKind.OFFERED, CallEventKind.ANSWERED):
            if call.agent_id is not None and found.id != call.agent_id:
                raise InvalidTransition(
                    _("call {id} is with another agent, not {name!r}").format(
                        id=call.id, name=found.user_name
                    )
                )
        return found
    if request.kind == CallEventKind.OFFERED:
        raise InvalidTransition(_("an offered call needs the agent's user name"))
    if call.agent_id is None:
        return None
    return await agent_by_id(session, call.agent_id)


async def check_free(session: AsyncSession, agent: Agent, call: Call) -> None:
    if agent.state != AgentState.AVAILABLE:
        state = AgentState(agent.state).value.replace("_", " ")
        raise InvalidTransition(
            _("agent {name!r} is {state}, not available").format(name=agent.user_name, state=state)
        )
    busy = (
        await session.execute(
            select(col(Call.id))
            .where(col(Call.agent_id) == agent.id)
            .where(col(Call.state).in_([s.value for s in LIVE_STATES]))
            .where(col(Call.id) != call.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if busy is not None:
        raise InvalidTransition(
            _("agent {name!r} already has call {call}").format(name=agent.user_name, call=busy)
        )


async def agent_by_id(session: AsyncSession, agent_id: int) -> Agent:
    agent = await session.get(Agent, agent_id)
    assert agent is not None
    return agent
