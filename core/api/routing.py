"""The ACD routes: a SIP proxy with no queues (Kamailio) asks which agent to ring.

`POST /v1/route` takes a JSON body, never a query string: a `+` in a caller number sent in a
query string arrives as a space.
"""

from __future__ import annotations

from typing import Annotated, Self

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, model_validator

from core.api.schemas import Body, CallRef, UserName
from core.calls.events import CallEvents
from core.calls.routing import RouteRequest, route, set_contact
from core.i18n import words as _


class RouteBody(CallRef):
    """A call to route: its phone-system id (new calls are queued here) or Frontline's id."""

    caller_number: str = Field(
        default="",
        max_length=40,
        pattern=r"^[0-9+()\-. ]*$|^anonymous$",
        description="The caller's number; needed when the call is new.",
    )
    queue: str = Field(default="", max_length=40, description="The queue's name.")
    no_answer: bool = Field(
        default=False,
        description="The agent offered last let it ring out: they go on a 'no answer' break "
        "and the call goes back to the queue before the next agent is chosen.",
    )

    @model_validator(mode="after")
    def _new_calls_need_a_number(self) -> Self:
        if self.call_id is None and not self.caller_number:
            raise ValueError(_("a call routed by external_id needs its caller_number"))
        return self


class RouteOut(BaseModel):
    call_id: int
    state: str
    agent: str | None = Field(description="The agent to ring; null when nobody is free.")
    contact: str | None = Field(description="The agent's SIP URI; null when nobody is free.")
    retry_after: int | None = Field(description="Seconds to wait before asking again.")


class ContactBody(Body):
    sip_contact: str = Field(
        max_length=255, pattern=r"^$|^sips?:\S+$", description="The agent's SIP URI; empty: none."
    )
    queues: list[Annotated[str, Field(max_length=40, pattern=r"^[^,]*$")]] | None = Field(
        default=None,
        max_length=12,
        description="The queues the agent takes; [] every queue; omitted: kept.",
    )


class ContactOut(BaseModel):
    agent: str
    sip_contact: str
    queues: list[str]


def routing_router(events: CallEvents) -> APIRouter:
    """The ACD routes over the process's one `CallEvents`."""
    router = APIRouter(tags=["routing (ACD)"])

    @router.post("/v1/route", summary="Which agent to ring for a queued call")
    async def route_call(body: RouteBody, response: Response) -> RouteOut:
        answer = await route(
            events,
            RouteRequest(
                external_id=body.external_id,
                call_id=body.call_id,
                caller_number=body.caller_number,
                queue=body.queue,
                no_answer=body.no_answer,
                at=body.at,
            ),
        )
        if answer.retry_after is not None:
            response.headers["Retry-After"] = str(answer.retry_after)
        return RouteOut(
            call_id=answer.call_id,
            state=answer.state,
            agent=answer.agent,
            contact=answer.contact,
            retry_after=answer.retry_after,
        )

    @router.put("/v1/agents/{user_name}/contact", summary="Where an agent rings, which queues")
    async def agent_contact(user_name: UserName, body: ContactBody) -> ContactOut:
        queues = None if body.queues is None else tuple(body.queues)
        done = await set_contact(events, user_name, body.sip_contact, queues)
        return ContactOut(
            agent=done.user_name, sip_contact=done.sip_contact, queues=list(done.queues)
        )

    return router


__all__ = ["routing_router"]
