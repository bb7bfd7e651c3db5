"""Events applied by the time they happened: late, repeated, missing, impossible, never ended."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.api import create_app
from core.calls.errors import ImpossibleTime, InvalidTransition
from core.calls.events import CallEvents
from core.calls.model import AgentStateChange, EventRequest, Transfer
from core.config import CallSettings, Settings
from core.models import Agent, AgentState, Call, CallEvent, CallEventKind
from core.models.types import utcnow

K = CallEventKind
TOKEN = "order-token"
T0 = utcnow().replace(microsecond=0) - timedelta(hours=1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def _agents(sessions: async_sessionmaker[AsyncSession], *names: str) -> None:
    async with sessions() as session, session.begin():
        session.add_all(Agent(user_name=n, state=AgentState.AVAILABLE) for n in names)


async def _call(sessions: async_sessionmaker[AsyncSession], call_id: int) -> Call:
    async with sessions() as session:
        call = await session.get(Call, call_id)
    assert call is not None
    return call


async def _agent_state(sessions: async_sessionmaker[AsyncSession], name: str) -> str:
    async with sessions() as session:
        found = await session.execute(select(Agent.state).where(Agent.user_name == name))  # type: ignore[arg-type]
        return str(found.scalar_one())


async def _events(sessions: async_sessionmaker[AsyncSession], call_id: int) -> list[CallEvent]:
    async with sessions() as session:
        found = await session.execute(
            select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id)  # type: ignore[arg-type]
        )
        return list(found.scalars())


def ev(kind: CallEventKind, seconds: float, ext: str = "c1", **extra: object) -> EventRequest:
    return EventRequest(kind=kind, external_id=ext, at=at(seconds), source="asterisk", **extra)  # type: ignore[arg-type]


async def test_a_late_answer_after_the_hang_up_gives_the_right_times(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _agents(sessions, "ana")
    events = CallEvents(sessions)
    queued = await events.apply(ev(K.QUEUED, 0, caller_number="600"))
    await events.apply(ev(K.OFFERED, 5, agent="ana"))
    # the hang-up overtakes the answer: on its own it is a caller who gave up
    hung_up = await events.apply(ev(K.ENDED, 65))
    assert hung_up.state == "abandoned"
    late = await events.apply(ev(K.ANSWERED, 10))
    assert late.state == "wrap_up"
    call = await _call(sessions, queued.call_id)
    assert (call.state, call.answered_at, call.ended_at, call.abandoned_at) == (
        "wrap_up",
        at(10),
        at(65),
        None,
    )
    assert call.ended_at - call.answered_at == timedelta(seconds=55)  # the handle time
    assert await _agent_state(sessions, "ana") == "wrap_up"
    done = await events.apply(ev(K.COMPLETED, 90))
    assert done.state == "completed"
    assert await _agent_state(sessions, "ana") == "available"


async def test_a_hang_up_with_no_answer_is_an_abandon_and_repeats_change_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    events = CallEvents(sessions)
    queued = await events.apply(ev(K.QUEUED, 0, caller_number="600"))
    first = await events.apply(ev(K.ENDED, 30, source_event_id="h-1"))
    again = await events.apply(ev(K.ENDED, 30, source_event_id="h-1"))
    resent = await events.apply(ev(K.ENDED, 30, source_event_id="h-2"))  # same, new id
    assert (first.state, again.replayed, again.event_id) == ("abandoned", True, first.event_id)
    assert resent.state == "abandoned"
    call = await _call(sessions, queued.call_id)
    assert call.abandoned_at == at(30)
    stored = await _events(sessions, queued.call_id)
    assert [e.kind for e in stored] == ["queued", "ended", "ended"]
    assert [e.idempotency_key for e in stored[1:]] == ["asterisk:h-1", "asterisk:h-2"]


async def test_an_event_with_a_gap_waits_until_the_gap_is_filled(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _agents(sessions, "ana")
    events = CallEvents(sessions)
    queued = await events.apply(ev(K.QUEUED, 0, caller_number="600"))
    waiting = await events.apply(ev(K.COMPLETED, 200))
    assert (waiting.state, waiting.event_id is not None) == ("queued", True)
    await events.apply(ev(K.ENDED, 120))
    await events.apply(ev(K.ANSWERED, 20))
    await events.apply(ev(K.OFFERED, 8, agent="ana"))
    call = await _call(sessions, queued.call_id)
    assert call.state == "completed"
    stamps = (call.queued_at, call.offered_at, call.answered_at, call.ended_at)
    assert stamps == (at(0), at(8), at(20), at(120))
    assert call.wrap_up_ended_at == at(200)
    assert await _agent_state(sessions, "ana") == "available"


async def test_the_console_is_never_late_and_finished_calls_stay_finished(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    events = CallEvents(sessions)
    queued = await events.apply(ev(K.QUEUED, 0, caller_number="600"))
    with pytest.raises(InvalidTransition, match="queued: it cannot be ended"):
        await events.apply(EventRequest(kind=K.ENDED, call_id=queued.call_id, source="console"))
    await events.apply(ev(K.ABANDONED, 40))
    with pytest.raises(InvalidTransition, match="abandoned: it cannot be answered"):
        await events.apply(ev(K.ANSWERED, 50))
    assert [e.kind for e in await _events(sessions, queued.call_id)] == ["queued", "abandoned"]


async def test_transfers_blind_consult_and_back_to_a_queue(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _agents(sessions, "ana", "ben", "cris")
    events = CallEvents(sessions)
    await events.apply(ev(K.QUEUED, 0, caller_number="600", queue="sales"))
    await events.apply(ev(K.ANSWERED, 5, agent="ana"))
    blind = await events.apply(ev(K.TRANSFERRED, 30, transfer=Transfer("blind", to_agent="ben")))
    assert (blind.state, blind.agent) == ("offered", "ben")
    assert await _agent_state(sessions, "ana") == "wrap_up"  # after-call work for her part
    answered = await events.apply(ev(K.ANSWERED, 35))
    assert (answered.state, answered.agent) == ("answered", "ben")
    consult = await events.apply(
        ev(K.TRANSFERRED, 60, transfer=Transfer("consult", to_agent="cris"))
    )
    assert (consult.state, consult.agent) == ("answered", "cris")
    assert (await _agent_state(sessions, "ben"), await _agent_state(sessions, "cris")) == (
        "wrap_up",
        "on_call",
    )
    queue = await events.apply(ev(K.TRANSFERRED, 90, transfer=Transfer(to_queue="billing")))
    assert (queue.state, queue.agent, queue.queue) == ("queued", "", "billing")
    assert await _agent_state(sessions, "cris") == "wrap_up"
    call = await _call(sessions, queue.call_id)
    assert call.answered_at == at(5)  # the first answer: what the caller waited for


async def test_a_transferred_agent_on_a_new_call_stays_on_it_when_the_old_call_is_replayed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Ana hands a call over and takes the next one; late events of the first call (dated
    while it was hers) are replayed, and she is still on her call, never "available"."""
    await _agents(sessions, "ana", "ben")
    events = CallEvents(sessions)
    await events.apply(ev(K.QUEUED, 0, caller_number="600", queue="sales"))
    await events.apply(ev(K.ANSWERED, 5, agent="ana"))
    await events.apply(ev(K.TRANSFERRED, 30, transfer=Transfer("blind", to_agent="ben")))
    await events.apply(ev(K.ANSWERED, 32))
    await events.report(AgentStateChange(agent="ana", state=AgentState.AVAILABLE, at=at(40)))
    await events.apply(ev(K.QUEUED, 41, ext="c2", caller_number="601", queue="sales"))
    await events.apply(ev(K.ANSWERED, 45, ext="c2", agent="ana"))
    assert await _agent_state(sessions, "ana") == "on_call"

    for late in (ev(K.HELD, 10), ev(K.UNHELD, 12), ev(K.OFFERED, 4, agent="ana")):
        await events.apply(late)
        assert await _agent_state(sessions, "ana") == "on_call"
        assert await _agent_state(sessions, "ben") == "on_call"
    await events.apply(ev(K.ENDED, 50))  # ben's caller hangs up: ana's call goes on
    assert (await _agent_state(sessions, "ana"), await _agent_state(sessions, "ben")) == (
        "on_call",
        "wrap_up",
    )


