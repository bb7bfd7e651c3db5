"""The call's one transition table: (state, event kind) -> what the event does.

Everything that moves a call reads this table: the phone system's events (HTTP API, adapters,
`frontline call`) and the agent console's own take / hold / end / complete, which are events
like the phone system's (source "console"). Nothing restates it as code.

    new --queued--> queued --offered--> offered --answered--> answered <--held/unheld--> held
     \\--answered (taken at the console)-----------------------^   |--ended--> wrap_up
       queued --answered--> answered (picked up with no offer first)
       queued/offered --abandoned--> abandoned   offered --queued--> queued (rang, no answer)
       answered/held/wrap_up --completed--> completed (wrap-up saved)

An event whose effect is already there (`ALREADY`: answering an answered call, ending a call
in wrap-up) is accepted and changes nothing, because phone systems repeat themselves and
deliver late; any other pair not in `TABLE` is refused with InvalidTransition.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.calls.errors import InvalidTransition
from core.models import AgentState, CallEventKind, CallState

NEW = None
"""The "state" of a call not stored yet: the start of the transitions that create one."""


@dataclass(frozen=True)
class Transition:
    """What one event does to a call in one state."""

    to: CallState | None
    """The call's state afterwards; None: it stays where it is."""
    stamps: tuple[str, ...] = ()
    """Call columns set to the event's time."""
    fills: tuple[str, ...] = ()
    """Call columns set to the event's time only when still empty."""
    clears: tuple[str, ...] = ()
    """Call columns emptied (the agent and the offer of a call back in the queue)."""
    takes_agent: bool = False
    """The event may name the agent who now has the call."""
    needs_agent: bool = False
    """…and must: there is no agent on the call yet to default to."""
    agent_stamps: tuple[str, ...] = ()
    """Call columns set to the event's time when the call changes agent."""
    agent_to: AgentState | None = None
    """The call's agent moves into this state…"""
    agent_from: frozenset[AgentState] | None = None
    """…only from one of these (None: from any)."""


_ON_CALL = AgentState.ON_CALL
_WRAP = AgentState.WRAP_UP
_DONE = Transition(
    CallState.COMPLETED,
    stamps=("wrap_up_ended_at",),
    fills=("ended_at",),
    agent_to=AgentState.AVAILABLE,
    agent_from=frozenset({_ON_CALL, _WRAP}),  # an agent who went on a break stays there
)
_ENDED = Transition(CallState.WRAP_UP, stamps=("ended_at",), agent_to=_WRAP)
_ANSWERED = Transition(
    CallState.ANSWERED,
    stamps=("answered_at",),
    takes_agent=True,
    agent_stamps=("offered_at",),
    agent_to=_ON_CALL,
)
_OFFERED = Transition(
    CallState.OFFERED, takes_agent=True, needs_agent=True, agent_stamps=("offered_at",)
)
_ABANDONED = Transition(CallState.ABANDONED, stamps=("abandoned_at",))
_IDENTIFIED = Transition(None)
_NONE = Transition(None)

S = CallState
K = CallEventKind
TABLE: dict[tuple[CallState | None, CallEventKind], Transition] = {
    (NEW, K.QUEUED): Transition(S.QUEUED, stamps=("queued_at",)),
    # A call the agent takes at the console with no phone system behind it: never queued,
    # so queue figures (which start at queued_at) leave it out.
    (NEW, K.ANSWERED): Transition(
        S.ANSWERED, stamps=("answered_at",), takes_agent=True, needs_agent=True, agent_to=_ON_CALL
    ),
    (S.QUEUED, K.OFFERED): _OFFERED,
    (S.OFFERED, K.OFFERED): _OFFERED,
    (S.QUEUED, K.ANSWERED): replace(_ANSWERED, needs_agent=True),
    (S.OFFERED, K.ANSWERED): _ANSWERED,
    (S.OFFERED, K.QUEUED): Transition(S.QUEUED, clears=("agent_id", "offered_at")),
    (S.ANSWERED, K.HELD): Transition(S.HELD),
    (S.HELD, K.UNHELD): Transition(S.ANSWERED),
    (S.ANSWERED, K.ENDED): _ENDED,
    (S.HELD, K.ENDED): _ENDED,
    (S.QUEUED, K.ABANDONED): _ABANDONED,
    (S.OFFERED, K.ABANDONED): _ABANDONED,
    (S.ANSWERED, K.COMPLETED): _DONE,
    (S.HELD, K.COMPLETED): _DONE,
    (S.WRAP_UP, K.COMPLETED): _DONE,
    (S.ANSWERED, K.IDENTIFIED): _IDENTIFIED,
    (S.HELD, K.IDENTIFIED): _IDENTIFIED,
    (S.WRAP_UP, K.IDENTIFIED): _IDENTIFIED,
}

_AFTER_ANSWER = frozenset({S.WRAP_UP, S.COMPLETED})
ALREADY: dict[CallEventKind, frozenset[CallState]] = {
    K.QUEUED: frozenset({S.QUEUED}),
    K.OFFERED: frozenset({S.ANSWERED, S.HELD}) | _AFTER_ANSWER,
    K.ANSWERED: frozenset({S.ANSWERED, S.HELD}) | _AFTER_ANSWER,
    # A hold reported after the hang-up happened during the call: nothing left to change.
    K.HELD: frozenset({S.HELD}) | _AFTER_ANSWER,
    K.UNHELD: frozenset({S.ANSWERED}) | _AFTER_ANSWER,
    K.ENDED: _AFTER_ANSWER,
    K.ABANDONED: frozenset({S.ABANDONED}),
    K.COMPLETED: frozenset({S.COMPLETED}),
}
"""kind -> states in which the event has already happened (late or repeated): accepted,
changes nothing. Offered and answered name an agent: for another agent they are not repeats
but a different event, refused when the table has no entry for it."""

NEW_CALL_KINDS = frozenset(kind for state, kind in TABLE if state is NEW)
"""The kinds that may create a call (written by the per-database new-call writers)."""

LIVE_STATES = (S.OFFERED, S.ANSWERED, S.HELD)
"""A call in one of these states occupies its agent."""

ACTIVE_STATES = (S.ANSWERED, S.HELD, S.WRAP_UP)
"""The agent's call in one of these states is still on their screen."""


def already(state: CallState, kind: CallEventKind, other_agent: bool = False) -> bool:
    """True when an event of `kind` has already had its effect on a call in `state`.

    Args:
        state: the call's state.
        kind: the event.
        other_agent: the event names an agent other than the call's.
    """
    if other_agent and TABLE.get((S.QUEUED, kind), _NONE).takes_agent:
        return False
    return state in ALREADY.get(kind, frozenset())


def transition(call_id: int | None, state: CallState | None, kind: CallEventKind) -> Transition:
    """The table's entry, or InvalidTransition saying why there is none.

    Args:
        call_id: the call, for the message (None for a call not stored yet).
        state: the call's state; NEW (None) for a call not stored yet.
        kind: the event.

    Returns:
        What the event does.
    """
    found = TABLE.get((state, kind))
    if found is not None:
        return found
    if state is NEW:
        raise InvalidTransition(f"a {kind.value} event needs a call that exists")
    raise InvalidTransition(
        f"call {call_id} is {state.value.replace('_', ' ')}: it cannot be {kind.value}"
    )


__all__ = [
    "ACTIVE_STATES",
    "ALREADY",
    "LIVE_STATES",
    "NEW",
    "NEW_CALL_KINDS",
    "TABLE",
    "Transition",
    "already",
    "transition",
]
