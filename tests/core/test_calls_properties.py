"""Property: whatever order and however often a call's events arrive, the call ends the same.

A call's life is drawn at random (abandoned in the queue, hung up while queued or ringing,
rung unanswered and re-queued, answered with holds and a conference, wrapped up or not), with
increasing times. It is applied once in order, and once more, as another call, with its
events shuffled and some sent twice (a retry with the same event id, or a resend with a new
one); the phone system's first report of a call is its `queued`. Both calls must end in the
same state, with the same times and the same agent state, and no duration below zero.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.calls.events import CallEvents
from core.calls.model import EventRequest
from core.db import make_engine, make_sessions
from core.models import Agent, AgentState, Call, CallEventKind, CallReference
from core.models.types import utcnow

K = CallEventKind
STAMPS = ("queued_at", "offered_at", "answered_at", "ended_at", "wrap_up_ended_at", "abandoned_at")
EXAMPLES = int(os.environ.get("FRONTLINE_PROPERTY_EXAMPLES", "15"))
"""Kept small so that `make test` stays fast; raise it to hunt (e.g. 500)."""
ORDER = ("queued_at", "offered_at", "answered_at", "ended_at", "wrap_up_ended_at")


@dataclass(frozen=True)
class Step:
    kind: CallEventKind
    agent: bool = False
    """The event names the call's agent."""


def _talk() -> st.SearchStrategy[list[Step]]:
    holds = st.lists(st.just([Step(K.HELD), Step(K.UNHELD)]), max_size=2).map(
        lambda pairs: [step for pair in pairs for step in pair]
    )
    return st.tuples(
        st.booleans(), holds, st.booleans(), st.booleans(), st.booleans(), st.booleans()
    ).map(
        lambda t: [
            Step(K.ANSWERED, agent=t[0]),
            *t[1],
            *([Step(K.CONFERENCED)] if t[2] else []),
            *([Step(K.HELD)] if t[3] else []),
            Step(K.ENDED),
            *([Step(K.COMPLETED)] if t[4] or t[5] else []),
        ]
    )


def _lives() -> st.SearchStrategy[list[Step]]:
    offered = [Step(K.OFFERED, agent=True)]
    return st.one_of(
        st.just([Step(K.ABANDONED)]),
        st.just([Step(K.ENDED)]),  # hung up in the queue
        st.just([*offered, Step(K.ENDED)]),  # hung up while ringing
        st.just([*offered, Step(K.QUEUED), *offered, Step(K.ABANDONED)]),
        _talk().map(lambda talk: [*offered, *talk]),
        _talk().map(lambda talk: [*offered, Step(K.QUEUED), *offered, *talk]),
        _talk().map(lambda talk: [replace(talk[0], agent=True), *talk[1:]]),  # no offer first
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Step], list[int], list[int], list[bool]]:
    life = draw(_lives())
    gaps = draw(st.lists(st.integers(1, 900), min_size=len(life), max_size=len(life)))
    later = draw(st.permutations(range(1, len(life) + 1)))
    twice = draw(st.lists(st.integers(0, len(life)), max_size=4))
    retry = draw(st.lists(st.booleans(), min_size=len(twice), max_size=len(twice)))
    return [Step(K.QUEUED), *life], [0, *gaps], [0, *later, *twice], retry


def _requests(
    life: list[Step], gaps: list[int], ext: str, agent: str, start: datetime
) -> list[EventRequest]:
    requests, at = [], start
    for n, (step, gap) in enumerate(zip(life, gaps, strict=True)):
        at += timedelta(seconds=gap)
        requests.append(
            EventRequest(
                kind=step.kind,
                external_id=ext,
                caller_number="600111222" if step.kind == K.QUEUED else "",
                queue="sales" if step.kind == K.QUEUED else "",
                agent=agent if step.agent else "",
                at=at,
                source="asterisk",
                source_event_id=f"{ext}-{n}",
            )
        )
    return requests


async def _outcome(events: CallEvents, ext: str, agent: str) -> tuple[object, ...]:
    async with events._sessions() as session:  # noqa: SLF001 - the test reads the same database
        call_id = (
            await session.execute(
                select(CallReference.call_id).where(CallReference.external_id == ext)  # type: ignore[arg-type]
            )
        ).scalar_one()
        call = await session.get(Call, call_id)
        held_by = await session.execute(select(Agent).where(Agent.user_name == agent))  # type: ignore[arg-type]
        person = held_by.scalar_one()
    assert call is not None
    times = [getattr(call, name) for name in ORDER]
    known = [t for t in times if t is not None]
    assert known == sorted(known), f"a duration below zero: {times}"
    if call.abandoned_at is not None:
        assert call.queued_at is not None and call.abandoned_at >= call.queued_at
    has_agent = call.agent_id == person.id if call.agent_id is not None else None
    return (call.state, *(getattr(call, name) for name in STAMPS), has_agent, person.state)


async def _check(
    url: str, life: list[Step], gaps: list[int], arrival: list[int], retry: list[bool]
) -> None:
    engine = make_engine(url)
    try:
        events = CallEvents(make_sessions(engine))
        run = uuid.uuid4().hex[:10]
        start = utcnow().replace(microsecond=0) - timedelta(hours=6)
        outcomes = []
        for label in ("ordered", "shuffled"):
            ext, agent = f"{run}-{label}", f"{run}-{label}-agent"
            await events.set_agent_state(agent, AgentState.AVAILABLE)
            requests = _requests(life, gaps, ext, agent, start)
            if label == "ordered":
                sent = requests
            else:
                copies = iter(retry)
                sent = [requests[i] for i in arrival[: len(requests)]]
                for i in arrival[len(requests) :]:  # duplicates: a retry, or a resend
                    again = requests[i]
                    if not next(copies):
                        again = replace(
                            again,
                            source_event_id=f"{again.source_event_id}-again",
                            idempotency_key=None,
                        )
                    sent.append(again)
            for request in sent:
                await events.apply(request)
            outcomes.append(await _outcome(events, ext, agent))
        assert outcomes[0] == outcomes[1]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_any_order_and_duplication_ends_like_the_ordered_call(
    backend: str, request: pytest.FixtureRequest
) -> None:
    url = str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_database_url"))

    @settings(
        max_examples=EXAMPLES if backend == "sqlite" else max(1, EXAMPLES // 2),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(scenarios())
    def check(scenario: tuple[list[Step], list[int], list[int], list[bool]]) -> None:
        asyncio.run(_check(url, *scenario))

    check()
