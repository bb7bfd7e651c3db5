"""Phone-system events applied to calls and agents: queued, offered, answered, held, ended…

Every applied event is stored in `call_event`, in the same transaction as the change it makes,
so the log and the calls never disagree. An event sent with an idempotency key is applied
once: a retry with the same key gets the first answer back (`replayed=True`) and changes
nothing. Transitions are validated; an impossible one (answering an abandoned call) raises
`InvalidTransition` and stores nothing.

A call's life, and the event that moves it:

    queued --offered--> offered --answered--> answered <--held/unheld--> held
       |                  |  \\--queued (ring, no answer: back in the queue)
       |                  |                      |--ended--> wrap_up --completed--> completed
       \\--abandoned-------\\--abandoned--> abandoned

The agent's state follows: answered -> on_call, ended -> wrap_up, completed -> available.
The agent console's own actions (core/calls/lifecycle.py) move the same columns the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.db import NOTIFY_CHANNEL, DatabaseUnavailable, publish_change
from core.models import (
    Agent,
    AgentState,
    Call,
    CallEvent,
    CallEventKind,
    CallReference,
    CallState,
    ChangeEvent,
)
from core.models.types import UtcDateTime, sqlite_time, utcnow

GROUP_COMMIT_MAX = 200
"""At most this many new calls in one SQLite transaction."""

LIVE_STATES = (CallState.OFFERED, CallState.ANSWERED, CallState.HELD)
"""A call in one of these states occupies its agent."""


class CallEventError(Exception):
    """An event that cannot be applied; the message says why, for the sender."""


class CallNotFound(CallEventError):
    """No call has that id (or that phone-system id)."""


class AgentNotFound(CallEventError):
    """No agent has that user name."""


class InvalidTransition(CallEventError):
    """The event does not fit the call's (or the agent's) current state."""


class IdempotencyConflict(CallEventError):
    """The idempotency key was already used for a different event."""


@dataclass(frozen=True)
class EventRequest:
    """One event as a phone system (or `frontline call`) reports it."""

    kind: CallEventKind
    call_id: int | None = None
    """Frontline's call id; or give `external_id`."""
    external_id: str | None = None
    """The phone system's own id for the call (set it on `queued`, then use it throughout)."""
    caller_number: str = ""
    queue: str = ""
    agent: str = ""
    """The agent's user name (offered; optional on answered)."""
    at: datetime | None = None
    """When it happened; None means now."""
    idempotency_key: str | None = None

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for name in ("external_id", "caller_number", "queue", "agent"):
            value = getattr(self, name)
            if value:
                body[name] = value
        return body


