"""Phone-system events: exactly once, validated, and in step with the agent's own actions."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.calls.events import CallEvents, EventRequest, InvalidTransition
from core.calls.lifecycle import CallService
from core.models import Agent, AgentState, Call, CallEvent, CallEventKind


async def _agents(sessions: async_sessionmaker[AsyncSession], *names: str) -> dict[str, int]:
    async with sessions() as session, session.begin():
        agents = [Agent(user_name=n, state=AgentState.AVAILABLE) for n in names]
        session.add_all(agents)
        await session.flush()
        return {a.user_name: a.id for a in agents if a.id is not None}


async def _agent_state(sessions: async_sessionmaker[AsyncSession], name: str) -> str:
    async with sessions() as session:
        agent = (
            await session.execute(select(Agent).where(Agent.user_name == name))  # type: ignore[arg-type]
        ).scalar_one()
        return agent.state


async def test_concurrent_retries_with_one_key_make_one_call(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    events = CallEvents(sessions)
    request = EventRequest(
        kind=CallEventKind.QUEUED, caller_number="600123123", idempotency_key="retry-me"
    )
    results = await asyncio.gather(*(events.apply(request) for _ in range(8)))
    assert len({r.call_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    async with sessions() as session:
        calls = (await session.execute(select(func.count()).select_from(Call))).scalar_one()
        logged = (await session.execute(select(func.count()).select_from(CallEvent))).scalar_one()
    assert (calls, logged) == (1, 1)


async def test_a_call_that_rings_unanswered_goes_back_to_the_queue(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _agents(sessions, "ana", "ben")
    events = CallEvents(sessions)
    call = await events.apply(
        EventRequest(kind=CallEventKind.QUEUED, caller_number="611", external_id="x1")
    )
    await events.apply(EventRequest(kind=CallEventKind.OFFERED, call_id=call.call_id, agent="ana"))
    # ana cannot get a second call while this one rings at her
    other = await events.apply(EventRequest(kind=CallEventKind.QUEUED, caller_number="622"))
    with pytest.raises(InvalidTransition, match="already has call"):
        await events.apply(
            EventRequest(kind=CallEventKind.OFFERED, call_id=other.call_id, agent="ana")
        )
    back = await events.apply(EventRequest(kind=CallEventKind.QUEUED, external_id="x1"))
    assert (back.state, back.agent) == ("queued", "")
    answered = await events.apply(
        EventRequest(kind=CallEventKind.ANSWERED, external_id="x1", agent="ben")
    )
    assert (answered.state, answered.agent) == ("answered", "ben")
    assert await _agent_state(sessions, "ben") == "on_call"
    assert await _agent_state(sessions, "ana") == "available"
    with pytest.raises(InvalidTransition, match="another agent"):
        await events.apply(EventRequest(kind=CallEventKind.ENDED, external_id="x1", agent="ana"))


async def test_phone_system_and_agent_console_agree(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _agents(sessions, "ana")
    events = CallEvents(sessions)
    console = CallService(sessions, CallEvents(sessions))
    call = await events.apply(EventRequest(kind=CallEventKind.QUEUED, caller_number="633"))
    await events.apply(EventRequest(kind=CallEventKind.OFFERED, call_id=call.call_id, agent="ana"))
    # The agent takes the call in the console; the phone system then reports the pick-up.
    await console.start(ids["ana"], None, "633", call_id=call.call_id)
    again = await events.apply(EventRequest(kind=CallEventKind.ANSWERED, call_id=call.call_id))
    assert again.replayed and again.state == "answered"
    assert await _agent_state(sessions, "ana") == "on_call"
    # The caller hangs up (phone system), the console's own "end" changes nothing more.
    ended = await events.apply(EventRequest(kind=CallEventKind.ENDED, call_id=call.call_id))
    assert ended.state == "wrap_up" and not ended.replayed
    await console.end(call.call_id)
    assert await _agent_state(sessions, "ana") == "wrap_up"
    await console.complete(call.call_id, "billing", "resolved", "paid twice; refunded")
    assert await _agent_state(sessions, "ana") == "available"
    late = await events.apply(EventRequest(kind=CallEventKind.COMPLETED, call_id=call.call_id))
    assert late.replayed and late.state == "completed"


async def test_agent_states_with_reasons(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _agents(sessions, "ana")
    events = CallEvents(sessions)
    status = await events.set_agent_state("ana", AgentState.BREAK, "training")
    assert (status.state, status.reason) == ("break", "training")
    call = await events.apply(EventRequest(kind=CallEventKind.QUEUED, caller_number="644"))
    with pytest.raises(InvalidTransition, match="is break, not available"):
        await events.apply(
            EventRequest(kind=CallEventKind.OFFERED, call_id=call.call_id, agent="ana")
        )
    with pytest.raises(InvalidTransition, match="follows the agent's calls"):
        await events.set_agent_state("ana", AgentState.ON_CALL)


def test_frontline_call_from_a_shell_script(sqlite_url: str) -> None:
    from console.cli import frontline

    env = {"FRONTLINE_DATABASE_URL": sqlite_url, "FRONTLINE_ENV_FILE": "/nonexistent"}
    runner = CliRunner()
    queued = runner.invoke(
        frontline, ["call", "queue", "+34 600 000 001", "--external-id", "1716.9"], env=env
    )
    assert queued.exit_code == 0, queued.output
    assert json.loads(queued.output)["state"] == "queued"
    abandoned = runner.invoke(frontline, ["call", "abandon", "1716.9", "--external"], env=env)
    assert json.loads(abandoned.output)["state"] == "abandoned"
    refused = runner.invoke(frontline, ["call", "answer", "1", "--agent", "nobody"], env=env)
    assert refused.exit_code == 1
    assert "no agent named 'nobody'" in refused.output
    bad = runner.invoke(frontline, ["call", "hold", "abc"], env=env)
    assert bad.exit_code == 2
    assert "--external" in bad.output


async def test_a_new_queued_call_is_stored_whole_and_announced(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from datetime import UTC, datetime

    from core.models import CallReference, ChangeEvent

    events = CallEvents(sessions)
    at = datetime(2026, 3, 2, 9, 15, 30, 250000, tzinfo=UTC)
    request = EventRequest(
        kind=CallEventKind.QUEUED,
        external_id="ast-1700000000.42",
        caller_number="+34 600 123 123",
        queue="sales",
        at=at,
        idempotency_key="ast-42-queued",
    )
    first = await events.apply(request)
    again = await events.apply(request)
    requeued = await events.apply(
        EventRequest(
            kind=CallEventKind.QUEUED, external_id="ast-1700000000.42", caller_number="600"
        )
    )
    assert (first.state, first.replayed, first.external_id) == (
        "queued",
        False,
        request.external_id,
    )
    assert (again.call_id, again.event_id, again.replayed) == (first.call_id, first.event_id, True)
    assert (requeued.call_id, requeued.replayed) == (first.call_id, True)
    async with sessions() as session:
        call = await session.get(Call, first.call_id)
        assert call is not None
        assert (call.caller_number, call.queue, call.state) == (
            "+34 600 123 123",
            "sales",
            "queued",
        )
        assert call.queued_at == at
        stored = (await session.execute(select(CallEvent))).scalars().all()
        assert [(e.id, e.kind, e.at, e.idempotency_key) for e in stored] == [
            (first.event_id, "queued", at, "ast-42-queued")
        ]
        assert json.loads(stored[0].payload) == {
            "caller_number": "+34 600 123 123",
            "external_id": "ast-1700000000.42",
            "queue": "sales",
        }
        ref = (await session.execute(select(CallReference.external_id))).scalars().all()
        assert ref == ["ast-1700000000.42"]
        changes = (await session.execute(select(ChangeEvent.topic, ChangeEvent.key))).all()
        assert [tuple(c) for c in changes] == [("call", str(first.call_id))]


async def test_a_burst_of_new_calls_with_retries_stores_each_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    events = CallEvents(sessions)
    requests = [
        EventRequest(
            kind=CallEventKind.QUEUED,
            external_id=f"burst-{i}",
            caller_number=f"60000{i:04d}",
            queue="support",
            idempotency_key=f"burst-{i}-queued",
        )
        for i in range(40)
    ]
    # Every event sent twice at once, as an impatient phone system would retry.
    results = await asyncio.gather(*(events.apply(r) for r in requests + requests))
    first, retried = results[:40], results[40:]
    assert len({r.call_id for r in first}) == 40
    for a, b in zip(first, retried, strict=True):
        assert a.call_id == b.call_id and a.external_id == b.external_id
        assert sorted([a.replayed, b.replayed]) == [False, True]
    async with sessions() as session:
        calls = (await session.execute(select(Call.caller_number))).scalars().all()
        logged = (await session.execute(select(func.count()).select_from(CallEvent))).scalar_one()
    assert sorted(calls) == sorted(r.caller_number for r in requests)
    assert logged == 40
