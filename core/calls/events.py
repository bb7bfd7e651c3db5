"""Phone-system events applied to calls and agents: queued, offered, answered, held, ended…

Every applied event is stored in `call_event`, in the same transaction as the change it makes,
so the log and the calls never disagree. An event sent with an idempotency key is applied
once: a retry with the same key gets the first answer back (`replayed=True`) and changes
nothing. What each event does is the transition table (`core.calls.states`), applied by the
state machine (`core.calls.machine`) for every actor, the agent's console included
(`core.calls.lifecycle`). This module owns the transactions: retries, SQLite's write queue,
and the fast path for the event a phone system sends most, a new call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.calls import postgres_calls, sqlite_calls
from core.calls.agents import set_agent_state_in
from core.calls.errors import (
    AgentNotFound,
    CallEventError,
    CallNotFound,
    IdempotencyConflict,
    ImpossibleTime,
    InvalidTransition,
)
from core.calls.machine import apply_in
from core.calls.model import (
    AgentStateChange,
    AgentStatus,
    CanonicalEvent,
    EventRequest,
    EventResult,
)
from core.calls.new_call import NewCall, may_create, new_call, new_call_result
from core.calls.stale import close_in, stale_calls
from core.calls.times import checked
from core.db import DatabaseUnavailable
from core.identity import Identity
from core.models import AgentState, CallEventKind
from core.models.types import utcnow
from core.privacy.access import Can, require_in

T = TypeVar("T")

GROUP_COMMIT_MAX = 200
"""At most this many new calls in one SQLite transaction."""


def _fast(request: EventRequest) -> bool:
    """A `queued` event that may create a call: the fast path's (no lookups before it)."""
    return (
        request.kind == CallEventKind.QUEUED and may_create(request) and bool(request.caller_number)
    )


class CallEvents:
    """Applies call events. Each call to `apply` is one transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # SQLite has one writer at a time: queueing writers here is cheaper than letting
        # them spin on the busy timeout. Other processes still wait on the busy timeout.
        bind = sessions.kw.get("bind")
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if sqlite else None
        # New calls waiting for the next group commit (SQLite), and the task writing them.
        self._pending: list[tuple[NewCall, asyncio.Future[EventResult | None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        if self._write_lock is None:
            yield
            return
        async with self._write_lock:
            yield

    async def transact(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in one write transaction, retried when a concurrent twin (same key,
        same phone-system id) committed first: the retry then finds it.

        Raises DatabaseUnavailable when the database cannot be written (retry later).
        """
        for attempt in range(3):
            try:
                async with self._writing(), self._sessions() as session, session.begin():
                    return await work(session)
            except IntegrityError:
                if attempt == 2:
                    raise
            except OperationalError as error:
                raise DatabaseUnavailable(str(error.orig)) from error
        raise AssertionError("unreachable")

    async def apply(self, request: EventRequest) -> EventResult:
        """Apply one event, exactly once per idempotency key.

        Args:
            request: the event.

        Returns:
            The call after the event. Raises CallNotFound, AgentNotFound, InvalidTransition,
            IdempotencyConflict, or DatabaseUnavailable (retry later with the same key).
        """
        if _fast(request):
            rows = new_call(request)
            created = await (self._queue_grouped(rows) if self._write_lock else self._insert(rows))
            if created is not None:
                return created
        return await self.transact(lambda session: apply_in(session, request))

    async def _insert(self, rows: NewCall) -> EventResult | None:
        """PostgreSQL: the new call in one round trip; None when the key or the phone-system
        id is known (the general path then answers: a replay, a re-queue, a conflict)."""
        try:
            async with self._sessions() as session, session.begin():
                written = await postgres_calls.insert(session, rows)
        except IntegrityError:
            return None  # a concurrent twin: the general path finds it
        except OperationalError as error:
            raise DatabaseUnavailable(str(error.orig)) from error
        return None if written is None else new_call_result(rows, *written)

    async def _queue_grouped(self, rows: NewCall) -> EventResult | None:
        """A new call on SQLite, written with the others that arrived meanwhile.

        Requests that come while a write is under way wait for the next one and are then
        written together, in one hop to the driver's thread and one commit: under a burst
        the cost of a transaction is shared instead of paid per call.
        """
        future: asyncio.Future[EventResult | None] = asyncio.get_running_loop().create_future()
        self._pending.append((rows, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            async with self._writing():
                batch = self._pending[:GROUP_COMMIT_MAX]
                del self._pending[:GROUP_COMMIT_MAX]
                calls = [rows for rows, _ in batch]
                try:
                    async with self._sessions() as session, session.begin():
                        ids = await sqlite_calls.on_driver(session, sqlite_calls.write_batch, calls)
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
                for (rows, future), written in zip(batch, ids, strict=True):
                    if not future.done():  # a request whose sender hung up is still stored
                        future.set_result(
                            None if written is None else new_call_result(rows, *written)
                        )

    async def set_agent_state(
        self,
        user_name: str,
        state: AgentState,
        reason: str = "",
        at: datetime | None = None,
        *,
        by: Identity | None = None,
    ) -> AgentStatus:
        """Put an agent in a state (ready, break with a reason, offline), as the phone system
        or a supervisor reports it.

        Args:
            user_name: the agent.
            state: available, break or offline (on_call and wrap_up follow calls).
            reason: why, for a break (lunch, training…); required for a break.
            at: when; None means now.
            by: the person acting (the console, `frontline call state`): they may set their
                own state; another agent's only as a supervisor (the role as stored when the
                change is written), else AccessDenied. None is the phone system, whose
                authority is its token (`events` scope).

        Returns:
            The agent's state afterwards. An unknown user name becomes a new agent.
        """
        now = utcnow()
        when = checked(at, now) or now

        async def write(session: AsyncSession) -> AgentStatus:
            if by is not None and by.name != user_name:
                await require_in(session, by, Can.SET_OTHERS_STATE)
            return await set_agent_state_in(session, user_name, state, reason, when)

        return await self.transact(write)

    async def report(self, event: CanonicalEvent) -> EventResult | AgentStatus:
        """Apply one canonical event, as an adapter hands it over: a call's or an agent's."""
        if isinstance(event, AgentStateChange):
            return await self.set_agent_state(event.agent, event.state, event.reason, event.at)
        return await self.apply(event)

    async def sweep_stale(self, stale_after: timedelta) -> list[EventResult]:
        """Close every open call with no event for `stale_after` (see `core.calls.stale`).

        Each call is closed in its own transaction, so one refused close (a call that moved
        meanwhile) leaves the others.
        """
        now = utcnow()
        async with self._sessions() as session:
            ids = await stale_calls(session, now - stale_after)
        closed: list[EventResult] = []
        for call_id in ids:

            async def close(session: AsyncSession, call_id: int = call_id) -> EventResult:
                return await close_in(session, call_id, now)

            try:
                closed.append(await self.transact(close))
            except CallEventError:
                continue
        return closed


__all__ = [
    "AgentNotFound",
    "AgentStatus",
    "CallEventError",
    "CallEvents",
    "CallNotFound",
    "EventRequest",
    "EventResult",
    "IdempotencyConflict",
    "ImpossibleTime",
    "InvalidTransition",
]