@dataclass(frozen=True)
class EventResult:
    """The call after the event."""

    call_id: int
    state: str
    kind: str
    event_id: int | None
    """The stored event; None when the event changed nothing (already in that state)."""
    at: datetime
    agent: str = ""
    caller_number: str = ""
    queue: str = ""
    external_id: str | None = None
    replayed: bool = False
    """True when this answer repeats an earlier one (same idempotency key, or a no-op)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "state": self.state,
            "kind": self.kind,
            "event_id": self.event_id,
            "at": self.at.isoformat(),
            "agent": self.agent,
            "caller_number": self.caller_number,
            "queue": self.queue,
            "external_id": self.external_id,
            "replayed": self.replayed,
        }


@dataclass(frozen=True)
class AgentStatus:
    user_name: str
    state: str
    reason: str
    since: datetime


# kind -> states it may start from (the target state is decided in _apply).
_FROM: dict[CallEventKind, tuple[CallState, ...]] = {
    CallEventKind.OFFERED: (CallState.QUEUED, CallState.OFFERED),
    CallEventKind.ANSWERED: (CallState.OFFERED, CallState.QUEUED),
    CallEventKind.HELD: (CallState.ANSWERED,),
    CallEventKind.UNHELD: (CallState.HELD,),
    CallEventKind.ENDED: (CallState.ANSWERED, CallState.HELD),
    CallEventKind.ABANDONED: (CallState.QUEUED, CallState.OFFERED),
    CallEventKind.COMPLETED: (CallState.WRAP_UP,),
    CallEventKind.QUEUED: (CallState.OFFERED,),
}
# kind -> states in which the event has already happened: accepted, changes nothing.
_ALREADY: dict[CallEventKind, tuple[CallState, ...]] = {
    CallEventKind.QUEUED: (CallState.QUEUED,),
    CallEventKind.ANSWERED: (CallState.ANSWERED, CallState.HELD),
    CallEventKind.HELD: (CallState.HELD,),
    CallEventKind.UNHELD: (CallState.ANSWERED,),
    CallEventKind.ENDED: (CallState.WRAP_UP, CallState.COMPLETED),
    CallEventKind.ABANDONED: (CallState.ABANDONED,),
    CallEventKind.COMPLETED: (CallState.COMPLETED,),
}


class CallEvents:
    """Applies phone-system events. Each call to `apply` is one transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # SQLite has one writer at a time: queueing writers here is cheaper than letting
        # them spin on the busy timeout. Other processes still wait on the busy timeout.
        bind = sessions.kw.get("bind")
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if sqlite else None
        # New calls waiting for the next group commit (SQLite), and the task writing them.
        self._pending: list[tuple[EventRequest, asyncio.Future[EventResult | None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        if self._write_lock is None:
            yield
            return
        async with self._write_lock:
            yield

    async def apply(self, request: EventRequest) -> EventResult:
        """Apply one event, exactly once per idempotency key.

        Args:
            request: the event.

        Returns:
            The call after the event. Raises CallNotFound, AgentNotFound, InvalidTransition,
            IdempotencyConflict, or DatabaseUnavailable (retry later with the same key).
        """
        if self._write_lock is not None and _is_new_call(request):
            created = await self._queue_grouped(request)
            if created is not None:
                return created
        for attempt in range(3):
            try:
                async with self._writing():
                    return await self._apply_once(request)
            except IntegrityError:
                # A concurrent twin (same key or same external id) committed first: the
                # next attempt finds it and answers as a replay.
                if attempt == 2:
                    raise
            except OperationalError as error:
                raise DatabaseUnavailable(str(error.orig)) from error
        raise AssertionError("unreachable")

    async def _queue_grouped(self, request: EventRequest) -> EventResult | None:
        """A new call on SQLite, written with the others that arrived meanwhile.

        Requests that come while a write is under way wait for the next one and are then
        written together, in one hop to the driver's thread and one commit: under a burst
        the cost of a transaction is shared instead of paid per call. None when the key or
        the phone-system id is already stored: `apply` then answers through the general
        path (a replay, a re-queue, a conflict).
        """
        future: asyncio.Future[EventResult | None] = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            async with self._writing():
                batch = self._pending[:GROUP_COMMIT_MAX]
                del self._pending[:GROUP_COMMIT_MAX]
                try:
                    results = await self._write_new_calls([r for r, _ in batch])
                except OperationalError as error:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(DatabaseUnavailable(str(error.orig)))
                    continue
                except Exception as error:  # noqa: BLE001 - handed to every waiting request
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # a request whose sender hung up is still stored
                        future.set_result(result)

    async def _write_new_calls(self, requests: list[EventRequest]) -> list[EventResult | None]:
        rows: list[tuple[Any, ...]] = []
        answers: list[tuple[EventRequest, datetime]] = []
        for request in requests:
            at = request.at or utcnow()
            answers.append((request, at))
            rows.append(
                (
                    request.idempotency_key or None,
                    request.external_id,
                    request.caller_number,
                    request.queue,
                    sqlite_time(at),
                    sqlite_time(utcnow()),
                    json.dumps(request.payload(), ensure_ascii=False, sort_keys=True),
                )
            )
        async with self._sessions() as session, session.begin():
            connection = await session.connection()
            driver: Any = (await connection.get_raw_connection()).driver_connection
            try:
                ids: list[tuple[int, int] | None] = await driver._execute(
                    _queue_sqlite_batch, driver._conn, rows
                )
            except sqlite3.IntegrityError as error:
                raise IntegrityError("queued", None, error) from error
            except sqlite3.OperationalError as error:
                raise OperationalError("queued", None, error) from error
        return [
            None if written is None else _queued_result(request, at, *written)
            for (request, at), written in zip(answers, ids, strict=True)
        ]

    async def _apply_once(self, request: EventRequest) -> EventResult:
        async with self._sessions() as session, session.begin():
            if self._write_lock is None and _is_new_call(request):
                created = await _queue_new(session, request)
                if created is not None:
                    return created
            if request.idempotency_key:
                earlier = await self._replay(session, request)
                if earlier is not None:
                    return earlier
            call = await self._find_call(session, request)
            if call is None:
                if request.kind != CallEventKind.QUEUED:
                    raise CallNotFound(_describe_ref(request))
                return await self._create(session, request)
            return await self._transition(session, call, request)

    async def _replay(self, session: AsyncSession, request: EventRequest) -> EventResult | None:
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
            ref = await _reference(session, stored.call_id)
            same_call = ref == request.external_id
        if stored.kind != request.kind or not same_call:
            raise IdempotencyConflict(
                f"idempotency key {request.idempotency_key!r} was already used for a "
                f"{stored.kind} event on call {stored.call_id}"
            )
        call = await session.get(Call, stored.call_id)
        assert call is not None
        return await _result(session, call, stored.kind, stored.id, stored.at, replayed=True)

    async def _find_call(self, session: AsyncSession, request: EventRequest) -> Call | None:
        call_id = request.call_id
        if call_id is None and request.external_id:
            call_id = (
                await session.execute(
                    select(col(CallReference.call_id)).where(
                        col(CallReference.external_id) == request.external_id
                    )
                )
            ).scalar_one_or_none()
        if call_id is None:
            if request.kind != CallEventKind.QUEUED:
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
                select(Call)
                .where(col(Call.id) == call_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()

    async def _create(self, session: AsyncSession, request: EventRequest) -> EventResult:
        at = request.at or utcnow()
        if not request.caller_number:
            raise InvalidTransition("a queued call needs the caller's number")
        call = Call(
            caller_number=request.caller_number,
            queue=request.queue,
            state=CallState.QUEUED,
            queued_at=at,
        )
        session.add(call)
        await session.flush()
        assert call.id is not None
        if request.external_id:
            session.add(CallReference(call_id=call.id, external_id=request.external_id))
        event = await _log(session, call.id, request, at)
        await publish_change(session, "call", str(call.id))
        return await _result(
            session, call, request.kind, event.id, at, external_id=request.external_id
        )

    async def _transition(
        self, session: AsyncSession, call: Call, request: EventRequest
    ) -> EventResult:
        assert call.id is not None
        kind = request.kind
        state = CallState(call.state)
        at = request.at or utcnow()
        agent = await self._agent_for(session, call, request)
        if state in _ALREADY.get(kind, ()) and not (
            kind == CallEventKind.ANSWERED and agent is not None and agent.id != call.agent_id
        ):
            return await _result(
                session, call, kind, None, at, replayed=True, external_id=request.external_id
            )
        if state not in _FROM[kind]:
            raise InvalidTransition(
                f"call {call.id} is {state.value.replace('_', ' ')}: it cannot be {kind.value}"
            )
        changed_agents: list[Agent] = []
        if kind in (CallEventKind.OFFERED, CallEventKind.ANSWERED) and agent is not None:
            if agent.id != call.agent_id:
                await self._check_free(session, agent, call)
                previous = call.agent_id
                call.agent_id = agent.id
                call.offered_at = at
                if previous is not None:
                    changed_agents.append(await _agent_by_id(session, previous))
                changed_agents.append(agent)
            if kind == CallEventKind.OFFERED:
                call.state = CallState.OFFERED
        if kind == CallEventKind.ANSWERED:
            if agent is None:
                raise InvalidTransition(f"call {call.id} is queued: say which agent answered it")
            call.state = CallState.ANSWERED
            call.answered_at = at
            _set_state(agent, AgentState.ON_CALL, at)
        elif kind == CallEventKind.HELD:
            call.state = CallState.HELD
        elif kind == CallEventKind.UNHELD:
            call.state = CallState.ANSWERED
        elif kind == CallEventKind.ENDED:
            call.state = CallState.WRAP_UP
            call.ended_at = at
            if agent is not None:
                _set_state(agent, AgentState.WRAP_UP, at)
        elif kind == CallEventKind.COMPLETED:
            call.state = CallState.COMPLETED
            call.wrap_up_ended_at = at
            if agent is not None and agent.state == AgentState.WRAP_UP:
                _set_state(agent, AgentState.AVAILABLE, at)
        elif kind == CallEventKind.ABANDONED:
            call.state = CallState.ABANDONED
            call.abandoned_at = at
            if agent is not None:
                changed_agents.append(agent)
        elif kind == CallEventKind.QUEUED:  # rang unanswered: back in the queue
            if agent is not None:
                changed_agents.append(agent)
            call.state = CallState.QUEUED
            call.agent_id = None
            call.offered_at = None
        if agent is not None and agent not in changed_agents:
            changed_agents.append(agent)
        event = await _log(session, call.id, request, at)
        await publish_change(session, "call", str(call.id))
        for changed in changed_agents:
            await publish_change(session, "agent", changed.user_name)
        return await _result(session, call, kind, event.id, at, external_id=request.external_id)

    async def _agent_for(
        self, session: AsyncSession, call: Call, request: EventRequest
    ) -> Agent | None:
        if request.agent:
            found = (
                await session.execute(select(Agent).where(col(Agent.user_name) == request.agent))
            ).scalar_one_or_none()
            if found is None:
                raise AgentNotFound(f"no agent named {request.agent!r}")
            if request.kind not in (CallEventKind.OFFERED, CallEventKind.ANSWERED):
                if call.agent_id is not None and found.id != call.agent_id:
                    raise InvalidTransition(
                        f"call {call.id} is with another agent, not {request.agent!r}"
                    )
            return found
        if request.kind == CallEventKind.OFFERED:
            raise InvalidTransition("an offered call needs the agent's user name")
        if call.agent_id is None:
            return None
        return await _agent_by_id(session, call.agent_id)

    async def _check_free(self, session: AsyncSession, agent: Agent, call: Call) -> None:
        if agent.state != AgentState.AVAILABLE:
            state = AgentState(agent.state).value.replace("_", " ")
            raise InvalidTransition(f"agent {agent.user_name!r} is {state}, not available")
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
            raise InvalidTransition(f"agent {agent.user_name!r} already has call {busy}")

    async def set_agent_state(
        self, user_name: str, state: AgentState, reason: str = "", at: datetime | None = None
    ) -> AgentStatus:
        """Put an agent in a state (ready, break with a reason, offline), as the phone system
        or a supervisor reports it.

        Args:
            user_name: the agent.
            state: available, break or offline (on_call and wrap_up follow calls).
            reason: why, for a break (lunch, training…); required for a break.
            at: when; None means now.

        Returns:
            The agent's state afterwards. An unknown user name becomes a new agent.
        """
        if state in (AgentState.ON_CALL, AgentState.WRAP_UP):
            raise InvalidTransition(f"{state.value} follows the agent's calls; it cannot be set")
        if state == AgentState.BREAK and not reason.strip():
            raise InvalidTransition("a break needs a reason (lunch, training, …)")
        when = at or utcnow()
        clean_reason = reason.strip() if state == AgentState.BREAK else ""
        for attempt in range(2):
            try:
                async with self._writing(), self._sessions() as session, session.begin():
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
                                f"agent {user_name!r} is on call {busy}; end it first"
                            )
                    if agent.state != state or agent.state_reason != clean_reason:
                        agent.state = state
                        agent.state_reason = clean_reason
                        agent.state_since = when
                        await publish_change(session, "agent", agent.user_name)
                    return AgentStatus(
                        agent.user_name, agent.state, agent.state_reason, agent.state_since
                    )
            except IntegrityError:
                if attempt:  # created by someone else meanwhile: the second try finds it
                    raise
            except OperationalError as error:
                raise DatabaseUnavailable(str(error.orig)) from error
        raise AssertionError("unreachable")


_INSERT_CALL = (
    "INSERT INTO call (caller_number, queue, state, queued_at, reason, disposition, notes) "
    "VALUES (?, ?, ?, ?, '', '', '')"
)
_INSERT_EVENT = (
    "INSERT INTO call_event (call_id, kind, at, received_at, payload, idempotency_key) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def _queue_sqlite(
    db: sqlite3.Connection,
    key: str | None,
    external_id: str | None,
    caller_number: str,
    queue: str,
    at: str,
    now: str,
    payload: str,
) -> tuple[int, int] | None:
    """A new call, its reference, its event and its change, on the driver's thread.

    Returns (call id, event id), or None when the key or the phone-system id is already
    known: then the general path answers (replay, re-queue) in the same transaction.
    """
    if not db.in_transaction:
        db.execute("BEGIN IMMEDIATE")  # the write lock first: no busy retries mid-way
    if (
        key is not None
        and db.execute("SELECT 1 FROM call_event WHERE idempotency_key = ?", (key,)).fetchone()
    ):
        return None
    if (
        external_id
        and db.execute(
            "SELECT 1 FROM call_reference WHERE external_id = ?", (external_id,)
        ).fetchone()
    ):
        return None
    call_id = db.execute(_INSERT_CALL, (caller_number, queue, CallState.QUEUED.value, at)).lastrowid
    assert call_id is not None
    if external_id:
        db.execute(
            "INSERT INTO call_reference (call_id, external_id) VALUES (?, ?)",
            (call_id, external_id),
        )
    event_id = db.execute(
        _INSERT_EVENT, (call_id, CallEventKind.QUEUED.value, at, now, payload, key)
    ).lastrowid
    assert event_id is not None
    db.execute(
        'INSERT INTO change_event (at, topic, "key") VALUES (?, ?, ?)', (now, "call", str(call_id))
    )
    return call_id, event_id


def _new_id(value: int | None) -> int:
    assert value is not None
    return value


def _queue_sqlite_batch(
    db: sqlite3.Connection, rows: list[tuple[Any, ...]]
) -> list[tuple[int, int] | None]:
    """`_queue_sqlite` for each row in one transaction, each behind its own savepoint so that
    a refused row leaves the others (it gets None and goes through the general path)."""
    if not db.in_transaction:
        db.execute("BEGIN IMMEDIATE")
    written: list[tuple[int, int] | None] = []
    for row in rows:
        db.execute("SAVEPOINT queued_call")
        try:
            written.append(_queue_sqlite(db, *row))
        except sqlite3.IntegrityError:
            db.execute("ROLLBACK TO queued_call")
            written.append(None)
        db.execute("RELEASE queued_call")
    return written


def _is_new_call(request: EventRequest) -> bool:
    """A `queued` event that may create a call (no Frontline id; a caller number)."""
    return (
        request.kind == CallEventKind.QUEUED
        and request.call_id is None
        and bool(request.caller_number)
    )


_QUEUE_POSTGRES = text(
    """
    WITH known AS (
        SELECT 1 FROM call_event WHERE idempotency_key = :key
        UNION ALL
        SELECT 1 FROM call_reference WHERE external_id = :ext
    ), new_call AS (
        INSERT INTO call (caller_number, queue, state, queued_at, reason, disposition, notes)
        SELECT :caller, :queue, 'queued', :at, '', '', ''
        WHERE NOT EXISTS (SELECT 1 FROM known)
        RETURNING id
    ), new_reference AS (
        INSERT INTO call_reference (call_id, external_id)
        SELECT id, :ext FROM new_call WHERE :ext IS NOT NULL
    ), new_event AS (
        INSERT INTO call_event (call_id, kind, at, received_at, payload, idempotency_key)
        SELECT id, 'queued', :at, :now, :payload, :key FROM new_call
        RETURNING id, call_id
    ), new_change AS (
        INSERT INTO change_event (at, topic, key)
        SELECT :now, 'call', CAST(id AS VARCHAR) FROM new_call
    )
    SELECT call_id, id, pg_notify(:channel, 'call:' || CAST(call_id AS VARCHAR)) FROM new_event
    """
).bindparams(
    bindparam("key", type_=String()),
    bindparam("ext", type_=String()),
    bindparam("caller", type_=String()),
    bindparam("queue", type_=String()),
    bindparam("at", type_=UtcDateTime()),
    bindparam("now", type_=UtcDateTime()),
    bindparam("payload", type_=Text()),
    bindparam("channel", type_=String()),
)
"""A new call on PostgreSQL in one round trip: the same rows as `_queue_new`'s statements
(none when the idempotency key or the phone-system id is known), and the NOTIFY."""


async def _queue_new(session: AsyncSession, request: EventRequest) -> EventResult | None:
    """The common `queued` event for a call not seen before, with Core statements, no ORM.

    A burst of new calls is what a phone system sends most; this writes the same rows as the
    general path (call, call_reference, call_event, change_event, and NOTIFY on PostgreSQL)
    in the session's transaction. (SQLite groups them instead: `_queue_sqlite_batch`.) None
    when the idempotency key or the phone-system id is already stored: the general path then
    answers in the same transaction.
    """
    at = request.at or utcnow()
    now = utcnow()
    key = request.idempotency_key or None
    payload = json.dumps(request.payload(), ensure_ascii=False, sort_keys=True)
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        row = (
            await connection.execute(
                _QUEUE_POSTGRES,
                {
                    "key": key,
                    "ext": request.external_id,
                    "caller": request.caller_number,
                    "queue": request.queue,
                    "at": at,
                    "now": now,
                    "payload": payload,
                    "channel": NOTIFY_CHANNEL,
                },
            )
        ).first()
        return None if row is None else _queued_result(request, at, row[0], row[1])
    if key is not None:
        seen = await connection.execute(
            select(col(CallEvent.id)).where(col(CallEvent.idempotency_key) == key)
        )
        if seen.first() is not None:
            return None
    if request.external_id:
        known = await connection.execute(
            select(col(CallReference.id)).where(
                col(CallReference.external_id) == request.external_id
            )
        )
        if known.first() is not None:
            return None
    call_id = _new_id(
        (
            await connection.execute(
                insert(Call)
                .values(
                    caller_number=request.caller_number,
                    queue=request.queue,
                    state=CallState.QUEUED.value,
                    queued_at=at,
                    reason="",
                    disposition="",
                    notes="",
                )
                .returning(col(Call.id))
            )
        ).scalar_one()
    )
    if request.external_id:
        await connection.execute(
            insert(CallReference).values(call_id=call_id, external_id=request.external_id)
        )
    event_id = _new_id(
        (
            await connection.execute(
                insert(CallEvent)
                .values(
                    call_id=call_id,
                    kind=CallEventKind.QUEUED.value,
                    at=at,
                    received_at=now,
                    payload=payload,
                    idempotency_key=key,
                )
                .returning(col(CallEvent.id))
            )
        ).scalar_one()
    )
    await connection.execute(insert(ChangeEvent).values(at=now, topic="call", key=str(call_id)))
    if connection.dialect.name == "postgresql":
        await connection.execute(select(func.pg_notify(NOTIFY_CHANNEL, f"call:{call_id}")))
    return _queued_result(request, at, call_id, event_id)


def _queued_result(request: EventRequest, at: datetime, call_id: int, event_id: int) -> EventResult:
    return EventResult(
        call_id=call_id,
        state=CallState.QUEUED.value,
        kind=CallEventKind.QUEUED.value,
        event_id=event_id,
        at=at,
        caller_number=request.caller_number,
        queue=request.queue,
        external_id=request.external_id,
    )


def _set_state(agent: Agent, state: AgentState, at: datetime) -> None:
    if agent.state != state:
        agent.state = state
        agent.state_reason = ""
        agent.state_since = at


def _describe_ref(request: EventRequest) -> str:
    if request.call_id is not None:
        return f"no call with id {request.call_id}"
    if request.external_id:
        return f"no call with phone-system id {request.external_id!r}"
    return "the event names no call (give call_id or external_id)"


async def _agent_by_id(session: AsyncSession, agent_id: int) -> Agent:
    agent = await session.get(Agent, agent_id)
    assert agent is not None
    return agent


async def _reference(session: AsyncSession, call_id: int) -> str | None:
    return (
        await session.execute(
            select(col(CallReference.external_id)).where(col(CallReference.call_id) == call_id)
        )
    ).scalar_one_or_none()


async def _log(
    session: AsyncSession, call_id: int, request: EventRequest, at: datetime
) -> CallEvent:
    event = CallEvent(
        call_id=call_id,
        kind=request.kind.value,
        at=at,
        payload=json.dumps(request.payload(), ensure_ascii=False, sort_keys=True),
        idempotency_key=request.idempotency_key or None,
    )
    session.add(event)
    await session.flush()
    return event


async def _result(
    session: AsyncSession,
    call: Call,
    kind: str,
    event_id: int | None,
    at: datetime,
    *,
    replayed: bool = False,
    external_id: str | None = None,
) -> EventResult:
    """The answer for the sender; `external_id`, when the caller knows it, saves a query."""
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
        external_id=external_id or await _reference(session, call.id),
        replayed=replayed,
    )


async def log_event(
    session: AsyncSession, call_id: int, kind: CallEventKind, at: datetime, **payload: Any
) -> None:
    """Record, in the caller's transaction, an event the agent's console caused (for the log).

    Args:
        session: the caller's session, inside its transaction.
        call_id: the call.
        kind: what happened.
        at: when.
        **payload: details stored as JSON.
    """
    session.add(
        CallEvent(call_id=call_id, kind=kind.value, at=at, payload=json.dumps(payload, default=str))
    )


__all__ = [
    "AgentNotFound",
    "AgentStatus",
    "CallEventError",
    "CallEvents",
    "CallNotFound",
    "EventRequest",
    "EventResult",
    "IdempotencyConflict",
    "InvalidTransition",
    "log_event",
]
