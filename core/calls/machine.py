"""The state machine: one event applied to one call, in the caller's transaction.

It reads the transition table (`core.calls.states`) and does what the entry says: the
call's new state and times, its agent, the agent's state, the `call_event` row, the change
notifications. Every actor comes here: the phone system through `CallEvents.apply`, the
agent's console through `CallService`.

Events are applied by the time they happened: one that comes after everything stored about
its call is applied here directly; one that sorts before a stored event is stored and the
call replayed (`core.calls.replay`); a phone system's event with a gap before it waits,
stored, for the replay that fills the gap. docs/calls.md says what is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.calls import postgres_calls, sqlite_calls
from core.calls.agents import (
    agent_by_id,
    agent_for,
    check_free,
    move_agent,
    named_agent,
    reconcile_agent,
)
from core.calls.errors import CallNotFound, IdempotencyConflict, InvalidTransition
from core.calls.handoff import pass_on
from core.calls.model import EventRequest, EventResult
from core.calls.new_call import may_create, new_call, new_call_result
from core.calls.postgres_step import write_step
from core.calls.replay import replay, transfer_variant
from core.calls.replay import step as apply_step
from core.calls.states import (
    TERMINAL,
    already,
    lookup,
    refused_after,
    transition,
)
from core.calls.times import checked, not_before_queued
from core.calls.wrap_up import land_wrap_up
from core.db import publish_change, publish_changes
from core.i18n import words as _
from core.models import Agent, Call, CallEvent, CallEventKind, CallReference, CallState
from core.models.types import utcnow

CONSOLE = "console"
"""The source of the agent's own actions."""


async def apply_in(session: AsyncSession, request: EventRequest) -> EventResult:
    """Apply `request` in the session's transaction (the caller commits).

    Args:
        session: inside its transaction.
        request: the event.

    Returns:
        The call after the event. Raises CallNotFound, AgentNotFound, InvalidTransition or
        IdempotencyConflict; IntegrityError when a concurrent twin committed first (retry).
    """
    postgres = (await session.connection()).dialect.name == "postgresql"
    if request.idempotency_key and not postgres:
        earlier = await _replay(session, request)
        if earlier is not None:
            return earlier
    if not postgres:
        call = await _find_call(session, request)
    else:
        # The key is looked up in the statement that finds and locks the call: one round trip
        # fewer for every event; the full check runs only when the key is already stored.
        try:
            call = await _find_call_postgres(session, request)
        except CallNotFound:
            if request.idempotency_key and (earlier := await _replay(session, request)):
                return earlier  # a key used before, now with a call that does not exist
            raise
        if request.idempotency_key and (call is None or session.info.pop(_KEY_STORED, False)):
            earlier = await _replay(session, request)
            if earlier is not None:
                return earlier
    if call is None:
        return await _create(session, request)
    return await _advance(session, call, request)


async def _replay(session: AsyncSession, request: EventRequest) -> EventResult | None:
    stored = (
        await session.execute(
            select(CallEvent).where(col(CallEvent.idempotency_key) == request.idempotency_key)
        )
    ).scalar_one_or_none()
    if stored is None:
        return None
    same_call = True
    if request.call_id is not None:
        same_call = stored.call_id == request.call_id
    elif request.external_id is not None:
        same_call = await reference(session, stored.call_id) == request.external_id
    if stored.kind != request.kind or not same_call:
        raise IdempotencyConflict(
            _("idempotency key {key!r} was already used for a {kind} event on call {id}").format(
                key=request.idempotency_key, kind=stored.kind, id=stored.call_id
            )
        )
    different = _differs(stored, request)
    if different:
        raise IdempotencyConflict(
            _(
                "idempotency key {key!r} was already used for another {kind} event on call "
                "{id} (its {field} differs)"
            ).format(
                key=request.idempotency_key, kind=stored.kind, id=stored.call_id, field=different
            )
        )
    call = await session.get(Call, stored.call_id)
    assert call is not None
    return await result(session, call, stored.kind, stored.id, stored.at, replayed=True)


