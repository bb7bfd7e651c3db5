"""The console's own steps go through the state machine: logged, once, in any order with the PBX."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.calls import postgres_calls, sqlite_calls
from core.calls.events import CallEvents, EventRequest
from core.calls.lifecycle import CallService
from core.calls.new_call import NewCall, new_call
from core.calls.states import NEW, TABLE
from core.db import make_engine, make_sessions
from core.models import (
    Agent,
    AgentState,
    Call,
    CallEvent,
    CallEventKind,
    CallReference,
    ChangeEvent,
    Customer,
    Interaction,
)
from tests.conftest import _truncate_all

K = CallEventKind


async def _agent(sessions: async_sessionmaker[AsyncSession], name: str) -> int:
    async with sessions() as session, session.begin():
        agent = Agent(user_name=name, state=AgentState.AVAILABLE)
        session.add(agent)
        await session.flush()
        assert agent.id is not None
        return agent.id


async def _customer(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session, session.begin():
        customer = Customer(external_id="C00000001", first_name="Ana", last_name="Ruiz")
        session.add(customer)
        await session.flush()
        assert customer.id is not None
        return customer.id


async def _log(sessions: async_sessionmaker[AsyncSession], call_id: int) -> list[tuple[str, str]]:
    """(kind, source) of each stored event of the call, in order."""
    async with sessions() as session:
        stored = (
            await session.execute(
                select(CallEvent)
                .where(col(CallEvent.call_id) == call_id)
                .order_by(col(CallEvent.id))
            )
        ).scalars()
        return [(e.kind, json.loads(e.payload).get("source", "")) for e in stored]


async def _row(sessions: async_sessionmaker[AsyncSession], call_id: int) -> Call:
    async with sessions() as session:
        call = await session.get(Call, call_id)
    assert call is not None
    return call


async def _agent_state(sessions: async_sessionmaker[AsyncSession], agent_id: int) -> str:
    async with sessions() as session:
        agent = await session.get(Agent, agent_id)
    assert agent is not None
    return agent.state


async def test_each_console_step_writes_its_event_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ana = await _agent(sessions, "ana")
    customer = await _customer(sessions)
    pbx = CallEvents(sessions)
    console = CallService(sessions, pbx)
    call_id = (await pbx.apply(EventRequest(kind=K.QUEUED, caller_number="611"))).call_id
    await pbx.apply(EventRequest(kind=K.OFFERED, call_id=call_id, agent="ana"))
    for _ in range(2):  # every step twice, as a double key press or a retry would
        taken = await console.start(ana, None, "611", call_id=call_id)
    assert (taken.state, taken.agent_id) == ("answered", ana)
    await console.identify(call_id, customer)
    for _ in range(2):
        await console.hold(call_id)
    await console.unhold(call_id)
    for _ in range(2):
        await console.end(call_id)
    assert await _agent_state(sessions, ana) == "wrap_up"
    for _ in range(2):
        saved = await console.complete(call_id, "billing", "resolved", "refunded")
    assert saved is not None and saved.notes == "refunded"
    assert await _log(sessions, call_id) == [
        ("queued", ""),
        ("offered", ""),
        ("answered", "console"),
        ("identified", "console"),
        ("held", "console"),
        ("unheld", "console"),
        ("ended", "console"),
        ("completed", "console"),
    ]
    assert await _agent_state(sessions, ana) == "available"
    async with sessions() as session:
        interactions = (await session.execute(select(Interaction))).scalars().all()
        agent_keys = (
            await session.execute(select(ChangeEvent.key).where(col(ChangeEvent.topic) == "agent"))
        ).scalars()
        assert set(agent_keys) == {"ana"}  # one key scheme: the user name, on both paths
    assert [i.customer_id for i in interactions] == [customer]


async def test_a_call_taken_at_the_console_alone_is_logged_but_never_queued(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    luis = await _agent(sessions, "luis")
    call = await CallService(sessions, CallEvents(sessions)).start(luis, None, "+34 600 000 001")
    assert call.id is not None
    stored = await _row(sessions, call.id)
    assert (stored.state, stored.agent_id, stored.queued_at) == ("answered", luis, None)
    assert stored.answered_at is not None
    assert await _log(sessions, call.id) == [("answered", "console")]
    assert await _agent_state(sessions, luis) == "on_call"


@pytest.mark.parametrize("pbx_steps", [("ended",), ("ended", "completed")])
async def test_wrap_up_lands_when_the_phone_system_finished_first(
    sessions: async_sessionmaker[AsyncSession], pbx_steps: tuple[str, ...]
) -> None:
    eva = await _agent(sessions, "eva")
    customer = await _customer(sessions)
    pbx = CallEvents(sessions)
    console = CallService(sessions, pbx)
    call_id = (await pbx.apply(EventRequest(kind=K.QUEUED, caller_number="622"))).call_id
    await pbx.apply(EventRequest(kind=K.OFFERED, call_id=call_id, agent="eva"))
    await console.start(eva, customer, "622", call_id=call_id)  # the screen pop, taken
    for kind in pbx_steps:  # the caller hangs up; after-call work times out
        await pbx.apply(EventRequest(kind=CallEventKind(kind), call_id=call_id))
    saved = await console.complete(call_id, "billing", "resolved", "paid twice", date(2026, 7, 1))
    again = await console.complete(call_id, "billing", "resolved", "paid twice", date(2026, 7, 1))
    assert saved is not None and again is not None and again.id == saved.id
    assert (saved.subject, saved.outcome, saved.notes, saved.agent) == (
        "Billing",
        "resolved",
        "paid twice",
        "eva",
    )
    call = await _row(sessions, call_id)
    assert (call.state, call.reason, call.disposition, call.notes) == (
        "completed",
        "billing",
        "resolved",
        "paid twice",
    )
    assert call.follow_up_on == date(2026, 7, 1)
    assert await _agent_state(sessions, eva) == "available"
    async with sessions() as session:
        count = len((await session.execute(select(Interaction))).scalars().all())
    assert count == 1
    assert [k for k, _ in await _log(sessions, call_id)][-1] == "completed"


async def test_late_and_repeated_phone_events_end_in_the_right_state(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ben = await _agent(sessions, "ben")
    pbx = CallEvents(sessions)
    t0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    call_id = (
        await pbx.apply(EventRequest(kind=K.QUEUED, caller_number="633", external_id="x9", at=t0))
    ).call_id
    arrivals = [
        (K.OFFERED, "ben"),
        (K.ANSWERED, ""),
        (K.ANSWERED, ""),  # repeated
        (K.HELD, ""),
        (K.ENDED, ""),
        (K.UNHELD, ""),  # late: the caller came back from hold before hanging up
        (K.ANSWERED, ""),  # late
        (K.ENDED, ""),  # repeated
        (K.COMPLETED, ""),
        (K.ENDED, ""),  # late
        (K.HELD, ""),  # late
    ]
    for n, (kind, agent) in enumerate(arrivals):
        at = t0 + timedelta(seconds=10 * (n + 1))
        await pbx.apply(EventRequest(kind=kind, external_id="x9", agent=agent, at=at))
    # a retry with the same key is one event, not two
    retry = EventRequest(kind=K.COMPLETED, external_id="x9", idempotency_key="x9-done")
    first, second = await pbx.apply(retry), await pbx.apply(retry)
    assert second.replayed and second.event_id == first.event_id
    call = await _row(sessions, call_id)
    assert call.state == "completed" and call.agent_id == ben
    assert call.queued_at == t0
    assert call.answered_at == t0 + timedelta(seconds=20)  # the first answer, not the late one
    assert call.ended_at == t0 + timedelta(seconds=50)
    assert await _agent_state(sessions, ben) == "available"
    # Every report of the open call is kept with its time (a later replay places it); the
    # ones after its completion can never matter and are not.
    assert [k for k, _ in await _log(sessions, call_id)] == [
        "queued",
        "offered",
        "answered",
        "answered",
        "held",
        "ended",
        "unheld",
        "answered",
        "ended",
        "completed",
    ]


async def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = make_engine(url)
    try:
        async with make_sessions(engine)() as session:
            calls = (await session.execute(select(Call).order_by(col(Call.id)))).scalars()
            refs = (await session.execute(select(CallReference))).scalars()
            events = (
                await session.execute(select(CallEvent).order_by(col(CallEvent.id)))
            ).scalars()
            changes = (await session.execute(select(ChangeEvent))).scalars()
            return {
                "call": [tuple(c.model_dump().items()) for c in calls],
                "call_reference": sorted(tuple(r.model_dump().items()) for r in refs),
                "call_event": [tuple(e.model_dump().items()) for e in events],
                "change_event": sorted((c.at, c.topic, c.key) for c in changes),
            }
    finally:
        await engine.dispose()


def _random_calls(rng: random.Random, agent_id: int, customer_id: int) -> list[NewCall]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    made: list[NewCall] = []
    for n in range(60):
        at = base + timedelta(seconds=rng.randrange(10**7), microseconds=rng.randrange(10**6))
        key = rng.choice([None, f"k{n}", f"k{n % 7}"])  # some keys repeat: not written twice
        if rng.random() < 0.7:
            request = EventRequest(
                kind=K.QUEUED,
                external_id=rng.choice([None, f"ext-{n}", f"ext-{n % 5}"]),
                caller_number=rng.choice(["+34 600 000 001", "611", "ñ 612"]),
                queue=rng.choice(["", "sales", "support"]),
                at=at,
                idempotency_key=key,
            )
            made.append(new_call(request))
        else:
            request = EventRequest(
                kind=K.ANSWERED,
                caller_number=rng.choice(["", "622"]),
                agent_id=agent_id,
                customer_id=rng.choice([None, customer_id]),
                source="console",
                at=at,
                idempotency_key=key,
            )
            made.append(new_call(request, agent_id))
        made[-1] = replace(made[-1], now=at + timedelta(seconds=1))  # the same on both
    return made


async def test_the_two_new_call_writers_write_the_same_rows(
    sqlite_url: str, pg_database_url: str
) -> None:
    assert {kind for state, kind in TABLE if state is NEW} == {K.QUEUED, K.ANSWERED}
    await _truncate_all(pg_database_url)
    written: dict[str, list[tuple[int, int] | None]] = {}
    for url, writer in (
        (sqlite_url, sqlite_calls.insert),
        (pg_database_url, postgres_calls.insert),
    ):
        engine = make_engine(url)
        sessions = make_sessions(engine)
        try:
            agent_id = await _agent(sessions, "ana")
            customer_id = await _customer(sessions)
            outcomes = []
            for rows in _random_calls(random.Random(11), agent_id, customer_id):
                async with sessions() as session, session.begin():
                    outcomes.append(await writer(session, rows))
            written[url] = outcomes
        finally:
            await engine.dispose()
    assert written[sqlite_url] == written[pg_database_url]
    assert any(w is None for w in written[sqlite_url])  # repeated keys and ids were refused
    on_sqlite, on_postgres = await _rows(sqlite_url), await _rows(pg_database_url)
    assert on_sqlite["call"] and on_sqlite == on_postgres


async def test_wrap_up_fields_go_into_the_stored_event(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ines = await _agent(sessions, "ines")
    console = CallService(sessions, CallEvents(sessions))
    call = await console.start(ines, None)
    assert call.id is not None
    await console.complete(call.id, "other", "no action", "wrong number")
    async with sessions() as session:
        last = (
            (
                await session.execute(
                    select(CallEvent)
                    .where(col(CallEvent.call_id) == call.id)
                    .order_by(col(CallEvent.id).desc())
                )
            )
            .scalars()
            .first()
        )
    assert last is not None and last.kind == "completed"
    body = json.loads(last.payload)
    assert (body["reason"], body["disposition"], body["notes"]) == (
        "other",
        "no action",
        "wrong number",
    )
