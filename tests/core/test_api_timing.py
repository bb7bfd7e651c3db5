"""Every API answer says how long the API itself took (Server-Timing), refusals included."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from console.commands.simulate import _server_ms
from core.api import create_app
from core.config import Settings

TOKEN = "timing-token"


async def test_answers_carry_the_apis_own_time(db_url: str, engine: AsyncEngine) -> None:
    app = create_app(Settings(database_url=db_url, api_tokens=(TOKEN,)), engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://frontline.test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        created = await client.post("/v1/calls/queued", json={"caller_number": "600111222"})
        refused = await client.post(
            "/v1/calls/queued", json={"caller_number": "1"}, headers={"Authorization": "x"}
        )
    assert (created.status_code, refused.status_code) == (201, 401)
    for answer in (created, refused):
        header = answer.headers["server-timing"]
        assert re.fullmatch(r"app;dur=\d+\.\d", header), header
        took = _server_ms(header)
        assert took is not None and took >= 0
    assert _server_ms("") is None and _server_ms("app;dur=soon") is None
