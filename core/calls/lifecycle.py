"""A call on the agent's side: taken, identified, held, ended (wrap-up starts), completed.

The console's own actions are call events like the phone system's (source "console"),
applied by the same state machine in one transaction each, so every step writes its
`call_event` row and a repeated step (a retry, a double key press) changes nothing twice.
Completing a call saves the agent's codes and notes on it and, for a known caller, a phone
interaction in their history, also when the phone system already ended or completed it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.calls.agents import follow_console, reconcile_agent
from core.calls.errors import CallNotFound, CallStateError
from core.calls.events import CallEvents
from core.calls.machine import CONSOLE, apply_in
from core.calls.model import EventRequest, Transfer, TransferMode, WrapUp
from core.calls.states import ACTIVE_STATES
from core.calls.wrap_up import subject_for
from core.db import publish_change
from core.i18n import words as _
from core.models import Agent, AgentState, Call, CallDraft, CallEventKind, Interaction, Role
from core.models.interaction import Channel, Direction
from core.models.types import utcnow
from core.privacy.access import AccessDenied, Can, may


def console_key(call_id: int, kind: CallEventKind, agent_id: int | None = None) -> str:
    """The idempotency key of a step the console takes once per call (and per agent)."""
    suffix = "" if agent_id is None else f":{agent_id}"
    return f"{CONSOLE}:{call_id}:{kind.value}{suffix}"


def _follow_up_line(on: date | None) -> str:
    """A passed-on agent's follow-up date, kept in their interaction (the call has its new
    agent's)."""
    return "" if on is None else f"\nFollow up on {on.isoformat()}."


