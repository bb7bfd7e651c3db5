"""Request and response bodies of the phone-system API.

Bodies are strict (422 otherwise): no unknown fields, no type conversions (`true` is not a
call id, `"12"` is not a number, a number is not a time), times in ISO 8601 with their UTC
offset, and no text a database cannot store (a NUL character, a lone surrogate, NaN).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from fastapi import Path
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from core.i18n import words as _

MAX_ID = 2**31 - 1
"""The largest id a table holds (a 32-bit integer column on PostgreSQL)."""


def _iso_time(value: object) -> object:
    """An ISO 8601 text with its UTC offset as a datetime; anything else is refused."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(
            _("a time is ISO 8601 text with its UTC offset, e.g. 2026-12-02T10:00:00Z")
        )
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise ValueError(_("not an ISO 8601 time: {error}").format(error=error)) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(_("the time needs its timezone: a UTC offset such as +01:00 or Z"))
    return parsed


When = Annotated[AwareDatetime, BeforeValidator(_iso_time)]
"""A time in a body: ISO 8601 text with its offset (never an epoch number)."""


def unstorable(value: object, where: str = "body") -> str | None:
    """Where `value` holds what no database stores: a NUL, a lone surrogate, NaN/Infinity."""
    if isinstance(value, str):
        if "\x00" in value:
            return _("{where}: a NUL character").format(where=where)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return _("{where}: a lone surrogate (not UTF-8 text)").format(where=where)
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return _("{where}: {value} is not a number JSON allows").format(where=where, value=value)
    if isinstance(value, dict):
        for key, item in value.items():
            problem = unstorable(key, _("{where} (a key)").format(where=where)) or unstorable(
                item, f"{where}.{key}"
            )
            if problem:
                return problem
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            problem = unstorable(item, f"{where}[{index}]")
            if problem:
                return problem
    return None


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        problem = unstorable(data)
        if problem:
            raise ValueError(_("cannot be stored: {problem}").format(problem=problem))
        return data


Body = _Body
"""The base of every request body (strict, storable text)."""

NO_CONTROL = r"^[^\x00-\x1f\x7f]+$"
"""Text with no control characters (a NUL cannot be stored on PostgreSQL)."""
UserName = Annotated[
    str,
    Path(min_length=1, max_length=100, pattern=NO_CONTROL, description="The agent's user name."),
]
"""An agent's user name in a route's path."""


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

    call_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="Frontline's call id.")
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The phone system's id for the call (e.g. Asterisk ${UNIQUEID}).",
    )
    at: When | None = Field(
        default=None, description="When it happened, with its UTC offset; omitted means now."
    )

    @model_validator(mode="after")
    def _one_reference(self) -> Self:
        if (self.call_id is None) == (self.external_id is None):
            raise ValueError(_("give exactly one of call_id and external_id"))
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
        default=None,
        ge=1,
        le=MAX_ID,
        description="Re-queue this Frontline call (it rang unanswered).",
    )
    at: When | None = None


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
            raise ValueError(_("give exactly one of to_agent and to_queue"))
        return self


class AgentStateBody(_Body):
    """An agent's state, as the phone system or a supervisor sets it."""

    state: Literal["available", "break", "offline"]
    reason: str = Field(default="", max_length=100, description="Why, for a break.")
    at: When | None = None


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
