"""The canonical call event and the answer to it: what every actor sends to the state machine.

Every phone-system adapter (Kamailio over HTTP, Asterisk AMI, FreeSWITCH ESL), the HTTP API,
`frontline call` and the agent's console map what they see onto `EventRequest` (a call's
event) or `AgentStateChange` (an agent's); docs/calls.md has the mapping.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from core.models import AgentState, CallEventKind

TransferMode = Literal["blind", "consult"]


@dataclass(frozen=True)
class WrapUp:
    """What the agent saved at the end of a call."""

    reason: str
    disposition: str
    notes: str
    follow_up_on: date | None = None


@dataclass(frozen=True)
class Transfer:
    """Where a transferred call goes: an agent (`to_agent`) or a queue (`to_queue`)."""

    mode: TransferMode = "blind"
    """blind: it rings at the target; consult: the target already talked and took it over."""
    to_agent: str = ""
    to_queue: str = ""

    def as_json(self) -> dict[str, str]:
        body: dict[str, str] = {"mode": self.mode}
        if self.to_agent:
            body["agent"] = self.to_agent
        if self.to_queue:
            body["queue"] = self.to_queue
        return body


@dataclass(frozen=True)
class EventRequest:
    """One event as a phone system, `frontline call` or the agent's console reports it.

    Canonical kinds: queued, offered, answered, held (hold), unheld (unhold), transferred,
    conferenced, ended (hang-up), abandoned, completed (after-call work done), identified
    (the console's), closed_stale (the sweep's). An agent's state is an `AgentStateChange`.
    """

    kind: CallEventKind
    call_id: int | None = None
    """Frontline's call id; or give `external_id`."""
    external_id: str | None = None
    """The phone system's own id for the call (set it on `queued`, then use it throughout)."""
    caller_number: str = ""
    queue: str = ""
    agent: str = ""
    """The agent's user name (offered; optional on answered)."""
    at: datetime | None = None
    """When it happened; None means now."""
    idempotency_key: str | None = None
    """Applied once per key; defaults to "source:source_event_id" when both are given."""
    source: str = ""
    """Who reports it: "kamailio", "asterisk", "freeswitch", "api", "console" (the agent's
    own actions), "frontline" (the stale-call sweep); empty: not said."""
    agent_id: int | None = None
    """The agent by id, as the console knows it (instead of `agent`)."""
    customer_id: int | None = None
    """The caller's customer record, when the console knows it (taken, identified)."""
    wrap_up: WrapUp | None = None
    """The agent's codes and notes (completed, from the console)."""
    source_event_id: str | None = None
    """The phone system's own id for this event (AMI's Uniqueid+event, ESL's Event-UUID…)."""
    leg_id: str | None = None
    """The phone system's id for the leg the event is about (a channel, a SIP dialog)."""
    transfer: Transfer | None = None
    """Where the call went (transferred)."""
    raw: Mapping[str, Any] | str | None = field(default=None, compare=False)
    """What the phone system sent, verbatim, kept on the stored event for audit."""

    def __post_init__(self) -> None:
        if self.idempotency_key is None and self.source and self.source_event_id:
            object.__setattr__(self, "idempotency_key", f"{self.source}:{self.source_event_id}")

    def raw_text(self) -> str | None:
        """The stored `call_event.raw`."""
        if self.raw is None or isinstance(self.raw, str):
            return self.raw
        return json.dumps(dict(self.raw), ensure_ascii=False, sort_keys=True, default=str)

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for name in ("external_id", "caller_number", "queue", "agent", "source", "leg_id"):
            value = getattr(self, name)
            if value:
                body[name] = value
        for name in ("agent_id", "customer_id"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        if self.wrap_up is not None:
            body["reason"] = self.wrap_up.reason
            body["disposition"] = self.wrap_up.disposition
            body["notes"] = self.wrap_up.notes
            if self.wrap_up.follow_up_on is not None:
                body["follow_up_on"] = self.wrap_up.follow_up_on.isoformat()
        if self.transfer is not None:
            body["transfer"] = self.transfer.as_json()
        return body

    def payload_json(self) -> str:
        """The stored `call_event.payload`."""
        return json.dumps(self.payload(), ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class EventResult:
    """The call after the event."""

    call_id: int
    state: str
    kind: str
    event_id: int | None
    """The stored event; None when the event changed nothing (already in that state)."""
    at: datetime
    agent: str = ""
    caller_number: str = ""
    queue: str = ""
    external_id: str | None = None
    replayed: bool = False
    """True when this answer repeats an earlier one (same idempotency key, or a no-op)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "state": self.state,
            "kind": self.kind,
            "event_id": self.event_id,
            "at": self.at.isoformat(),
            "agent": self.agent,
            "caller_number": self.caller_number,
            "queue": self.queue,
            "external_id": self.external_id,
            "replayed": self.replayed,
        }


@dataclass(frozen=True)
class AgentStateChange:
    """An agent's own state as a phone system reports it (paused, logged off, ready)."""

    agent: str
    state: AgentState
    reason: str = ""
    at: datetime | None = None
    source: str = ""
    source_event_id: str | None = None
    raw: Mapping[str, Any] | str | None = field(default=None, compare=False)


CanonicalEvent = EventRequest | AgentStateChange
"""What an adapter hands to `CallEvents.report`."""


@dataclass(frozen=True)
class AgentStatus:
    user_name: str
    state: str
    reason: str
    since: datetime


__all__ = [
    "AgentStateChange",
    "AgentStatus",
    "CanonicalEvent",
    "EventRequest",
    "EventResult",
    "Transfer",
    "TransferMode",
    "WrapUp",
]
