"""The canonical call event and the answer to it: what every actor sends to the state machine."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.models import CallEventKind


@dataclass(frozen=True)
class WrapUp:
    """What the agent saved at the end of a call."""

    reason: str
    disposition: str
    notes: str
    follow_up_on: date | None = None


@dataclass(frozen=True)
class EventRequest:
    """One event as a phone system, `frontline call` or the agent's console reports it."""

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
    source: str = ""
    """Who reports it: "console" for the agent's own actions; empty for the phone system."""
    agent_id: int | None = None
    """The agent by id, as the console knows it (instead of `agent`)."""
    customer_id: int | None = None
    """The caller's customer record, when the console knows it (taken, identified)."""
    wrap_up: WrapUp | None = None
    """The agent's codes and notes (completed, from the console)."""

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for name in ("external_id", "caller_number", "queue", "agent", "source"):
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
class AgentStatus:
    user_name: str
    state: str
    reason: str
    since: datetime


__all__ = ["AgentStatus", "EventRequest", "EventResult", "WrapUp"]
