"""Frontline as the ACD (`POST /v1/route`): who rings, in which order, and ring-no-answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from core.api import create_app
from core.config import Settings
from core.models import Agent, AgentState, Call, CallEvent

TOKEN = "acd-token"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def client(db_url: str, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=db_url, api_tokens=(TOKEN,)), engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://frontline.test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        yield client


async def _agents(
    sessions: async_sessionmaker[AsyncSession], *rows: tuple[str, str, str, int]
) -> None:
    """(user name, contact, queues, minutes available before T0)."""
    async with sessions() as session, session.begin():
        for name, contact, queues, minutes in rows:
            session.add(
                Agent(
                    user_name=name,
                    state=AgentState.AVAILABLE,
                    state_since=T0 - timedelta(minutes=minutes),
                    sip_contact=contact,
                    queues=queues,
                )
            )


def _call(external_id: str, number: str = "+34 600 111 222", queue: str = "sales") -> dict:
    return {"external_id": external_id, "caller_number": number, "queue": queue}


async def test_the_longest_available_agent_of_the_queue_rings(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _agents(
        sessions,
        ("ana", "sip:ana@127.0.0.1:5070", "sales,support", 5),
        ("bob", "sip:bob@127.0.0.1:5071", "", 9),
        ("cy", "sip:cy@127.0.0.1:5072", "support", 30),  # longest, but not in sales
        ("dee", "", "", 60),  # no SIP contact: not routable
    )
    first = await client.post("/v1/route", json=_call("sip-1"))
    assert first.status_code == 200
    body = first.json()
    assert (body["agent"], body["contact"], body["state"]) == (
        "bob",
        "sip:bob@127.0.0.1:5071",
        "offered",
    )
    # bob is ringing: the next call goes to ana; asking again for the first call repeats bob.
    assert (await client.post("/v1/route", json=_call("sip-2"))).json()["agent"] == "ana"
    assert (await client.post("/v1/route", json=_call("sip-1"))).json()["agent"] == "bob"
    nobody = await client.post("/v1/route", json=_call("sip-3"))
    assert nobody.json()["agent"] is None and nobody.json()["state"] == "queued"
    assert nobody.headers["Retry-After"] == str(nobody.json()["retry_after"])

    async with sessions() as session:
        call = (
            await session.execute(select(Call).where(col(Call.id) == body["call_id"]))
        ).scalar_one()
        assert call.caller_number == "+34 600 111 222"  # a '+' survives: JSON, not a query
        kinds = (
            (
                await session.execute(
                    select(col(CallEvent.kind))
                    .where(col(CallEvent.call_id) == call.id)
                    .order_by(col(CallEvent.id))
                )
            )
            .scalars()
            .all()
        )
        assert list(kinds) == ["queued", "offered"]


async def test_ring_no_answer_puts_the_agent_on_a_break_and_rings_the_next(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _agents(
        sessions,
        ("ana", "sip:ana@127.0.0.1:5070", "", 10),
        ("bob", "sip:bob@127.0.0.1:5071", "", 5),
    )
    assert (await client.post("/v1/route", json=_call("sip-9"))).json()["agent"] == "ana"
    again = await client.post("/v1/route", json={**_call("sip-9"), "no_answer": True})
    assert again.json()["agent"] == "bob"
    last = await client.post("/v1/route", json={**_call("sip-9"), "no_answer": True})
    assert last.json()["agent"] is None and last.json()["state"] == "queued"

    async with sessions() as session:
        agents = {
            a.user_name: (a.state, a.state_reason)
            for a in (await session.execute(select(Agent))).scalars()
        }
    assert agents == {"ana": ("break", "no answer"), "bob": ("break", "no answer")}
    detail = (await client.get(f"/v1/calls/{last.json()['call_id']}")).json()
    assert [e["kind"] for e in detail["events"]] == [
        "queued",
        "offered",
        "queued",
        "offered",
        "queued",
    ]


async def test_agent_contact_is_set_over_the_api(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    done = await client.put(
        "/v1/agents/eve/contact", json={"sip_contact": "sip:eve@127.0.0.1:5080", "queues": ["vip"]}
    )
    assert done.json() == {
        "agent": "eve",
        "sip_contact": "sip:eve@127.0.0.1:5080",
        "queues": ["vip"],
    }
    bad = await client.put("/v1/agents/eve/contact", json={"sip_contact": "eve at home"})
    assert bad.status_code == 422
    await client.post("/v1/agents/eve/state", json={"state": "available"})
    assert (await client.post("/v1/route", json=_call("v-1", queue="sales"))).json()[
        "agent"
    ] is None
    assert (await client.post("/v1/route", json=_call("v-2", queue="vip"))).json()["agent"] == "eve"


async def test_a_call_that_is_over_is_not_routed(client: httpx.AsyncClient) -> None:
    await client.post("/v1/calls/queued", json=_call("gone"))
    await client.post("/v1/calls/abandoned", json={"external_id": "gone"})
    refused = await client.post("/v1/route", json=_call("gone"))
    assert refused.status_code == 409
    assert (await client.post("/v1/route", json={"external_id": "x"})).status_code == 422
