"""The HTTP API phone systems call: call events, agent states, caller look-up, queue figures.

Served by `frontline api` (uvicorn). Every route but /healthz and the docs needs
`Authorization: Bearer <token>` with a token from FRONTLINE_API_TOKENS. Bodies are JSON,
validated strictly (unknown fields are refused). Send an `Idempotency-Key` header with each
event (or `source` and `source_event_id` in the body) and retry with the same key after a
timeout or a 503: the event is applied once. Events are applied by the time they happened
(`at`), whatever order they arrive in; a time that cannot be right is refused with 422.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from core.api.auth import ScopedBearerAuth, token_scopes
from core.api.errors import install as install_error_handlers
from core.api.errors import unavailable_response
from core.api.health import health_router
from core.api.language import RequestLanguage
from core.api.routing import routing_router
from core.api.schemas import (
    MAX_ID,
    NO_CONTROL,
    AgentStateBody,
    AgentStateOut,
    AnsweredBody,
    CallRef,
    CustomerMatch,
    EventOut,
    LookupOut,
    OfferedBody,
    Problem,
    QueuedBody,
    TransferredBody,
    UserName,
)
from core.api.timing import ServerTiming
from core.calls.events import (
    AgentNotFound,
    CallEventError,
    CallNotFound,
    EventRequest,
    EventResult,
    IdempotencyConflict,
    ImpossibleTime,
    InvalidTransition,
)
from core.calls.metrics import DEFINITIONS
from core.calls.model import Transfer
from core.config import Settings
from core.db import DatabaseUnavailable
from core.i18n import words as _
from core.models import AgentState, Call, CallEvent, CallEventKind
from core.privacy.trail import AuditAction, listed
from core.services import make_services

_ERRORS: dict[type[Exception], int] = {
    CallNotFound: status.HTTP_404_NOT_FOUND,
    AgentNotFound: status.HTTP_404_NOT_FOUND,
    InvalidTransition: status.HTTP_409_CONFLICT,
    IdempotencyConflict: status.HTTP_409_CONFLICT,
    ImpossibleTime: status.HTTP_422_UNPROCESSABLE_CONTENT,
}
_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body is not text (not UTF-8)."},
    401: {"model": Problem, "description": "Missing or wrong bearer token."},
    403: {"model": Problem, "description": "The token's scope does not cover this route."},
    404: {"model": Problem, "description": "No such call or agent."},
    409: {
        "model": Problem,
        "description": "The event does not fit the call's state, or the Idempotency-Key "
        "was used for another event.",
    },
    413: {"model": Problem, "description": "Body too large."},
    422: {
        "description": "The body is not valid, or the event's time cannot be right (before "
        "the call was queued, a day ahead, years ago, out of range)."
    },
    503: {"model": Problem, "description": "Database busy: retry with the same key."},
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Any unique string per event (e.g. '${UNIQUEID}-answered'); a retry "
        "with the same key is applied once and gets the first answer back.",
    ),
]


def create_app(settings: Settings, engine: AsyncEngine | None = None) -> FastAPI:
    """The API application.

    Args:
        settings: configuration (database URL, API tokens, service level…).
        engine: an engine to use instead of one built from the settings (it is then not
            disposed at shutdown).

    Returns:
        The ASGI application.
    """
    services = make_services(settings, engine=engine)
    sessions, events, queue, search = (
        services.sessions,
        services.events,
        services.queue,
        services.search,
    )

    stale_after = timedelta(minutes=settings.calls.stale_after_minutes)

    async def sweep_forever() -> None:
        while True:
            try:
                await events.sweep_stale(stale_after)
            except Exception:  # noqa: BLE001 - a failed sweep is retried at the next minute
                _log.exception("stale-call sweep failed")
            await asyncio.sleep(SWEEP_EVERY_SECONDS)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(sweep_forever())
        yield
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await services.close()

    app = FastAPI(
        title="Frontline phone-system API",
        version="1",
        description=__doc__,
        lifespan=lifespan,
        max_body_size=settings.api.max_body_bytes,
        responses=_ERROR_RESPONSES,
        dependencies=[Depends(HTTPBearer(auto_error=False))],  # documents the scheme
    )
    app.add_middleware(ScopedBearerAuth, tokens=token_scopes(settings))
    app.add_middleware(RequestLanguage)  # around the token check: its words follow it too
    install_error_handlers(app)
    app.add_middleware(ServerTiming)  # outermost: times the token check too
    app.include_router(routing_router(events))
    app.include_router(health_router(sessions))

    @app.exception_handler(CallEventError)
    async def event_error(_request: Request, error: CallEventError) -> JSONResponse:
        code = next((c for t, c in _ERRORS.items() if isinstance(error, t)), 400)
        return JSONResponse({"detail": str(error)}, status_code=code)

    @app.exception_handler(DatabaseUnavailable)
    async def unavailable(_request: Request, error: DatabaseUnavailable) -> JSONResponse:
        return unavailable_response(error)

    async def send(request: EventRequest, response: Response) -> EventOut:
        result = await events.apply(request)
        if result.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return _out(result)

    def ref_request(
        kind: CallEventKind, body: CallRef, key: str | None, **extra: Any
    ) -> EventRequest:
        return EventRequest(
            kind=kind,
            call_id=body.call_id,
            external_id=body.external_id,
            at=body.at,
            idempotency_key=key,
            source=body.source,
            source_event_id=body.source_event_id,
            leg_id=body.leg_id,
            raw=body.raw,
            **extra,
        )

    @app.post(
        "/v1/calls/queued",
        tags=["call events"],
        summary="A call reached a queue",
        status_code=status.HTTP_201_CREATED,
        response_description="The new call (201), or the existing one when this is a retry "
        "or a re-queue (200).",
        responses={200: {"model": EventOut, "description": "A retry or a re-queue."}},
    )
    async def queued(body: QueuedBody, response: Response, key: IdempotencyKey = None) -> EventOut:
        request = EventRequest(
            kind=CallEventKind.QUEUED,
            call_id=body.call_id,
            external_id=body.external_id,
            caller_number=body.caller_number,
            queue=body.queue,
            at=body.at,
            idempotency_key=key,
            source=body.source,
            source_event_id=body.source_event_id,
            leg_id=body.leg_id,
            raw=body.raw,
        )
        out = await send(request, response)
        if out.replayed or out.kind != CallEventKind.QUEUED or body.call_id is not None:
            response.status_code = status.HTTP_200_OK
        return out

    @app.post("/v1/calls/offered", tags=["call events"], summary="The call rings at an agent")
    async def offered(
        body: OfferedBody, response: Response, key: IdempotencyKey = None
    ) -> EventOut:
        return await send(ref_request(CallEventKind.OFFERED, body, key, agent=body.agent), response)

    @app.post("/v1/calls/answered", tags=["call events"], summary="The agent picked up")
    async def answered(
        body: AnsweredBody, response: Response, key: IdempotencyKey = None
    ) -> EventOut:
        request = ref_request(CallEventKind.ANSWERED, body, key, agent=body.agent or "")
        return await send(request, response)

    def simple(kind: CallEventKind, summary: str) -> None:
        async def endpoint(
            body: CallRef, response: Response, key: IdempotencyKey = None
        ) -> EventOut:
            return await send(ref_request(kind, body, key), response)

        endpoint.__name__ = kind.value
        app.post(f"/v1/calls/{kind.value}", tags=["call events"], summary=summary)(endpoint)

    simple(CallEventKind.HELD, "The agent put the caller on hold")
    simple(CallEventKind.UNHELD, "The caller is back from hold")
    simple(CallEventKind.ENDED, "The call ended; the agent's wrap-up starts")
    simple(CallEventKind.ABANDONED, "The caller hung up before an agent answered")
    simple(CallEventKind.COMPLETED, "The agent finished wrap-up and is ready again")
    simple(CallEventKind.CONFERENCED, "A third party joined the call")

    @app.post(
        "/v1/calls/transferred",
        tags=["call events"],
        summary="The call went to another agent or back to a queue",
    )
    async def transferred(
        body: TransferredBody, response: Response, key: IdempotencyKey = None
    ) -> EventOut:
        transfer = Transfer(body.mode, body.to_agent or "", body.to_queue or "")
        return await send(
            ref_request(CallEventKind.TRANSFERRED, body, key, transfer=transfer), response
        )

    @app.post("/v1/agents/{user_name}/state", tags=["agents"], summary="Set an agent's state")
    async def agent_state(user_name: UserName, body: AgentStateBody) -> AgentStateOut:
        done = await events.set_agent_state(user_name, AgentState(body.state), body.reason, body.at)
        return AgentStateOut(
            agent=done.user_name, state=done.state, reason=done.reason, since=done.since
        )

    @app.get(
        "/v1/customers/by-phone",
        tags=["look-up"],
        summary="Customers with this phone number (for a screen pop)",
    )
    async def by_phone(
        number: Annotated[str, Query(min_length=1, max_length=40, pattern=NO_CONTROL)],
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> LookupOut:
        hits = await search.by_phone(number, limit)
        await services.audit.record_many(  # a screen pop shows who called: audited like a search
            listed("api", AuditAction.LOOKUP, number, [h.customer_id for h in hits], "api")
        )
        return LookupOut(
            number=number,
            count=len(hits),
            customers=[
                CustomerMatch(
                    customer_id=h.customer_id,
                    external_id=h.external_id,
                    name=h.name,
                    city=h.city,
                    tier=h.tier,
                    phone_tail=h.phone_tail,
                    score=h.score,
                )
                for h in hits
            ],
        )

    @app.get("/v1/queue", tags=["queue"], summary="Calls waiting and today's figures")
    async def queue_now() -> dict[str, Any]:
        snap = await queue.snapshot()
        f = snap.figures
        return {
            "at": snap.at.isoformat(),
            "waiting": [
                {
                    "call_id": w.call_id,
                    "caller_number": w.caller_number,
                    "queue": w.queue,
                    "state": w.state,
                    "agent": w.agent,
                    "wait_seconds": round(w.wait_seconds, 1),
                }
                for w in snap.waiting
            ],
            "today": {
                "day": f.day.isoformat(),
                "offered": f.offered,
                "answered": f.answered,
                "abandoned": f.abandoned,
                "short_abandoned": f.short_abandoned,
                "service_level": f.service_level,
                "service_level_seconds": snap.service_level_seconds,
                "asa_seconds": f.asa,
                "aht_seconds": f.aht,
                "abandonment_rate": f.abandonment_rate,
                "longest_wait_seconds": f.longest_wait,
            },
            "definitions": {
                k: _(v).format(t=snap.service_level_seconds, short=snap.short_abandon_seconds)
                for k, v in DEFINITIONS.items()
            },
        }

    @app.get("/v1/calls/{call_id}", tags=["queue"], summary="One call and its stored events")
    async def call_detail(call_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> dict[str, Any]:
        async with sessions() as session:
            call = await session.get(Call, call_id)
            if call is None:
                raise CallNotFound(_("no call with id {id}").format(id=call_id))
            stored = (
                await session.execute(
                    select(CallEvent)
                    .where(col(CallEvent.call_id) == call_id)
                    .order_by(col(CallEvent.id))
                )
            ).scalars()
            return {
                "call_id": call.id,
                "state": call.state,
                "caller_number": call.caller_number,
                "queue": call.queue,
                "events": [
                    {"id": e.id, "kind": e.kind, "at": e.at.isoformat(), **json.loads(e.payload)}
                    for e in stored
                ],
            }

    return app


SWEEP_EVERY_SECONDS = 60
"""How often the API closes calls whose end never arrived."""
_log = logging.getLogger(__name__)


def _out(result: EventResult) -> EventOut:
    return EventOut(**result.as_json())