def _differs(stored: CallEvent, request: EventRequest) -> str:
    """What of `request` differs from the event first stored under its key ("" when it is a
    true retry). The console's own keys name a step, not a body: a retry of it with edited
    notes is the same step."""
    if request.source == CONSOLE:
        return ""
    if stored.payload != request.payload_json():
        return "body"
    if (stored.source_event_id or None) != (request.source_event_id or None):
        return "source_event_id"
    if (stored.raw or None) != (request.raw_text() or None):
        return "raw"
    if request.at is not None:
        try:
            if request.at.astimezone(UTC) != stored.at:
                return "time (at)"
        except (OverflowError, ValueError):
            return "time (at)"
    return ""


async def referenced_call_id(
    session: AsyncSession, call_id: int | None, external_id: str | None
) -> int | None:
    """Frontline's id of the call an event or a route request names, by id or phone-system id.

    Args:
        session: the transaction.
        call_id: Frontline's id, when given (wins).
        external_id: the phone system's own id for the call.

    Returns:
        The call id, or None when neither names a stored call.
    """
    if call_id is None and external_id:
        call_id = (
            await session.execute(
                select(col(CallReference.call_id)).where(
                    col(CallReference.external_id) == external_id
                )
            )
        ).scalar_one_or_none()
    return call_id


