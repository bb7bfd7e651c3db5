"""`GET /healthz`: is the API up, and can it reach its database (no token needed).

200 `{"status": "ok", "database": "ok"}`; 503 `{"status": "unavailable", "database": why}`
with Retry-After when the database does not answer within HEALTH_TIMEOUT_SECONDS, so a load
balancer or a phone system stops sending events to an API that cannot store them.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.api.errors import RETRY_AFTER_SECONDS, is_database_down

HEALTH_TIMEOUT_SECONDS = 3.0


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str = Field(description='"ok", or why the database cannot be reached.')


def health_router(sessions: async_sessionmaker[AsyncSession]) -> APIRouter:
    router = APIRouter(tags=["service"])

    async def ping() -> None:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))

    @router.get(
        "/healthz",
        summary="Is the API up and its database reachable (no token needed)",
        responses={
            200: {"model": Health, "description": "Up, with its database."},
            503: {"model": Health, "description": "The database cannot be reached."},
        },
    )
    async def healthz() -> JSONResponse:
        try:
            await asyncio.wait_for(ping(), HEALTH_TIMEOUT_SECONDS)
        except TimeoutError:
            return _down(f"no answer within {HEALTH_TIMEOUT_SECONDS:g} s")
        except Exception as error:
            if not is_database_down(error):
                raise
            return _down(str(getattr(error, "orig", None) or error) or type(error).__name__)
        return JSONResponse({"status": "ok", "database": "ok"})

    return router


def _down(why: str) -> JSONResponse:
    return JSONResponse(
        {"status": "unavailable", "database": why},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


__all__ = ["HEALTH_TIMEOUT_SECONDS", "health_router"]
