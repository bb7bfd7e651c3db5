"""The phone-system API through httpx against the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.api import create_app
from core.config import ApiSettings, Settings
from core.models import Agent, AgentState, CallEvent, ContactPoint, Customer
from core.search.indexer import index_customers

TOKEN = "s3cret-token"


@pytest.fixture
async def client(db_url: str, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=db_url, api_tokens=("other", TOKEN), api=ApiSettings(max_body_bytes=2048)
    )
    app = create_app(settings, engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://frontline.test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        yield client


async def _agent(sessions: async_sessionmaker[AsyncSession], name: str, state: str) -> None:
    async with sessions() as session, session.begin():
        session.add(Agent(user_name=name, display_name=name.title(), state=state))


async def _count_events(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(
            (await session.execute(select(func.count()).select_from(CallEvent))).scalar_one()
        )


async def test_missing_or_wrong_token_is_refused(client: httpx.AsyncClient) -> None:
    body = {"caller_number": "+34 612 345 678"}
    missing = await client.post("/v1/calls/queued", json=body, headers={"Authorization": ""})
    wrong = await client.post(
        "/v1/calls/queued", json=body, headers={"Authorization": "Bearer nope"}
    )
    basic = await client.post(
        "/v1/calls/queued", json=body, headers={"Authorization": f"Basic {TOKEN}"}
    )
    assert [missing.status_code, wrong.status_code, basic.status_code] == [401, 401, 401]
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json() == {"detail": "missing bearer token"}
    # Even a malformed body gets 401 first: nothing is revealed without a token.
    garbage = await client.post(
        "/v1/calls/queued", content=b"{not json", headers={"Authorization": "Bearer nope"}
    )
    assert garbage.status_code == 401
    assert (await client.get("/healthz", headers={"Authorization": ""})).status_code == 200


async def test_malformed_json_and_unknown_fields_are_422(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    malformed = await client.post(
        "/v1/calls/queued",
        content=b'{"caller_number": "600111222",',
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["type"] == "json_invalid"

    unknown = await client.post(
        "/v1/calls/queued", json={"caller_number": "600111222", "colour": "blue"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["type"] == "extra_forbidden"

    both = await client.post("/v1/calls/answered", json={"call_id": 1, "external_id": "x"})
    neither = await client.post("/v1/calls/answered", json={})
    naive = await client.post(
        "/v1/calls/queued", json={"caller_number": "600111222", "at": "2026-05-01T10:00:00"}
    )
    letters = await client.post("/v1/calls/queued", json={"caller_number": "call me"})
    assert [both.status_code, neither.status_code, naive.status_code, letters.status_code] == [
        422,
        422,
        422,
        422,
    ]
    assert await _count_events(sessions) == 0


async def test_oversized_body_is_413(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    huge = {"caller_number": "600111222", "queue": "x" * 5000}
    response = await client.post("/v1/calls/queued", json=huge)
    assert response.status_code == 413
    assert await _count_events(sessions) == 0


async def test_a_retried_event_is_applied_once(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = {"caller_number": "+34 600 111 222", "queue": "sales", "external_id": "1716.42"}
    first = await client.post("/v1/calls/queued", json=body, headers={"Idempotency-Key": "k-1"})
    again = await client.post("/v1/calls/queued", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["call_id"] == first.json()["call_id"]
    assert again.json()["event_id"] == first.json()["event_id"]
    assert await _count_events(sessions) == 1

    # The same key for a different event is a client bug: refused, nothing applied.
    other = await client.post(
        "/v1/calls/abandoned", json={"external_id": "1716.42"}, headers={"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 409
    assert "already used" in other.json()["detail"]
    assert await _count_events(sessions) == 1

    # Without a key, the phone system's own call id still prevents a second call.
    no_key = await client.post("/v1/calls/queued", json=body)
    assert no_key.json()["call_id"] == first.json()["call_id"]
    assert no_key.json()["replayed"] is True


async def test_every_event_through_a_call_and_the_agent_follows(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _agent(sessions, "ana", AgentState.AVAILABLE)
    queued = await client.post(
        "/v1/calls/queued",
        json={"caller_number": "612345678", "queue": "billing", "external_id": "A-1"},
    )
    call_id = queued.json()["call_id"]
    assert queued.json()["state"] == "queued"

    steps = [
        ("offered", {"call_id": call_id, "agent": "ana"}, "offered", "available"),
        ("answered", {"external_id": "A-1"}, "answered", "on_call"),
        ("held", {"call_id": call_id}, "held", "on_call"),
        ("unheld", {"call_id": call_id}, "answered", "on_call"),
        ("ended", {"call_id": call_id}, "wrap_up", "wrap_up"),
        ("completed", {"call_id": call_id}, "completed", "available"),
    ]
    for n, (kind, body, call_state, agent_state) in enumerate(steps):
        response = await client.post(
            f"/v1/calls/{kind}", json=body, headers={"Idempotency-Key": f"A-1-{n}"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["state"] == call_state
        assert response.json()["agent"] == "ana"
        async with sessions() as session:
            agent = (await session.execute(select(Agent))).scalar_one()
        assert agent.state == agent_state, kind

    detail = (await client.get(f"/v1/calls/{call_id}")).json()
    assert [e["kind"] for e in detail["events"]] == [
        "queued",
        "offered",
        "answered",
        "held",
        "unheld",
        "ended",
        "completed",
    ]
    assert detail["events"][1]["agent"] == "ana"


async def test_impossible_events_are_409_and_unknown_calls_404(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _agent(sessions, "ben", AgentState.AVAILABLE)
    await _agent(sessions, "cris", AgentState.OFFLINE)
    at = datetime(2026, 5, 4, 9, 0, tzinfo=UTC).isoformat()
    queued = await client.post("/v1/calls/queued", json={"caller_number": "699000111", "at": at})
    call_id = queued.json()["call_id"]

    offline = await client.post("/v1/calls/offered", json={"call_id": call_id, "agent": "cris"})
    assert offline.status_code == 409
    assert "offline" in offline.json()["detail"]
    nobody = await client.post("/v1/calls/offered", json={"call_id": call_id, "agent": "zoe"})
    assert nobody.status_code == 404

    gone = await client.post("/v1/calls/abandoned", json={"call_id": call_id})
    assert gone.json()["state"] == "abandoned"
    answer = await client.post("/v1/calls/answered", json={"call_id": call_id, "agent": "ben"})
    assert answer.status_code == 409
    assert answer.json()["detail"] == f"call {call_id} is abandoned: it cannot be answered"

    missing = await client.post("/v1/calls/ended", json={"call_id": 999_999})
    assert missing.status_code == 404
    assert (await client.get("/v1/calls/999999")).status_code == 404
    # the refused events stored nothing
    assert await _count_events(sessions) == 2


async def test_agent_state_endpoint_needs_a_reason_for_a_break(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _agent(sessions, "dani", AgentState.OFFLINE)
    no_reason = await client.post("/v1/agents/dani/state", json={"state": "break"})
    assert no_reason.status_code == 409
    lunch = await client.post("/v1/agents/dani/state", json={"state": "break", "reason": "lunch"})
    assert lunch.status_code == 200
    assert lunch.json()["state"] == "break"
    assert lunch.json()["reason"] == "lunch"
    on_call = await client.post("/v1/agents/dani/state", json={"state": "on_call"})
    assert on_call.status_code == 422


async def test_lookup_returns_the_customers_for_a_caller_number(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        people = [
            Customer(
                external_id="C00000001", first_name="María", last_name="García", city="Sevilla"
            ),
            Customer(external_id="C00000002", first_name="Jon", last_name="Ugarte", city="Bilbao"),
            Customer(external_id="C00000003", first_name="Iker", last_name="Ugarte", city="Bilbao"),
        ]
        session.add_all(people)
        await session.flush()
        numbers = ["34612345678", "34944001122", "34944001122"]
        for person, number in zip(people, numbers, strict=True):
            assert person.id is not None
            session.add(
                ContactPoint(
                    customer_id=person.id,
                    kind="phone",
                    value=f"+{number}",
                    normalized=number,
                    is_primary=True,
                )
            )
        await session.flush()
        await index_customers(session, [p.id for p in people if p.id is not None])

    one = (await client.get("/v1/customers/by-phone", params={"number": "+34 612 34 56 78"})).json()
    assert one["count"] == 1
    assert one["customers"][0]["external_id"] == "C00000001"
    assert one["customers"][0]["name"] == "María García"

    family = (await client.get("/v1/customers/by-phone", params={"number": "944001122"})).json()
    assert sorted(c["external_id"] for c in family["customers"]) == ["C00000002", "C00000003"]

    nobody = (await client.get("/v1/customers/by-phone", params={"number": "+1 555 0100"})).json()
    assert nobody == {"number": "+1 555 0100", "count": 0, "customers": []}


async def test_openapi_documents_every_event(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json", headers={"Authorization": ""})).json()
    for kind in ["queued", "offered", "answered", "held", "unheld", "ended", "abandoned"]:
        assert f"/v1/calls/{kind}" in schema["paths"]
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
