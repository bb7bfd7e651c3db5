"""Request and response bodies of the phone-system API. Unknown fields are refused (422)."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Canonical(_Body):
    """What every event may carry besides its kind: who reported it, and what exactly."""

    source: str = Field(
        default="",
        max_length=20,
        description="The phone system: kamailio, asterisk, freeswitch, api, …",
    )
    source_event_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=160,
        description="The phone system's own id for this event; with `source`, the "
        "idempotency key when no Idempotency-Key header is sent.",
    )
    leg_id: str | None = Field(
        default=None, min_length=1, max_length=128, description="The leg (channel, dialog)."
    )
    raw: dict[str, Any] | str | None = Field(
        default=None, description="What the phone system sent, kept for audit."
    )


class CallRef(_Canonical):
    """Which call: Frontline's `call_id`, or the phone system's `external_id` (one of them)."""

    call_id: int | None = Field(default=None, ge=1, description="Frontline's call id.")
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The phone system's id for the call (e.g. Asterisk ${UNIQUEID}).",
    )
    at: AwareDatetime | None = Field(
        default=None, description="When it happened, with its UTC offset; omitted means now."
    )

    @model_validator(mode="after")
    def _one_reference(self) -> Self:
        if (self.call_id is None) == (self.external_id is None):
            raise ValueError("give exactly one of call_id and external_id")
        return self


class QueuedBody(_Canonical):
    """A call reached a queue (or came back to it after ringing unanswered)."""

    caller_number: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^[0-9+()\-. ]+$|^anonymous$",
        description="The caller's number (ANI) as the phone system has it, or 'anonymous'.",
    )
    queue: str = Field(default="", max_length=40, description="The queue's name.")
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The phone system's id for the call; later events may use it.",
    )
    call_id: int | None = Field(
        default=None, ge=1, description="Re-queue this Frontline call (it rang unanswered)."
    )
    at: AwareDatetime | None = None


class OfferedBody(CallRef):
    """The call rings at an agent."""

    agent: str = Field(min_length=1, max_length=100, description="The agent's user name.")


class AnsweredBody(CallRef):
    """The agent picked up. `agent` is needed only when the call was not offered first."""

    agent: str | None = Field(default=None, min_length=1, max_length=100)


class TransferredBody(CallRef):
    """The call was transferred: to an agent (blind: it rings there; consult: they took it
    over) or back to a queue. Give exactly one of `to_agent` and `to_queue`."""

    mode: Literal["blind", "consult"] = "blind"
    to_agent: str | None = Field(default=None, min_length=1, max_length=100)
    to_queue: str | None = Field(default=None, min_length=1, max_length=40)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.to_agent is None) == (self.to_queue is None):
            raise ValueError("give exactly one of to_agent and to_queue")
        return self


class AgentStateBody(_Body):
    """An agent's state, as the phone system or a supervisor sets it."""

    state: Literal["available", "break", "offline"]
    reason: str = Field(default="", max_length=100, description="Why, for a break.")
    at: AwareDatetime | None = None


class EventOut(BaseModel):
    """The call after the event."""

    call_id: int
    state: str
    kind: str
    event_id: int | None = Field(description="The stored event; null when nothing changed.")
    at: AwareDatetime
    agent: str
    caller_number: str
    queue: str
    external_id: str | None
    replayed: bool = Field(
        description="True when this repeats an earlier answer (same Idempotency-Key) "
        "or the call was already in that state."
    )


class AgentStateOut(BaseModel):
    agent: str
    state: str
    reason: str
    since: AwareDatetime


class CustomerMatch(BaseModel):
    customer_id: int
    external_id: str
    name: str
    city: str
    tier: str
    phone_tail: str
    score: float


class LookupOut(BaseModel):
    """Customers whose phone number matches; one means a screen pop, several a picker."""

    number: str
    count: int
    customers: list[CustomerMatch]


class Problem(BaseModel):
    detail: str
