"""Why an event (or a console action on a call) cannot be applied; the message says it."""

from __future__ import annotations


class CallEventError(Exception):
    """An event that cannot be applied; the message says why, for the sender."""


class CallNotFound(CallEventError, LookupError):
    """No call has that id (or that phone-system id)."""


class AgentNotFound(CallEventError, LookupError):
    """No agent has that user name (or id)."""


class InvalidTransition(CallEventError, ValueError):
    """The event does not fit the call's (or the agent's) current state."""


class IdempotencyConflict(CallEventError):
    """The idempotency key was already used for a different event."""


class ImpossibleTime(CallEventError, ValueError):
    """The event's time cannot be right: before its call was queued, far in the future or
    the past, without a UTC offset, or out of range."""


CallStateError = InvalidTransition
"""The console's name for it (ending a call that was never answered, …)."""

__all__ = [
    "AgentNotFound",
    "CallEventError",
    "CallNotFound",
    "CallStateError",
    "IdempotencyConflict",
    "ImpossibleTime",
    "InvalidTransition",
]
