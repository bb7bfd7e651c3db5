"""Where an adapter's events go: the state machine in this process, or a `frontline api`.

`direct(services.events)` applies them to the configured database (the adapter runs beside
Frontline); `ApiSink` posts them to the HTTP API with the bearer token and the event's
idempotency key (the adapter runs on the PBX host), and turns the API's refusals back into
the same errors, so the adapter treats both alike.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx

from core.calls.errors import CallEventError, CallNotFound, InvalidTransition
from core.calls.events import CallEvents
from core.calls.model import EventRequest, EventResult
from core.db import DatabaseUnavailable
from core.i18n import words as _
from core.models import CallEventKind
from core.pbx.adapter import LoginRefused, Sink


def direct(events: CallEvents) -> Sink:
    """Apply each event in this process (`services.events` from make_services)."""
    return events.apply


class ApiSink:
    """Posts events to `/v1/calls/<kind>` of a running `frontline api`."""

    def __init__(self, url: str, token: str, client: httpx.AsyncClient | None = None) -> None:
        self._url = url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=10)
        self._headers = {"Authorization": f"Bearer {token}"}

    async def __call__(self, request: EventRequest) -> EventResult:
        headers = dict(self._headers)
        if request.idempotency_key:
            headers["Idempotency-Key"] = request.idempotency_key[:200]
        path = f"{self._url}/v1/calls/{request.kind.value}"
        body = _body(request)
        last = ""
        for attempt in range(4):  # the same key on every attempt: applied once however many
            try:
                response = await self._client.post(path, json=body, headers=headers)
            except httpx.TransportError as error:
                last = f"cannot reach {self._url}: {error}"
            else:
                if response.status_code < 300:
                    return _result(response.json())
                if response.status_code == 401:  # every event would be refused: stop
                    raise LoginRefused(
                        _("{url} refused the token: {reply}").format(
                            url=self._url, reply=_detail(response)
                        )
                    )
                if response.status_code != 503:
                    raise _refusal(response)
                last = _detail(response)
            await asyncio.sleep(0.5 * (attempt + 1))
        raise DatabaseUnavailable(last)

    async def close(self) -> None:
        await self._client.aclose()


def _body(request: EventRequest) -> dict[str, Any]:
    # The API's bodies refuse unknown fields: send exactly what each route takes.
    body: dict[str, Any] = {}
    if request.call_id is not None:
        body["call_id"] = request.call_id
    elif request.external_id:
        body["external_id"] = request.external_id
    if request.at is not None:
        body["at"] = request.at.isoformat()
    if request.kind == CallEventKind.QUEUED:
        # The route needs a number even for a re-queue, which keeps the one it has.
        body["caller_number"] = request.caller_number or "anonymous"
        if request.queue:
            body["queue"] = request.queue
    elif request.kind in (CallEventKind.OFFERED, CallEventKind.ANSWERED) and request.agent:
        body["agent"] = request.agent
    return body


def _result(data: dict[str, Any]) -> EventResult:
    return EventResult(
        call_id=int(data["call_id"]),
        state=str(data["state"]),
        kind=str(data["kind"]),
        event_id=data.get("event_id"),
        at=datetime.fromisoformat(str(data["at"])),
        agent=str(data.get("agent", "")),
        caller_number=str(data.get("caller_number", "")),
        queue=str(data.get("queue", "")),
        external_id=data.get("external_id"),
        replayed=bool(data.get("replayed", False)),
    )


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return response.text
    return str(detail)


def _refusal(response: httpx.Response) -> CallEventError:
    detail = f"{response.status_code}: {_detail(response)}"
    if response.status_code == 404:
        return CallNotFound(detail)
    if response.status_code == 409:
        return InvalidTransition(detail)
    return CallEventError(detail)


__all__ = ["ApiSink", "direct"]