class CallService:
    """Take a call, end it, complete its wrap-up; the agent's state follows."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: CallEvents) -> None:
        self._sessions = sessions
        # The process's one writer of call events, shared with the phone system's path, so
        # the console's steps and the PBX's queue behind the same write lock.
        self._events = events

    async def get(self, call_id: int) -> Call:
        """The call with this id. Raises CallNotFound."""
        async with self._sessions() as session:
            call = await session.get(Call, call_id)
        if call is None:
            raise CallNotFound(_("no call with id {id}").format(id=call_id))
        return call

    async def _step(self, request: EventRequest) -> Call:
        async def work(session: AsyncSession) -> Call:
            done = await apply_in(session, request)
            call = await session.get(Call, done.call_id)
            assert call is not None
            return call

        return await self._events.transact(work)

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
        await self._may_take_calls(agent_id)
        kind = CallEventKind.ANSWERED
        return await self._step(
            EventRequest(
                kind=kind,
                call_id=call_id,
                caller_number=caller_number,
                agent_id=agent_id,
                customer_id=customer_id,
                source=CONSOLE,
                idempotency_key=None if call_id is None else console_key(call_id, kind, agent_id),
            )
        )

    async def identify(self, call_id: int, customer_id: int) -> Call:
        """Attach the caller's customer record to a call taken as unknown (or correct it)."""
        return await self._step(
            EventRequest(
                kind=CallEventKind.IDENTIFIED,
                call_id=call_id,
                customer_id=customer_id,
                source=CONSOLE,
            )
        )

    async def hold(self, call_id: int) -> Call:
        """The agent put the caller on hold (holding a held call changes nothing)."""
        return await self._step(
            EventRequest(kind=CallEventKind.HELD, call_id=call_id, source=CONSOLE)
        )

    async def unhold(self, call_id: int) -> Call:
        """The caller is back from hold."""
        return await self._step(
            EventRequest(kind=CallEventKind.UNHELD, call_id=call_id, source=CONSOLE)
        )

    async def transfer(
        self,
        call_id: int,
        *,
        to_agent: str = "",
        to_queue: str = "",
        notes: str = "",
        reason: str = "",
        mode: TransferMode = "blind",
    ) -> Call:
        """The call goes to `to_agent` (blind: it rings there; consult: they took it over after
        talking to the agent), or back to `to_queue`, with no phone system to command.

        The hand-off (the notes so far and the reason code) goes onto the call row in the
        same transaction, so the console that takes the call next opens it with them. The
        transferring agent goes to wrap-up for their part, with their draft kept
        (`finish_part` saves it).

        Args:
            call_id: an answered or held call.
            to_agent: the user name of the agent to ring; or
            to_queue: the queue to put it back in.
            notes: what the agent typed so far.
            reason: the reason code chosen so far, if any.
            mode: blind or consult.

        Returns:
            The call after the transfer. Raises InvalidTransition (not on a call any more),
            AgentNotFound.
        """
        request = EventRequest(
            kind=CallEventKind.TRANSFERRED,
            call_id=call_id,
            source=CONSOLE,
            transfer=Transfer(mode, to_agent=to_agent, to_queue=to_queue),
        )

        async def work(session: AsyncSession) -> Call:
            done = await apply_in(session, request)
            call = await session.get(Call, done.call_id)
            assert call is not None
            if notes or reason:
                call.notes = notes
                call.reason = reason[:60]
            return call

        return await self._events.transact(work)

    async def finish_part(
        self,
        call_id: int,
        agent_id: int,
        reason: str,
        disposition: str,
        notes: str,
        follow_up_on: date | None = None,
    ) -> Interaction | None:
        """Save the wrap-up of an agent who passed the call on (its new agent saves theirs).

        A known caller gets a phone interaction with this agent's codes and notes (and the
        follow-up date, as a line of them); the agent's
        draft is gone and, in wrap-up, they are available again: one transaction. A call that
        is still this agent's (the transfer did not happen) is completed as usual instead.

        Returns:
            The interaction written, or None for a caller not found.
        """

        async def work(session: AsyncSession) -> Interaction | None:
            call = await session.get(Call, call_id)
            if call is None:
                raise CallNotFound(_("no call with id {id}").format(id=call_id))
            agent = await session.get(Agent, agent_id)
            if agent is None:
                raise CallStateError(_("no agent with id {id}").format(id=agent_id))
            await session.execute(
                delete(CallDraft).where(
                    col(CallDraft.agent_id) == agent_id, col(CallDraft.call_id) == call_id
                )
            )
            if agent.state == AgentState.WRAP_UP:
                await reconcile_agent(session, agent, utcnow())
                await publish_change(session, "agent", agent.user_name)
            if call.customer_id is None:
                return None
            interaction = Interaction(
                customer_id=call.customer_id,
                at=call.answered_at or utcnow(),
                channel=Channel.PHONE,
                direction=Direction.INBOUND,
                subject=subject_for(reason)[:300],
                reason=reason[:60],
                outcome=disposition[:100],
                agent=agent.user_name,
                notes=notes + _follow_up_line(follow_up_on),
                call_id=call_id,
            )
            session.add(interaction)
            await publish_change(session, "interaction", str(call.customer_id))
            return interaction

        call = await self.get(call_id)
        if call.agent_id == agent_id:
            return await self.complete(call_id, reason, disposition, notes, follow_up_on)
        return await self._events.transact(work)

    async def end(self, call_id: int) -> Call:
        """The caller hung up or the agent ended the call: wrap-up starts.

        A call the phone system already ended (or completed) stays as it is; one that was
        never answered raises CallStateError.
        """
        kind = CallEventKind.ENDED
        return await self._step(
            EventRequest(
                kind=kind,
                call_id=call_id,
                source=CONSOLE,
                idempotency_key=console_key(call_id, kind),
            )
        )

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
        one transaction. The codes and notes are saved even when the phone system already
        completed the call; completing it again from the console changes nothing.

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
        kind = CallEventKind.COMPLETED
        request = EventRequest(
            kind=kind,
            call_id=call_id,
            source=CONSOLE,
            idempotency_key=console_key(call_id, kind),
            wrap_up=WrapUp(reason, disposition, notes, follow_up_on),
        )

        async def work(session: AsyncSession) -> Interaction | None:
            await apply_in(session, request)
            found = await session.execute(
                select(Interaction)
                .where(col(Interaction.call_id) == call_id)
                .order_by(col(Interaction.id).desc())  # the newest: a passed-on agent's comes first
            )
            return found.scalars().first()

        return await self._events.transact(work)

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
        """The agent opened the console: available, unless a call is still theirs.

        Raises:
            AccessDenied: branch staff take no calls (they are never made available).
        """
        await self._may_take_calls(agent_id)
        await self._events.transact(
            lambda session: follow_console(session, agent_id, AgentState.AVAILABLE, utcnow())
        )

    async def _may_take_calls(self, agent_id: int) -> None:
        async with self._sessions() as session:
            agent = await session.get(Agent, agent_id)
        role = Role(agent.role) if agent is not None and agent.role in set(Role) else Role.BRANCH
        if not may(role, Can.TAKE_CALLS):
            name = agent.user_name if agent is not None else _("agent {id}").format(id=agent_id)
            raise AccessDenied(
                _(
                    "{name} ({role}) may not {what}: it needs the {least} role"
                    " (a supervisor grants it with `frontline agents set-role`)"
                ).format(
                    name=name,
                    role=_(role.value),
                    what=_(Can.TAKE_CALLS.value),
                    least=_(Role.AGENT.value),
                )
            )

    async def sign_out(self, agent_id: int) -> None:
        """The agent left the console: offline, unless a call is still theirs."""
        await self._events.transact(
            lambda session: follow_console(session, agent_id, AgentState.OFFLINE, utcnow())
        )


__all__ = [
    "ACTIVE_STATES",
    "CallNotFound",
    "CallService",
    "CallStateError",
    "console_key",
    "subject_for",
]
