"""A call recomputed from its stored events, in the order they happened.

Phone systems deliver late, twice and out of order. Every accepted event is stored, so the
call's state, agent and times are a fold of the transition table over its events sorted by
when they happened (ties by the table's `RANK`). The state machine applies an event that comes
in order directly (the fast path); one that sorts before an event already stored makes it
replay the whole call here, in the same transaction. Both use `step`, so a call ends the same
whatever order its events arrived in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.calls.states import NEW, RANK, STAMPED, Transition, already, lookup
from core.models import Agent, Call, CallEvent, CallEventKind, CallState


@dataclass(frozen=True)
class Replayed:
    """One stored event as the fold reads it."""

    kind: CallEventKind
    at: datetime
    agent_id: int | None
    console: bool
    variant: str = ""
    queue: str = ""


def order_key(kind: CallEventKind | str, at: datetime) -> tuple[datetime, int]:
    """Where an event sorts among a call's events: by time, then by the table's rank."""
    return at, RANK[CallEventKind(kind)]


def step(call: Call, step_: Transition, at: datetime, agent_id: int | None) -> None:
    """Apply one transition to the call's state, agent and times (nothing else)."""
    if step_.takes_agent and agent_id is not None and agent_id != call.agent_id:
        call.agent_id = agent_id
        for column in step_.agent_stamps:
            setattr(call, column, at)
    for column in step_.clears:
        setattr(call, column, None)
    for column in step_.stamps:
        setattr(call, column, at)
    for column in step_.fills:
        if getattr(call, column) is None:
            setattr(call, column, at)
    if step_.to is not None:
        call.state = step_.to


def fold(call: Call, events: list[tuple[int, Replayed]]) -> None:
    """Recompute `call` from its events (id, event), in the order they happened.

    An event that does not fit where it falls (a gap not filled yet, a contradiction) is
    skipped: it stays stored, and a later replay applies it if an earlier event fills the gap.
    """
    first_queue = call.queue
    call.agent_id = None
    for column in STAMPED:
        setattr(call, column, None)
    state: CallState | None = NEW
    ordered = sorted(events, key=lambda pair: (*order_key(pair[1].kind, pair[1].at), pair[0]))
    for _, event in ordered:
        other = event.agent_id is not None and event.agent_id != call.agent_id
        if state is not NEW and already(state, event.kind, other):
            continue
        found = lookup(state, event.kind, event.variant, console=event.console)
        if found is None:
            continue
        if found.needs_agent and call.agent_id is None and event.agent_id is None:
            continue
        if state is NEW and event.queue:
            first_queue = event.queue
        step(call, found, event.at, event.agent_id)
        if event.variant == "queue" and event.queue:
            first_queue = event.queue
        state = CallState(call.state)
    call.queue = first_queue


async def replay(session: AsyncSession, call: Call) -> None:
    """Recompute the call from every event stored for it (in the caller's transaction)."""
    assert call.id is not None
    rows = (
        await session.execute(
            select(
                col(CallEvent.id), col(CallEvent.kind), col(CallEvent.at), col(CallEvent.payload)
            ).where(col(CallEvent.call_id) == call.id)
        )
    ).all()
    bodies: list[tuple[int, str, datetime, dict[str, Any]]] = [
        (row[0] or 0, row[1], row[2], json.loads(row[3] or "{}")) for row in rows
    ]
    names = {_agent_name(body) for *_, body in bodies} - {""}
    ids: dict[str, int] = {}
    if names:
        found = await session.execute(
            select(col(Agent.user_name), col(Agent.id)).where(col(Agent.user_name).in_(names))
        )
        ids = {name: agent_id for name, agent_id in found.all() if agent_id is not None}
    events = []
    for event_id, kind, at, body in bodies:
        agent_id = body.get("agent_id")
        if agent_id is None:
            agent_id = ids.get(_agent_name(body))
        transfer = body.get("transfer") or {}
        events.append(
            (
                event_id,
                Replayed(
                    kind=CallEventKind(kind),
                    at=at,
                    agent_id=agent_id,
                    console=body.get("source") == "console",
                    variant=transfer_variant(transfer),
                    queue=str(transfer.get("queue") or body.get("queue") or ""),
                ),
            )
        )
    fold(call, events)


def _agent_name(body: dict[str, Any]) -> str:
    transfer = body.get("transfer") or {}
    return str(transfer.get("agent") or body.get("agent") or "")


def transfer_variant(transfer: dict[str, Any]) -> str:
    """The table's variant of a stored transfer: "queue", "blind" or "consult"."""
    if not transfer:
        return ""
    if transfer.get("queue") and not transfer.get("agent"):
        return "queue"
    return str(transfer.get("mode") or "blind")


__all__ = ["Replayed", "fold", "order_key", "replay", "step", "transfer_variant"]
