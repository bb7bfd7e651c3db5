"""The supervisor's live view: calls waiting, today's figures, and every agent's state.

Read-only; the figures and their definitions live in core/calls/metrics.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.calls.metrics import (
    WAITING_STATES,
    CallTimes,
    DayFigures,
    Threshold,
    compute_day,
    day_start,
    local_zone,
    occupancy,
    thresholds,
    waiting_series,
)
from core.config import Settings
from core.models import Agent, AgentState, Call, CallState, Customer, OfferPresentation
from core.models.types import utcnow

# How far before today (or the last hour) to look for calls that may still matter: a call
# waiting longer than this is not a realistic queue any more.
_LOOKBACK = timedelta(hours=3)
_AGENT_ORDER = {s: i for i, s in enumerate(["on_call", "wrap_up", "available", "break", "offline"])}


@dataclass(frozen=True)
class WaitingCall:
    call_id: int
    caller_number: str
    queue: str
    queued_at: datetime
    wait_seconds: float
    state: str
    """queued, or offered (ringing at `agent`)."""
    agent: str
    offered_at: datetime | None = None


@dataclass(frozen=True)
class QueueSnapshot:
    at: datetime
    waiting: list[WaitingCall]
    """Oldest first."""
    figures: DayFigures
    series: list[int]
    """Calls waiting at each minute of the last hour, oldest first."""
    levels: dict[str, str]
    """Figure name -> "ok" | "warn" | "alert", from the configured thresholds."""
    service_level_seconds: int
    short_abandon_seconds: int


@dataclass(frozen=True)
class AgentRow:
    agent_id: int
    user_name: str
    display_name: str
    role: str
    state: str
    reason: str
    since: datetime
    seconds_in_state: float
    call_id: int | None
    call_state: str
    call_seconds: float | None
    """Since the current call was answered (or offered, while ringing)."""
    customer: str
    """The current call's customer name, or its caller number while unknown."""
    handled_today: int
    aht_today: float | None
    offers_accepted_today: int


@dataclass(frozen=True)
class TeamSnapshot:
    at: datetime
    agents: list[AgentRow]
    occupancy: float | None
    levels: dict[str, str]


