"""The call's one transition table: (state, event kind) -> what the event does.

Everything that moves a call reads this table: the phone system's events (HTTP API, adapters,
`frontline call`) and the agent console's own take / hold / end / complete, which are events
like the phone system's (source "console"). Nothing restates it as code.

    new --queued--> queued --offered--> offered --answered--> answered <--held/unheld--> held
     \\--answered (taken at the console)-----------------------^   |--ended--> wrap_up
       queued --answered--> answered (picked up with no offer first)
       queued/offered --abandoned--> abandoned   offered --queued--> queued (rang, no answer)
       answered/held/wrap_up --completed--> completed (wrap-up saved)
       answered/held --transferred--> queued (to a queue) | offered (blind, to an agent)
                                      | answered (consult: the agent took it over)
       queued/offered --ended--> abandoned (a hang-up with no answer; phone systems only)
       any open call --closed_stale--> abandoned (never answered) | completed (the sweep)

An event whose effect is already there (`ALREADY`: answering an answered call, ending a call
in wrap-up) is accepted and changes nothing, because phone systems repeat themselves and
deliver late. Any other pair not in `TABLE` is refused with InvalidTransition when it comes
from the console or the call is finished; from a phone system it may be a gap (an earlier
event not here yet): it is stored and applied when a replay finds it fits
(`core.calls.replay`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.calls.errors import InvalidTransition
from core.i18n import words as _
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
    phone_only: bool = False
    """Only a phone system's event takes this entry (the console's actions are never late)."""


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
    fills=("answered_at",),  # the first answer (what the caller waited for), not a transfer's
    takes_agent=True,
    agent_stamps=("offered_at",),
    agent_to=_ON_CALL,
)
_OFFERED = Transition(
    CallState.OFFERED, takes_agent=True, needs_agent=True, agent_stamps=("offered_at",)
)
_ABANDONED = Transition(CallState.ABANDONED, stamps=("abandoned_at",))
_IDENTIFIED = Transition(None)
_HUNG_UP = Transition(CallState.ABANDONED, stamps=("abandoned_at",), phone_only=True)
_STALE_DONE = Transition(
    CallState.COMPLETED,
    stamps=("wrap_up_ended_at",),
    fills=("ended_at",),
    agent_to=AgentState.AVAILABLE,
    agent_from=frozenset({_ON_CALL, _WRAP}),
)
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
    (S.QUEUED, K.ENDED): _HUNG_UP,
    (S.OFFERED, K.ENDED): _HUNG_UP,
    (S.ANSWERED, K.CONFERENCED): _NONE,
    (S.HELD, K.CONFERENCED): _NONE,
    **{(s, K.CLOSED_STALE): _ABANDONED for s in (S.QUEUED, S.OFFERED)},
    **{(s, K.CLOSED_STALE): _STALE_DONE for s in (S.ANSWERED, S.HELD, S.WRAP_UP)},
}

TRANSFERS: dict[str, Transition] = {
    "queue": Transition(S.QUEUED, clears=("agent_id", "offered_at")),
    "blind": Transition(
        S.OFFERED, takes_agent=True, needs_agent=True, agent_stamps=("offered_at",)
    ),
    "consult": Transition(
        S.ANSWERED,
        takes_agent=True,
        needs_agent=True,
        agent_stamps=("offered_at",),
        agent_to=_ON_CALL,
    ),
}
"""A transfer of an answered or held call, by where it goes: back to a queue, blind to an
agent (it rings there), consult (the target agent already took it over). The agent who
transferred it is set free by the state machine."""
TRANSFER_FROM = frozenset({S.ANSWERED, S.HELD})

TERMINAL = frozenset({S.COMPLETED, S.ABANDONED})
"""Nothing can happen to a call after these."""

_CONTRADICTS_ABANDON = frozenset({K.QUEUED, K.OFFERED, K.ANSWERED})


def refused_after(state: CallState, kind: CallEventKind) -> bool:
    """True when an event that does not fit a call in `state` can never fit (refused), rather
    than waiting for an earlier event: anything after completion; after an abandon, an agent
    taking the call. A hang-up or wrap-up after an abandon may yet fit: an abandon read from a
    hang-up becomes an answered call when the late answer arrives."""
    if state == S.COMPLETED:
        return True
    return state == S.ABANDONED and kind in _CONTRADICTS_ABANDON


RANK: dict[CallEventKind, int] = {
    K.QUEUED: 0,
    K.OFFERED: 1,
    K.ANSWERED: 2,
    K.IDENTIFIED: 3,
    K.HELD: 4,
    K.UNHELD: 5,
    K.CONFERENCED: 6,
    K.TRANSFERRED: 6,
    K.ENDED: 7,
    K.ABANDONED: 7,
    K.COMPLETED: 8,
    K.CLOSED_STALE: 9,
}
"""How events reported at the same instant are ordered: the order a call lives them."""

STAMPED = ("queued_at", "offered_at", "answered_at", "ended_at", "wrap_up_ended_at", "abandoned_at")
"""The call's times: all of them follow from its events (a replay recomputes them)."""

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
    K.CONFERENCED: _AFTER_ANSWER,
    K.CLOSED_STALE: TERMINAL,
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


def lookup(
    state: CallState | None, kind: CallEventKind, variant: str = "", *, console: bool = False
) -> Transition | None:
    """The table's entry for `kind` on a call in `state`, or None.

    Args:
        state: the call's state; NEW (None) for a call not stored yet.
        kind: the event.
        variant: for a transfer, where it goes ("queue", "blind", "consult").
        console: the event is the agent console's own (phone-only entries do not apply).
    """
    if kind == K.TRANSFERRED:
        return TRANSFERS.get(variant) if state in TRANSFER_FROM else None
    found = TABLE.get((state, kind))
    if found is None or (console and found.phone_only):
        return None
    return found


def transition(
    call_id: int | None,
    state: CallState | None,
    kind: CallEventKind,
    variant: str = "",
    *,
    console: bool = False,
) -> Transition:
    """`lookup`, or InvalidTransition saying why there is no entry.

    Args:
        call_id: the call, for the message (None for a call not stored yet).
        state: the call's state; NEW (None) for a call not stored yet.
        kind: the event.
        variant: for a transfer, where it goes.
        console: the event is the agent console's own.

    Returns:
        What the event does.
    """
    found = lookup(state, kind, variant, console=console)
    if found is not None:
        return found
    if state is NEW:
        raise InvalidTransition(
            _("a {kind} event needs a call that exists").format(kind=kind.value)
        )
    raise InvalidTransition(
        _("call {id} is {state}: it cannot be {kind}").format(
            id=call_id, state=state.value.replace("_", " "), kind=kind.value
        )
    )


__all__ = [
    "ACTIVE_STATES",
    "ALREADY",
    "LIVE_STATES",
    "NEW",
    "NEW_CALL_KINDS",
    "RANK",
    "STAMPED",
    "TABLE",
    "TERMINAL",
    "TRANSFERS",
    "Transition",
    "already",
    "lookup",
    "refused_after",
    "transition",
]