async def _find_call(session: AsyncSession, request: EventRequest) -> Call | None:
    """The call, locked for this transaction; None for a call to create (SQLite)."""
    call_id = await referenced_call_id(session, request.call_id, request.external_id)
    if call_id is None:
        if not may_create(request):
            raise CallNotFound(_describe_ref(request))
        return None
    # Take the write lock (SQLite) / row lock (PostgreSQL) before reading the state we
    # decide on, so two events for one call cannot both pass validation.
    locked = await session.execute(
        update(Call).where(col(Call.id) == call_id).values(state=col(Call.state))
    )
    if getattr(locked, "rowcount", 1) == 0:
        raise CallNotFound(_describe_ref(request))
    return (
        await session.execute(
            select(Call).where(col(Call.id) == call_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def _find_call_postgres(session: AsyncSession, request: EventRequest) -> Call | None:
    """`_find_call` in one round trip: the reference looked up, the row locked and read with
    its agent, and whether the request's idempotency key is stored (session.info[_KEY_STORED])."""
    named: Any = request.call_id
    if named is None:
        if not request.external_id:
            if not may_create(request):
                raise CallNotFound(_describe_ref(request))
            return None
        named = (
            select(col(CallReference.call_id))
            .where(col(CallReference.external_id) == request.external_id)
            .scalar_subquery()
        )
    latest = (
        select(func.max(col(CallEvent.at)))
        .where(col(CallEvent.call_id) == col(Call.id))
        .scalar_subquery()
    )
    key_stored: Any = None
    if request.idempotency_key:
        key_stored = (
            select(col(CallEvent.id))
            .where(col(CallEvent.idempotency_key) == request.idempotency_key)
            .scalar_subquery()
        )
    row = (
        await session.execute(
            # The call's agent comes along (not locked): the steps that need it find it in
            # the session instead of asking the database once more.
            select(Call, latest, key_stored, Agent)
            .outerjoin(Agent, col(Agent.id) == col(Call.agent_id))
            .where(col(Call.id) == named)
            .with_for_update(of=Call)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        if request.call_id is not None or not may_create(request):
            raise CallNotFound(_describe_ref(request))
        return None
    call: Call = row[0]
    at, stored_key = row[1], row[2]
    session.info[(_LATEST, call.id)] = None if at is None else (at,)
    session.info[_KEY_STORED] = stored_key is not None
    session.info[_AGENT] = row[3]  # held: the session keeps only weak references to rows
    return call


async def _create(session: AsyncSession, request: EventRequest) -> EventResult:
    """A transition out of NEW, through the database's new-call writer."""
    agent = await named_agent(session, request)
    rows = new_call(request, agent.id if agent is not None else None)
    dialect = (await session.connection()).dialect.name
    writer = postgres_calls.insert if dialect == "postgresql" else sqlite_calls.insert
    written = await writer(session, rows)
    if written is None:  # a twin with this key or phone-system id committed meanwhile
        raise IntegrityError("new call", None, Exception("already stored"))
    call_id, event_id = written
    if agent is not None:
        step = transition(None, None, request.kind)
        move_agent(agent, step, rows.at)
        await publish_change(session, "agent", agent.user_name)
    return new_call_result(rows, call_id, event_id, agent.user_name if agent else "")


async def _advance(session: AsyncSession, call: Call, request: EventRequest) -> EventResult:
    assert call.id is not None
    kind = request.kind
    state = CallState(call.state)
    latest = await _latest(session, call.id)
    now = utcnow()
    given = checked(request.at, now)
    if given is not None:
        not_before_queued(given, call.queued_at, call.id)
        at = given
    else:  # an event without a time happened when it arrived, after all that is known
        at = now if latest is None or now > latest[0] else latest[0] + _TICK
    if latest is not None and at <= latest[0]:  # sorts before (or among) what is stored
        return await _late(session, call, request, at)
    agent = await agent_for(session, call, request)
    other_agent = agent is not None and agent.id != call.agent_id
    if already(state, kind, other_agent):
        if not _brings_data(call, request):
            if given is not None and request.source != CONSOLE and state not in TERMINAL:
                # Kept for a later replay: a re-queue reported while the call still looks
                # queued (its offer not here yet) is not a repeat once the offer arrives.
                await _log(session, call.id, request, at)
            return await result(
                session, call, kind, None, at, replayed=True, external=request.external_id
            )
        # The phone system got there first (answered, completed): the state stays, but what
        # the agent adds (the caller's record, the codes and notes) still lands on the call.
        # A retry of this very step is answered by its idempotency key, above.
        event = await _log(session, call.id, request, at)
        _set_data(call, request)
        if request.wrap_up is not None:
            await land_wrap_up(session, call, request.wrap_up, at)
        await publish_change(session, "call", str(call.id))
        return await result(session, call, kind, event.id, at, external=request.external_id)
    console = request.source == CONSOLE
    found = lookup(state, kind, _variant(request), console=console)
    gap = found is None or (found.needs_agent and call.agent_id is None and not other_agent)
    if gap and not console and not refused_after(state, kind):
        return await _pending(session, call, request, at)
    step = found or transition(call.id, state, kind, _variant(request), console=console)
    changed: list[Agent] = []
    if step.takes_agent and agent is not None and other_agent:
        if not console:  # the agent taking a call chose to; the PBX must ask
            await check_free(session, agent, call)
        if call.agent_id is not None:
            changed.append(await agent_by_id(session, call.agent_id))
    elif step.needs_agent and call.agent_id is None:
        raise InvalidTransition(
            _("call {id} is queued: say which agent answered it").format(id=call.id)
        )
    if "agent_id" in step.clears and agent is not None:
        changed.append(agent)
    previous = call.agent_id
    apply_step(call, step, at, agent.id if agent is not None and step.takes_agent else None)
    _set_data(call, request)
    if agent is not None:
        move_agent(agent, step, at)
        if agent not in changed:
            changed.append(agent)
    # PostgreSQL: the rows, the event and the notifications go in one statement at the end.
    postgres = session.get_bind().dialect.name == "postgresql"
    event = await _log(session, call.id, request, at, defer=postgres)
    if request.wrap_up is not None:
        await land_wrap_up(session, call, request.wrap_up, at)
    if kind == CallEventKind.TRANSFERRED and previous is not None and previous != call.agent_id:
        passed_on = await agent_by_id(session, previous)  # wrap-up for their part of it
        await pass_on(session, call, passed_on, at)
        if passed_on not in changed:
            changed.append(passed_on)
    changes = [("call", str(call.id)), *(("agent", moved.user_name) for moved in changed)]
    if postgres:
        await write_step(session, event, [call, *changed], changes)
    else:
        await publish_changes(session, changes)
    return await result(session, call, kind, event.id, at, external=request.external_id)


_TICK = timedelta(microseconds=1)


_KEY_STORED = "idempotency key stored"
"""session.info key: the request's idempotency key was found with the call (PostgreSQL)."""

_AGENT = "agent of the call"
"""session.info key: the call's agent, read with the call (PostgreSQL)."""

_LATEST = "latest event"
"""session.info key: the time of a call's latest event, read with the call (PostgreSQL)."""


async def _latest(session: AsyncSession, call_id: int) -> tuple[datetime] | None:
    """The time of the call's latest stored event."""
    if (_LATEST, call_id) in session.info:  # read with the locked call: nothing since
        known: tuple[datetime] | None = session.info.pop((_LATEST, call_id))
        return known
    at = (
        await session.execute(
            select(col(CallEvent.at))
            .where(col(CallEvent.call_id) == call_id)
            .order_by(col(CallEvent.at).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return None if at is None else (at,)


async def _pending(
    session: AsyncSession, call: Call, request: EventRequest, at: datetime
) -> EventResult:
    """A phone system's event that does not fit yet (an earlier one is missing): stored, so
    that the replay the missing event brings applies it; the call stays as it is."""
    assert call.id is not None
    event = await _log(session, call.id, request, at)
    _set_data(call, request)
    return await result(session, call, request.kind, event.id, at, external=request.external_id)


async def _late(
    session: AsyncSession, call: Call, request: EventRequest, at: datetime
) -> EventResult:
    """An event that happened before one already stored: stored, then the call replayed.

    It was accepted by the phone system in its time, so only that its agent exists is checked
    here; the agents the call had and has now follow what the replay decides.
    """
    assert call.id is not None
    target = await named_agent(session, request)
    if target is None and request.kind == CallEventKind.OFFERED:
        raise InvalidTransition(_("an offered call needs the agent's user name"))
    before = call.agent_id
    event = await _log(session, call.id, request, at)
    await replay(session, call)
    _set_data(call, request)
    if request.wrap_up is not None:
        await land_wrap_up(session, call, request.wrap_up, at)
    moved = []
    for agent_id in dict.fromkeys((before, call.agent_id)):
        if agent_id is not None:
            agent = await agent_by_id(session, agent_id)
            await reconcile_agent(session, agent, at)
            moved.append(agent.user_name)
    await publish_changes(session, [("call", str(call.id)), *(("agent", name) for name in moved)])
    return await result(session, call, request.kind, event.id, at, external=request.external_id)


def _variant(request: EventRequest) -> str:
    if request.transfer is None:
        return ""
    return transfer_variant(request.transfer.as_json())


def _brings_data(call: Call, request: EventRequest) -> bool:
    """True when the event carries something the call does not have yet."""
    new_customer = request.customer_id is not None and request.customer_id != call.customer_id
    return request.wrap_up is not None or new_customer


def _set_data(call: Call, request: EventRequest) -> None:
    if request.customer_id is not None:
        call.customer_id = request.customer_id
    if request.caller_number and not call.caller_number:
        call.caller_number = request.caller_number
    if request.queue and not call.queue:
        call.queue = request.queue
    if request.transfer is not None and request.transfer.to_queue and call.state == "queued":
        call.queue = request.transfer.to_queue


def _describe_ref(request: EventRequest) -> str:
    if request.call_id is not None:
        return _("no call with id {id}").format(id=request.call_id)
    if request.external_id:
        return _("no call with phone-system id {id!r}").format(id=request.external_id)
    return _("the event names no call (give call_id or external_id)")


async def reference(session: AsyncSession, call_id: int) -> str | None:
    """The phone system's id for the call, if it gave one."""
    return (
        await session.execute(
            select(col(CallReference.external_id)).where(col(CallReference.call_id) == call_id)
        )
    ).scalar_one_or_none()


async def _log(
    session: AsyncSession, call_id: int, request: EventRequest, at: datetime, *, defer: bool = False
) -> CallEvent:
    """The event's row; with `defer`, not written yet (`write_step` writes it)."""
    event = CallEvent(
        call_id=call_id,
        kind=request.kind.value,
        at=at,
        payload=request.payload_json(),
        idempotency_key=request.idempotency_key or None,
        source=request.source[:20],
        source_event_id=request.source_event_id,
        leg_id=request.leg_id,
        raw=request.raw_text(),
    )
    if defer:
        return event
    session.add(event)
    await session.flush()
    return event


async def result(
    session: AsyncSession,
    call: Call,
    kind: str,
    event_id: int | None,
    at: datetime,
    *,
    replayed: bool = False,
    external: str | None = None,
) -> EventResult:
    """The answer for the sender; `external`, when the caller knows it, saves a query."""
    assert call.id is not None
    agent_name = ""
    if call.agent_id is not None:
        agent = await session.get(Agent, call.agent_id)
        agent_name = agent.user_name if agent is not None else ""
    return EventResult(
        call_id=call.id,
        state=call.state,
        kind=str(kind),
        event_id=event_id,
        at=at,
        agent=agent_name,
        caller_number=call.caller_number,
        queue=call.queue,
        external_id=external or await reference(session, call.id),
        replayed=replayed,
    )


__all__ = ["CONSOLE", "apply_in", "reference", "result"]