class QueueService:
    """Live queue and team figures for supervisors."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._zone = local_zone(settings)
        self._thresholds: dict[str, Threshold] = thresholds(settings)
        self._short = settings.calls.short_abandon_seconds

    @property
    def thresholds(self) -> dict[str, Threshold]:
        return self._thresholds

    async def snapshot(self, now: datetime | None = None) -> QueueSnapshot:
        """The queue now: waiting calls, today's figures and the last hour's waiting series.

        Args:
            now: the moment to compute for; None means now.

        Returns:
            The snapshot.
        """
        now = now or utcnow()
        since = min(day_start(now, self._zone), now - timedelta(hours=1)) - _LOOKBACK
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Call, col(Agent.user_name))
                    .outerjoin(Agent, col(Agent.id) == col(Call.agent_id))
                    .where(
                        or_(
                            col(Call.queued_at) >= since,
                            col(Call.state).in_([s.value for s in WAITING_STATES]),
                        )
                    )
                )
            ).all()
        calls = [_times(call) for call, _ in rows]
        t = self._settings.service_level_seconds
        figures = compute_day(calls, now, self._zone, t, self._short)
        waiting = sorted(
            (
                WaitingCall(
                    call_id=call.id or 0,
                    caller_number=call.caller_number,
                    queue=call.queue,
                    queued_at=call.queued_at,
                    wait_seconds=max(0.0, (now - call.queued_at).total_seconds()),
                    state=call.state,
                    agent=user_name or "",
                )
                for call, user_name in rows
                if call.state in WAITING_STATES and call.queued_at is not None
            ),
            key=lambda w: w.queued_at,
        )
        th = self._thresholds
        levels = {
            "service_level": th["service_level"].level(figures.service_level),
            "longest_wait": th["longest_wait"].level(figures.longest_wait),
            "waiting": th["waiting"].level(figures.waiting),
            "asa": th["asa"].level(figures.asa),
            "aht": th["aht"].level(figures.aht),
            "abandonment_rate": th["abandonment_rate"].level(figures.abandonment_rate),
        }
        return QueueSnapshot(
            at=now,
            waiting=waiting,
            figures=figures,
            series=waiting_series(calls, now),
            levels=levels,
            service_level_seconds=t,
            short_abandon_seconds=self._short,
        )

    async def offered_to(self, agent_name: str, answered_too: bool = False) -> list[WaitingCall]:
        """Calls from the queue ringing at this agent now, oldest first.

        Args:
            agent_name: the agent's user name.
            answered_too: also the queue's calls this agent has answered and not ended (the
                agent picked up on the phone before the console saw the ring).

        Returns:
            The calls; empty for an unknown agent.
        """
        states = [CallState.OFFERED]
        if answered_too:
            states += [CallState.ANSWERED, CallState.HELD]
        now = utcnow()
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Call)
                    .join(Agent, col(Agent.id) == col(Call.agent_id))
                    .where(col(Agent.user_name) == agent_name)
                    .where(col(Call.state).in_([s.value for s in states]))
                    # the agent's own console calls never ring; one transferred here does
                    .where(
                        or_(col(Call.queued_at).is_not(None), col(Call.state) == CallState.OFFERED)
                    )
                    .order_by(col(Call.offered_at), col(Call.id))
                )
            ).scalars()
            return [
                WaitingCall(
                    call_id=call.id or 0,
                    caller_number=call.caller_number,
                    queue=call.queue,
                    queued_at=call.queued_at or call.offered_at or now,
                    wait_seconds=(now - (call.queued_at or now)).total_seconds(),
                    state=call.state,
                    agent=agent_name,
                    offered_at=call.offered_at,
                )
                for call in rows
            ]

    async def transfer_targets(self, exclude: str = "") -> tuple[list[str], list[str]]:
        """Where an agent can pass a call on: (available agents, queues), by name.

        Args:
            exclude: the agent asking (never their own target).

        Returns:
            The user names of available agents, and the queues calls came through lately.
        """
        since = utcnow() - _LOOKBACK * 8
        async with self._sessions() as session:
            agents = (
                await session.execute(
                    select(col(Agent.user_name))
                    .where(col(Agent.state) == AgentState.AVAILABLE)
                    .where(col(Agent.user_name) != exclude)
                    .order_by(col(Agent.user_name))
                )
            ).scalars()
            queues = (
                await session.execute(
                    select(col(Call.queue))
                    .where(col(Call.queue) != "", col(Call.queued_at) >= since)
                    .distinct()
                    .order_by(col(Call.queue))
                )
            ).scalars()
            return list(agents), list(queues)

    async def team(self, now: datetime | None = None) -> TeamSnapshot:
        """Every agent: state and time in it, current call, today's calls, AHT, offers accepted.

        Args:
            now: the moment to compute for; None means now.

        Returns:
            Agents busiest first (on a call, wrap-up, available, break, offline), then by name.
        """
        now = now or utcnow()
        start = day_start(now, self._zone)
        async with self._sessions() as session:
            agents = (await session.execute(select(Agent))).scalars().all()
            current = (
                await session.execute(
                    select(Call, col(Customer.first_name), col(Customer.last_name))
                    .outerjoin(Customer, col(Customer.id) == col(Call.customer_id))
                    .where(col(Call.agent_id).is_not(None))
                    .where(
                        col(Call.state).in_(
                            [
                                CallState.OFFERED,
                                CallState.ANSWERED,
                                CallState.HELD,
                                CallState.WRAP_UP,
                            ]
                        )
                    )
                )
            ).all()
            handled = (
                await session.execute(
                    select(Call).where(
                        col(Call.agent_id).is_not(None),
                        col(Call.answered_at) >= start - _LOOKBACK,
                    )
                )
            ).scalars()
            handled_calls = list(handled)
            accepted_rows = await session.execute(
                select(col(OfferPresentation.agent_id), func.count())
                .where(col(OfferPresentation.response) == "accepted")
                .where(col(OfferPresentation.responded_at) >= start)
                .group_by(col(OfferPresentation.agent_id))
            )
            accepted: dict[int | None, int] = {a: int(n) for a, n in accepted_rows}
        by_agent: dict[int, list[Call]] = defaultdict(list)
        for call in handled_calls:
            began = call.queued_at or call.answered_at
            if call.agent_id is not None and began is not None and start <= began <= now:
                by_agent[call.agent_id].append(call)
        live: dict[int, tuple[Call, str]] = {}
        for call, first, last in current:
            assert call.agent_id is not None
            # An agent can have a call ringing while the previous one is in wrap-up: show
            # the one that matters most.
            held = live.get(call.agent_id)
            if held is None or _CALL_RANK[call.state] < _CALL_RANK[held[0].state]:
                name = f"{first or ''} {last or ''}".strip() if first or last else ""
                live[call.agent_id] = (call, name or call.caller_number)
        rows: list[AgentRow] = []
        for agent in agents:
            assert agent.id is not None
            call_info = live.get(agent.id)
            now_call = call_info[0] if call_info else None
            call_started = None
            if now_call is not None:
                call_started = now_call.answered_at or now_call.offered_at or now_call.queued_at
            handles = [
                h
                for h in (_times(c).handle_seconds for c in by_agent.get(agent.id, []))
                if h is not None
            ]
            rows.append(
                AgentRow(
                    agent_id=agent.id,
                    user_name=agent.user_name,
                    display_name=agent.display_name or agent.user_name,
                    role=agent.role,
                    state=agent.state,
                    reason=agent.state_reason,
                    since=agent.state_since,
                    seconds_in_state=max(0.0, (now - agent.state_since).total_seconds()),
                    call_id=now_call.id if now_call is not None else None,
                    call_state=now_call.state if now_call is not None else "",
                    call_seconds=(
                        max(0.0, (now - call_started).total_seconds()) if call_started else None
                    ),
                    customer=call_info[1] if call_info else "",
                    handled_today=len(by_agent.get(agent.id, [])),
                    aht_today=fmean(handles) if handles else None,
                    offers_accepted_today=int(accepted.get(agent.id, 0)),
                )
            )
        rows.sort(key=lambda r: (_AGENT_ORDER.get(r.state, 9), r.user_name))
        occ = occupancy([a.state for a in agents])
        th = self._thresholds
        return TeamSnapshot(
            at=now,
            agents=rows,
            occupancy=occ,
            levels={"occupancy": th["occupancy"].level(occ)},
        )


_CALL_RANK: dict[str, int] = {
    CallState.ANSWERED: 0,
    CallState.HELD: 0,
    CallState.OFFERED: 1,
    CallState.WRAP_UP: 2,
}


def _times(call: Call) -> CallTimes:
    return CallTimes(
        call_id=call.id or 0,
        state=call.state,
        queued_at=call.queued_at,
        answered_at=call.answered_at,
        abandoned_at=call.abandoned_at,
        ended_at=call.ended_at,
        wrap_up_ended_at=call.wrap_up_ended_at,
        agent_id=call.agent_id,
    )


__all__ = ["AgentRow", "AgentState", "QueueService", "QueueSnapshot", "TeamSnapshot", "WaitingCall"]
