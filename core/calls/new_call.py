"""The rows of a call not seen before: the transitions out of NEW, as data for the writers.

A burst of new calls is what a phone system sends most, so each database has its own writer
of these rows (`sqlite_calls`, `postgres_calls`): one hop to the driver, no ORM. Both write
exactly this: the call, its phone-system reference, its `call_event` and its change
notification; a test feeds both the same random calls and compares the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.calls.errors import InvalidTransition
from core.calls.model import EventRequest, EventResult
from core.calls.states import NEW, TABLE
from core.calls.times import checked
from core.i18n import words as _
from core.models import CallEventKind, CallState
from core.models.types import utcnow


@dataclass(frozen=True)
class NewCall:
    """One new call's rows, whatever the database."""

    kind: CallEventKind
    state: CallState
    stamps: tuple[str, ...]
    """Call columns set to `at` (from the transition)."""
    at: datetime
    now: datetime
    key: str | None
    external_id: str | None
    caller_number: str
    queue: str
    agent_id: int | None
    customer_id: int | None
    payload: str
    source: str = ""
    source_event_id: str | None = None
    leg_id: str | None = None
    raw: str | None = None

    def event_extras(self) -> tuple[str, str | None, str | None, str | None]:
        """The `call_event` columns of the canonical event (source, its id, leg, raw)."""
        return self.source, self.source_event_id, self.leg_id, self.raw


def may_create(request: EventRequest) -> bool:
    """True when the event may start a call: a transition out of NEW that names no stored call.

    A phone system names its calls (a new external id is fine on `queued`); only the agent's
    console takes a call nobody reported (`answered` naming no call at all).
    """
    if request.call_id is not None or (NEW, request.kind) not in TABLE:
        return False
    return request.kind == CallEventKind.QUEUED or request.external_id is None


def new_call(request: EventRequest, agent_id: int | None = None) -> NewCall:
    """The rows `request` writes for a call not seen before.

    Raises InvalidTransition, or ImpossibleTime for a time that cannot be right.
    """
    now = utcnow()
    at = checked(request.at, now) or now
    step = TABLE[(NEW, request.kind)]
    assert step.to is not None
    if request.kind == CallEventKind.QUEUED and not request.caller_number:
        raise InvalidTransition(_("a queued call needs the caller's number"))
    if step.needs_agent and agent_id is None:
        raise InvalidTransition(
            _("a call {kind} at once needs its agent").format(kind=request.kind.value)
        )
    return NewCall(
        kind=request.kind,
        state=step.to,
        stamps=step.stamps,
        at=at,
        now=now,
        key=request.idempotency_key or None,
        external_id=request.external_id,
        caller_number=request.caller_number,
        queue=request.queue,
        agent_id=agent_id,
        customer_id=request.customer_id,
        payload=request.payload_json(),
        source=request.source,
        source_event_id=request.source_event_id,
        leg_id=request.leg_id,
        raw=request.raw_text(),
    )


def new_call_result(call: NewCall, call_id: int, event_id: int, agent: str = "") -> EventResult:
    """The sender's answer for a call just written."""
    return EventResult(
        call_id=call_id,
        state=call.state.value,
        kind=call.kind.value,
        event_id=event_id,
        at=call.at,
        agent=agent,
        caller_number=call.caller_number,
        queue=call.queue,
        external_id=call.external_id,
    )


CALL_COLUMNS = ("caller_number", "queue", "state", "agent_id", "customer_id")
"""The call columns every new call sets (besides its stamps; text columns start empty)."""

__all__ = ["CALL_COLUMNS", "NewCall", "may_create", "new_call", "new_call_result"]
