"""Hostile input to the API, on SQLite and PostgreSQL: what schemathesis and a tester found
(issue 13). Every refusal is a 422 naming the field, and nothing is stored."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.api import create_app
from core.config import Settings
from core.models import Agent, Call, CallEvent
from core.models.types import sqlite_time

TOKEN = "hostile-token"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def client(db_url: str, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=db_url, api_tokens=(TOKEN,)), engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://frontline.test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        yield client


async def _stored(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    async with sessions() as session:
        counts = []
        for table in (Call, CallEvent, Agent):
            counts.append(
                int((await session.execute(select(func.count()).select_from(table))).scalar_one())
            )
        return counts[0], counts[1], counts[2]


async def test_bodies_are_strict_but_iso_times_with_an_offset_work(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for body in (
        {"caller_number": "600", "at": 1764670000},  # an epoch number is not a time
        {"caller_number": "600", "at": "1764670000"},
        {"caller_number": 600},  # a number is not a caller number
        {"caller_number": "600", "call_id": True},  # true is not a call id
        {"caller_number": "600", "call_id": "1"},
    ):
        answer = await client.post("/v1/calls/queued", json=body)
        assert answer.status_code == 422, (body, answer.text)
    assert await _stored(sessions) == (0, 0, 0)

    now = datetime.now(UTC).replace(microsecond=0)
    for n, at in enumerate((now.isoformat(), now.strftime("%Y-%m-%dT%H:%M:%SZ"))):
        body = {"caller_number": "600", "external_id": f"iso-{n}", "at": at}
        answer = await client.post("/v1/calls/queued", json=body)
        assert answer.status_code == 201, answer.text
        assert answer.json()["at"].startswith(now.strftime("%Y-%m-%dT%H:%M:%S"))
    held = await client.post(
        "/v1/calls/held", json={"external_id": "iso-0", "at": "2026-12-02T25:00:00+01:00"}
    )
    assert held.status_code == 422


@pytest.mark.parametrize(
    ("path", "raw", "says"),
    [
        ("/v1/calls/queued", '{"caller_number": "1", "queue": "a\\u0000b"}', "NUL"),
        ("/v1/calls/queued", '{"caller_number": "1", "external_id": "\\ud800"}', "surrogate"),
        ("/v1/calls/queued", '{"caller_number": "1", "raw": {"x": NaN}}', "NaN"),
        ("/v1/calls/queued", '{"caller_number": "1", "raw": {"k\\u0000": 1}}', "NUL"),
        ("/v1/calls/queued", '{"caller_number": "1", "call_id": 99999999999999999999}', "call_id"),
        ("/v1/calls/offered", '{"call_id": 1, "agent": "a\\u0000"}', "NUL"),
        ("/v1/calls/offered", '{"call_id": 1, "agent": "' + "a" * 101 + '"}', "100"),
        ("/v1/calls/held", '{"call_id": 1, "at": "0001-01-01T00:00:00+05:00"}', "out of range"),
        ("/v1/calls/held", '{"call_id": 1, "at": "9999-12-31T23:59:59-05:00"}', "out of range"),
        ("/v1/agents/" + "b" * 101 + "/state", '{"state": "available"}', "100"),
        ("/v1/agents/a%00b/state", '{"state": "available"}', "user_name"),
        ("/v1/agents/x/state", '{"state": "break", "reason": "\\ud83d"}', "surrogate"),
        ("/v1/route", '{"caller_number": "1", "external_id": "r\\u0000"}', "NUL"),
    ],
)
async def test_what_no_database_stores_is_refused_with_422(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    path: str,
    raw: str,
    says: str,
) -> None:
    first = await client.post("/v1/calls/queued", json={"caller_number": "600"})
    assert first.status_code == 201
    before = await _stored(sessions)
    answer = await client.post(path, content=raw.encode(), headers=JSON)
    assert answer.status_code == 422, answer.text
    assert says in answer.text
    assert await _stored(sessions) == before


async def test_huge_ids_in_the_path_are_422_not_500(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/calls/2888698495")).status_code == 422
    assert (await client.get(f"/v1/calls/{10**30}")).status_code == 422
    assert (await client.get("/v1/calls/7")).status_code == 404


async def test_a_key_used_again_for_another_body_is_409(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        session.add_all([Agent(user_name=name, state="available") for name in ("maria", "joan")])
    key = {"Idempotency-Key": "1716.42-queued"}
    body = {"caller_number": "+34 612 345 678", "external_id": "1716.42", "queue": "sales"}
    first = await client.post("/v1/calls/queued", json=body, headers=key)
    assert first.status_code == 201
    again = await client.post("/v1/calls/queued", json=body, headers=key)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await client.post(
        "/v1/calls/queued", json={**body, "caller_number": "+34 699 000 000"}, headers=key
    )
    assert other.status_code == 409
    assert "1716.42-queued" in other.json()["detail"]

    offer = {"external_id": "1716.42", "agent": "maria", "at": first.json()["at"]}
    okey = {"Idempotency-Key": "1716.42-offered"}
    assert (await client.post("/v1/calls/offered", json=offer, headers=okey)).status_code == 200
    to_joan = await client.post("/v1/calls/offered", json={**offer, "agent": "joan"}, headers=okey)
    assert to_joan.status_code == 409
    later = await client.post(
        "/v1/calls/offered", json={**offer, "at": datetime.now(UTC).isoformat()}, headers=okey
    )
    assert later.status_code == 409
    assert "time" in later.json()["detail"]
    replay = await client.post("/v1/calls/offered", json=offer, headers=okey)
    assert replay.status_code == 200 and replay.json()["agent"] == "maria"
    assert await _stored(sessions) == (1, 2, 2)


def test_years_before_1000_are_stored_with_four_digits() -> None:
    assert sqlite_time(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01 00:00:00.000000"
    assert sqlite_time(datetime(1, 2, 3, 4, 5, 6, 7, tzinfo=UTC)) == "0001-02-03 04:05:06.000007"


async def test_a_call_stored_with_a_year_before_1000_does_not_break_the_queue(
    sqlite_url: str,
) -> None:
    """Earlier versions wrote `999-01-01 …` (strftime does not pad): reading the call must
    still work, or GET /v1/queue and the supervisor's queue screen fail for ever."""
    app = create_app(Settings(database_url=sqlite_url, api_tokens=(TOKEN,)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://frontline.test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        made = await client.post("/v1/calls/queued", json={"caller_number": "600"})
        assert made.status_code == 201
        path = make_url(sqlite_url).database
        assert path is not None
        with sqlite3.connect(path) as db:
            db.execute("UPDATE call SET queued_at = '999-01-01 00:00:00.000000'")
            db.execute("UPDATE call_event SET at = '999-01-01 00:00:00.000000'")
        queue = await client.get("/v1/queue")
        assert queue.status_code == 200, queue.text
        assert [w["call_id"] for w in queue.json()["waiting"]] == [1]
        detail = await client.get("/v1/calls/1")
        assert detail.status_code == 200
        assert detail.json()["events"][0]["at"].startswith("0999-01-01")