async def test_the_canonical_event_is_stored_with_its_raw_payload(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    events = CallEvents(sessions)
    raw = {"Event": "QueueCallerJoin", "Uniqueid": "1716.1", "CallerIDNum": "+34600"}
    queued = await events.apply(
        EventRequest(
            kind=K.QUEUED,
            external_id="1716.1",
            caller_number="+34600",
            at=at(0),
            source="asterisk",
            source_event_id="1716.1-join",
            leg_id="SIP/trunk-0001",
            raw=raw,
        )
    )
    held = await events.apply(
        EventRequest(
            kind=K.HELD,
            external_id="1716.1",
            at=at(9),
            source="asterisk",
            source_event_id="1716.1-hold",
            raw="Event: Hold\r\nUniqueid: 1716.1\r\n",
        )
    )
    assert held.state == "queued"  # no answer yet: it waits for it
    stored = await _events(sessions, queued.call_id)
    assert [(e.source, e.source_event_id, e.leg_id) for e in stored] == [
        ("asterisk", "1716.1-join", "SIP/trunk-0001"),
        ("asterisk", "1716.1-hold", None),
    ]
    assert json.loads(stored[0].raw or "") == raw
    assert stored[1].raw == "Event: Hold\r\nUniqueid: 1716.1\r\n"
    assert stored[0].idempotency_key == "asterisk:1716.1-join"
    status = await events.report(AgentStateChange("dora", AgentState.BREAK, "lunch"))
    assert (getattr(status, "state", None), getattr(status, "reason", None)) == ("break", "lunch")


async def test_a_call_whose_end_never_arrives_is_closed_and_flagged(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _agents(sessions, "ana")
    events = CallEvents(sessions)
    old = utcnow() - timedelta(hours=5)
    talking = await events.apply(
        EventRequest(kind=K.QUEUED, external_id="s1", caller_number="600", at=old)
    )
    await events.apply(EventRequest(kind=K.ANSWERED, external_id="s1", agent="ana", at=old))
    waiting = await events.apply(
        EventRequest(kind=K.QUEUED, external_id="s2", caller_number="601", at=old)
    )
    fresh = await events.apply(EventRequest(kind=K.QUEUED, external_id="s3", caller_number="6"))
    closed = await events.sweep_stale(timedelta(hours=4))
    assert {(c.call_id, c.state) for c in closed} == {
        (talking.call_id, "completed"),
        (waiting.call_id, "abandoned"),
    }
    assert (await _call(sessions, fresh.call_id)).state == "queued"
    assert await _agent_state(sessions, "ana") == "available"
    assert [e.kind for e in await _events(sessions, talking.call_id)][-1] == "closed_stale"
    assert await events.sweep_stale(timedelta(hours=4)) == []
    # the real end, arriving after the sweep with its own time, still lands
    late = await events.apply(
        EventRequest(kind=K.ENDED, external_id="s1", at=old + timedelta(minutes=3))
    )
    assert late.state == "completed"
    call = await _call(sessions, talking.call_id)
    assert call.ended_at == old + timedelta(minutes=3)


def test_frontline_call_sweep_runs_once(sqlite_url: str) -> None:
    from console.cli import frontline

    env = {"FRONTLINE_DATABASE_URL": sqlite_url, "FRONTLINE_ENV_FILE": "/nonexistent"}
    runner = CliRunner()
    old = (utcnow() - timedelta(hours=2)).isoformat()
    runner.invoke(frontline, ["call", "queue", "600", "--external-id", "z1", "--at", old], env=env)
    kept = runner.invoke(frontline, ["call", "sweep"], env=env)
    assert json.loads(kept.output) == {"closed": 0, "calls": []}
    swept = runner.invoke(frontline, ["call", "sweep", "--after", "60"], env=env)
    assert swept.exit_code == 0, swept.output
    out = json.loads(swept.output)
    assert (out["closed"], out["calls"][0]["state"]) == (1, "abandoned")


async def test_the_api_closes_stale_calls_on_its_own(
    db_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    events = CallEvents(sessions)
    old = utcnow() - timedelta(hours=2)
    stuck = await events.apply(EventRequest(kind=K.QUEUED, caller_number="600", at=old))
    settings = Settings(
        database_url=db_url, api_tokens=(TOKEN,), calls=CallSettings(stale_after_minutes=60)
    )
    app = create_app(settings, engine=engine)
    async with app.router.lifespan_context(app):
        for _ in range(200):  # the sweep runs as the API starts
            if (await _call(sessions, stuck.call_id)).state != "queued":
                break
            await asyncio.sleep(0.05)
    assert (await _call(sessions, stuck.call_id)).state == "abandoned"


@pytest.fixture
async def client(db_url: str, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=db_url, api_tokens=(TOKEN,)), engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://frontline.test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        yield client


@pytest.mark.parametrize(
    ("when", "says"),
    [
        (lambda: (T0 - timedelta(seconds=1)).isoformat(), "before call"),
        (lambda: (utcnow() + timedelta(days=2)).isoformat(), "in the future"),
        (lambda: (utcnow() - timedelta(days=5 * 365)).isoformat(), "two years ago"),
        (lambda: "0001-01-01T00:00:00+05:00", "out of range"),
        (lambda: "9999-12-31T23:00:00-05:00", "out of range"),
        (lambda: "2026-05-04T09:00:00", "timezone"),
    ],
)
async def test_impossible_times_are_refused_with_422(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    when: object,
    says: str,
) -> None:
    body = {"caller_number": "600", "external_id": "t1", "at": T0.isoformat()}
    assert (await client.post("/v1/calls/queued", json=body)).status_code == 201
    moment = when()  # type: ignore[operator]
    held = await client.post("/v1/calls/held", json={"external_id": "t1", "at": moment})
    assert held.status_code == 422, held.text
    assert says in held.text
    new = await client.post("/v1/calls/queued", json={"caller_number": "6", "at": moment})
    assert new.status_code == 422 if says != "before call" else new.status_code == 201
    async with sessions() as session:
        stored = (await session.execute(select(func.count()).select_from(CallEvent))).scalar_one()
    assert stored == (1 if says != "before call" else 2)


async def test_the_api_takes_canonical_fields_and_transfers(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _agents(sessions, "ana", "ben")
    common = {"source": "kamailio", "raw": {"method": "INVITE", "from": "+34600"}}
    first = await client.post(
        "/v1/calls/queued",
        json={"caller_number": "+34600", "external_id": "d1", "source_event_id": "e1", **common},
    )
    again = await client.post(
        "/v1/calls/queued",
        json={"caller_number": "+34600", "external_id": "d1", "source_event_id": "e1", **common},
    )
    assert (first.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    await client.post("/v1/calls/answered", json={"external_id": "d1", "agent": "ana"})
    moved = await client.post(
        "/v1/calls/transferred", json={"external_id": "d1", "to_agent": "ben", "mode": "consult"}
    )
    assert (moved.status_code, moved.json()["agent"]) == (200, "ben"), moved.text
    both = await client.post(
        "/v1/calls/transferred", json={"external_id": "d1", "to_agent": "ana", "to_queue": "q"}
    )
    assert both.status_code == 422
    joined = await client.post("/v1/calls/conferenced", json={"external_id": "d1"})
    assert joined.json()["state"] == "answered"
    async with sessions() as session:
        row = (await session.execute(select(CallEvent).order_by(CallEvent.id))).scalars().first()  # type: ignore[arg-type]
    assert row is not None and (row.source, row.idempotency_key) == ("kamailio", "kamailio:e1")
    assert json.loads(row.raw or "") == common["raw"]


async def test_a_naive_time_from_python_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    events = CallEvents(sessions)
    with pytest.raises(ImpossibleTime, match="UTC offset"):
        await events.apply(
            EventRequest(kind=K.QUEUED, caller_number="600", at=datetime(2026, 5, 4, 9))
        )
    with pytest.raises(ImpossibleTime):
        await events.set_agent_state("ana", AgentState.AVAILABLE, at=datetime(1, 1, 1, tzinfo=UTC))
