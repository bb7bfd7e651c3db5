"""API tokens by scope: a phone system's token reports calls, an administrator's reads the queue;
FRONTLINE_API_TOKENS (the older, single setting) still opens both."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from core.api import create_app
from core.api.auth import TokenScope, scope_of
from core.config import Settings


def _client(db_url: str, engine: AsyncEngine, token: str) -> httpx.AsyncClient:
    settings = Settings(
        database_url=db_url,
        api_tokens=("both",),
        api_event_tokens=("pbx",),
        api_admin_tokens=("admin",),
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, engine=engine)),
        base_url="http://frontline.test",
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_each_token_opens_its_own_routes(db_url: str, engine: AsyncEngine) -> None:
    queued = {"caller_number": "+34 600 000 001", "external_id": "sip-1"}
    async with _client(db_url, engine, "pbx") as pbx:
        assert (await pbx.post("/v1/calls/queued", json=queued)).status_code == 201
        number = {"number": "600000001"}
        assert (await pbx.get("/v1/customers/by-phone", params=number)).status_code == 200
        refused = await pbx.get("/v1/queue")
        assert refused.status_code == 403
        assert "admin scope" in refused.json()["detail"]
        assert "FRONTLINE_API_ADMIN_TOKENS" in refused.json()["detail"]
        contact = {"contact": "sip:ana@10.0.0.5", "queues": ["sales"]}
        assert (await pbx.put("/v1/agents/ana/contact", json=contact)).status_code == 403
    async with _client(db_url, engine, "admin") as admin:
        assert (await admin.get("/v1/queue")).status_code == 200
        refused = await admin.post("/v1/calls/queued", json={**queued, "external_id": "sip-2"})
        assert refused.status_code == 403 and "events scope" in refused.json()["detail"]
    async with _client(db_url, engine, "both") as both:  # the single-token configuration
        assert (await both.get("/v1/queue")).status_code == 200
        again = {**queued, "external_id": "sip-3"}
        assert (await both.post("/v1/calls/queued", json=again)).status_code == 201
    async with _client(db_url, engine, "guess") as nobody:
        assert (await nobody.get("/v1/queue")).status_code == 401


def test_routes_are_administration_unless_they_are_a_phone_systems() -> None:
    assert scope_of("POST", "/v1/calls/answered") == TokenScope.EVENTS
    assert scope_of("POST", "/v1/agents/ana/state") == TokenScope.EVENTS
    assert scope_of("POST", "/v1/route") == TokenScope.EVENTS
    assert scope_of("GET", "/v1/calls/12") == TokenScope.ADMIN
    assert scope_of("PUT", "/v1/agents/ana/contact") == TokenScope.ADMIN
    assert scope_of("DELETE", "/v1/calls/answered") == TokenScope.ADMIN
