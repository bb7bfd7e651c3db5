"""Frontline as the ACD of a SIP proxy with no queues of its own (Kamailio): which agent rings.

The proxy asks once per attempt. The answer is the longest-available agent who takes the
call's queue and has a SIP contact; the offer is recorded by the state machine in the same
transaction as the choice, so two calls routed at once never ring the same agent. An agent
who let the call ring out is put on a break ("no answer", as Asterisk's autopause does)
and the call goes back to its queue: the next attempt rings someone else, and a
ring-no-answer agent is not offered calls until they make themselves ready again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.calls.agents import set_agent_state_in
from core.calls.errors import CallNotFound, InvalidTransition
from core.calls.events import CallEvents
from core.calls.machine import apply_in, referenced_call_id
from core.calls.model import EventRequest
from core.calls.states import LIVE_STATES
from core.i18n import words as _
from core.models import Agent, AgentState, Call, CallEventKind, CallState
from core.models.types import utcnow

RETRY_SECONDS = 5
"""When nobody is free: how long the proxy waits before asking again."""
NO_ANSWER_REASON = "no answer"
"""The break reason of an agent who let an offered call ring out."""
ROUTING_SOURCE = "acd"


@dataclass(frozen=True)
class RouteRequest:
    """A call to route: new (give external_id, caller number, queue) or known."""

    external_id: str | None = None
    call_id: int | None = None
    caller_number: str = ""
    queue: str = ""
    no_answer: bool = False
    """The agent offered this call last did not answer: put the call back in the queue."""
    at: datetime | None = None


@dataclass(frozen=True)
class RouteAnswer:
    call_id: int
    state: str
    agent: str | None
    contact: str | None
    retry_after: int | None = None
    """Seconds to wait before asking again (nobody free)."""


@dataclass(frozen=True)
class AgentContact:
    user_name: str
    sip_contact: str
    queues: tuple[str, ...]


async def route(events: CallEvents, request: RouteRequest) -> RouteAnswer:
    """Choose the agent to ring for `request` and record the offer (one transaction).

    Raises CallNotFound for an unknown call_id, InvalidTransition for a call that is over.
    """
    return await events.transact(lambda session: _route_in(session, request))


async def set_contact(
    events: CallEvents, user_name: str, sip_contact: str, queues: tuple[str, ...] | None
) -> AgentContact:
    """Set where an agent rings (and which queues they take; None keeps them).

    An unknown user name becomes a new agent, offline until they make themselves ready.
    """

    async def work(session: AsyncSession) -> AgentContact:
        agent = (
            await session.execute(
                select(Agent).where(col(Agent.user_name) == user_name).with_for_update()
            )
        ).scalar_one_or_none()
        if agent is None:
            agent = Agent(user_name=user_name, display_name=user_name)
            session.add(agent)
        agent.sip_contact = sip_contact
        if queues is not None:
            agent.queues = ",".join(q.strip() for q in queues if q.strip())
        return _contact(agent)

    return await events.transact(work)


def _contact(agent: Agent) -> AgentContact:
    queues = tuple(q for q in agent.queues.split(",") if q)
    return AgentContact(agent.user_name, agent.sip_contact, queues)


async def _route_in(session: AsyncSession, request: RouteRequest) -> RouteAnswer:
    when = request.at or utcnow()
    call = await _find(session, request)
    if call is None:
        created = await apply_in(session, _event(CallEventKind.QUEUED, request, when))
        call = await session.get(Call, created.call_id)
        assert call is not None
    if request.no_answer and call.state == CallState.OFFERED:
        await _ring_no_answer(session, call, request, when)
    if call.state in (CallState.ANSWERED, CallState.HELD, CallState.OFFERED):
        # Asked again for a call already ringing or answered (a retransmission): same answer.
        agent = await session.get(Agent, call.agent_id)
        assert agent is not None and call.id is not None
        return RouteAnswer(call.id, call.state, agent.user_name, agent.sip_contact)
    if call.state != CallState.QUEUED:
        raise InvalidTransition(
            _("call {id} is {state}: no agent").format(
                id=call.id, state=call.state.replace("_", " ")
            )
        )
    assert call.id is not None
    agent = await _longest_available(session, call.queue)
    if agent is None:
        return RouteAnswer(call.id, call.state, None, None, RETRY_SECONDS)
    offered = await apply_in(
        session,
        EventRequest(
            kind=CallEventKind.OFFERED,
            call_id=call.id,
            agent=agent.user_name,
            at=when,
            source=ROUTING_SOURCE,
        ),
    )
    return RouteAnswer(call.id, offered.state, agent.user_name, agent.sip_contact)


def _event(kind: CallEventKind, request: RouteRequest, when: datetime) -> EventRequest:
    return EventRequest(
        kind=kind,
        call_id=request.call_id,
        external_id=request.external_id,
        caller_number=request.caller_number,
        queue=request.queue,
        at=when,
        source=ROUTING_SOURCE,
    )


async def _find(session: AsyncSession, request: RouteRequest) -> Call | None:
    call_id = await referenced_call_id(session, request.call_id, request.external_id)
    if call_id is None:
        return None
    call = await session.get(Call, call_id)
    if call is None:
        raise CallNotFound(_("no call with id {id}").format(id=call_id))
    return call


async def _ring_no_answer(
    session: AsyncSession, call: Call, request: RouteRequest, when: datetime
) -> None:
    agent = await session.get(Agent, call.agent_id)
    requeue = EventRequest(
        kind=CallEventKind.QUEUED, call_id=call.id, at=when, source=ROUTING_SOURCE
    )
    await apply_in(session, requeue)
    await session.refresh(call)
    if agent is not None and agent.state == AgentState.AVAILABLE:
        await set_agent_state_in(session, agent.user_name, AgentState.BREAK, NO_ANSWER_REASON, when)


async def _longest_available(session: AsyncSession, queue: str) -> Agent | None:
    busy = select(col(Call.agent_id)).where(
        col(Call.state).in_(LIVE_STATES), col(Call.agent_id).is_not(None)
    )
    takes_queue = or_(
        col(Agent.queues) == "",
        ("," + col(Agent.queues) + ",").contains(f",{queue},", autoescape=True),
    )
    found = (
        await session.execute(
            select(Agent)
            .where(
                col(Agent.state) == AgentState.AVAILABLE,
                col(Agent.sip_contact) != "",
                col(Agent.id).not_in(busy),
                takes_queue,
            )
            .order_by(col(Agent.state_since), col(Agent.id))
            .limit(1)
            # PostgreSQL: a concurrent routing skips the agent being offered here.
            .with_for_update(skip_locked=True, of=Agent)
        )
    ).scalar_one_or_none()
    return found


__all__ = [
    "NO_ANSWER_REASON",
    "RETRY_SECONDS",
    "AgentContact",
    "RouteAnswer",
    "RouteRequest",
    "route",
    "set_contact",
]
