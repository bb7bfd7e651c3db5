"""Call review: logged calls filtered for a supervisor, read in full, and scored for quality.

Quality criteria come from configuration: `FRONTLINE_QUALITY_CRITERIA="Greeting:2;Need
understood:3;…"` (name:maximum points, separated by semicolons). A score stores the points
per criterion, the share of points possible (percent) and a coaching note; one per call and
reviewer (scoring again replaces it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import fmean
from typing import TYPE_CHECKING

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.calls.metrics import local_zone
from core.config import Settings
from core.db import publish_change
from core.i18n import words as _
from core.models import (
    Agent,
    Call,
    CallEvent,
    CallState,
    Customer,
    OfferPresentation,
    QualityScore,
)
from core.models.types import utcnow
from core.privacy.access import Can, require_in

if TYPE_CHECKING:
    from core.identity import Identity

NO_OFFER = "none"
"""Offer-response filter value for calls where no offer was shown."""


class ReviewError(ValueError):
    """A score that cannot be stored (unknown criterion, points out of range, no call)."""


@dataclass(frozen=True)
class Criterion:
    name: str
    max_points: int


def quality_criteria(settings: Settings) -> list[Criterion]:
    """The quality form's criteria, from FRONTLINE_QUALITY_CRITERIA or the defaults."""
    return [Criterion(name, points) for name, points in settings.calls.quality_criteria]


@dataclass(frozen=True)
class ReviewFilter:
    agent: str = ""
    """User name; empty means every agent."""
    day: date | None = None
    """Local calendar day the call was answered; None means any day."""
    reason: str = ""
    outcome: str = ""
    offer_response: str = ""
    """accepted, declined, not_offered, "none" (no offer shown) or "" for any."""
    long_handle_only: bool = False
    limit: int = 200


@dataclass(frozen=True)
class ReviewRow:
    call_id: int
    answered_at: datetime | None
    agent: str
    customer: str
    caller_number: str
    reason: str
    outcome: str
    handle_seconds: float | None
    offers: str
    """The offer responses on the call, e.g. "accepted" or "declined, not_offered"."""
    score: float | None
    """Average quality percent of its reviews, or None if unscored."""
    long_handle: bool


@dataclass(frozen=True)
class OfferLine:
    offer_id: str
    response: str
    decline_reason: str


@dataclass(frozen=True)
class ScoreLine:
    call_id: int
    agent: str
    reviewer: str
    scored_at: datetime
    scores: dict[str, int]
    percent: float
    coaching_note: str


@dataclass(frozen=True)
class ReviewDetail:
    row: ReviewRow
    notes: str
    follow_up_on: date | None
    queue: str
    offers: list[OfferLine]
    events: list[tuple[datetime, str]]
    scores: list[ScoreLine]


@dataclass(frozen=True)
class AgentQuality:
    agent: str
    scored_calls: int
    average_percent: float
    last_scored_at: datetime


class ReviewService:
    """Logged calls for review, and their quality scores."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self.database_url = settings.database_url
        """Where the scores are kept, to say so when the database cannot be reached."""
        self._zone = local_zone(settings)
        self.criteria = quality_criteria(settings)
        self.long_handle_seconds = settings.calls.long_handle_seconds
        """A call whose talk + hold + wrap-up exceeds this counts as a long handle time."""

    async def calls(self, wanted: ReviewFilter) -> list[ReviewRow]:
        """Logged (completed) calls matching the filter, newest first.

        Args:
            wanted: the filter.

        Returns:
            At most `wanted.limit` rows.
        """
        query = (
            select(Call, col(Agent.user_name), col(Customer.first_name), col(Customer.last_name))
            .outerjoin(Agent, col(Agent.id) == col(Call.agent_id))
            .outerjoin(Customer, col(Customer.id) == col(Call.customer_id))
            .where(col(Call.state) == CallState.COMPLETED)
            .order_by(col(Call.answered_at).desc(), col(Call.id).desc())
        )
        if wanted.agent:
            query = query.where(col(Agent.user_name) == wanted.agent)
        if wanted.day is not None:
            start = datetime.combine(wanted.day, time(0), tzinfo=self._zone)
            query = query.where(
                col(Call.answered_at) >= start, col(Call.answered_at) < start + timedelta(days=1)
            )
        if wanted.reason:
            query = query.where(col(Call.reason) == wanted.reason)
        if wanted.outcome:
            query = query.where(col(Call.disposition) == wanted.outcome)
        shown = select(col(OfferPresentation.id)).where(
            col(OfferPresentation.call_id) == col(Call.id)
        )
        if wanted.offer_response == NO_OFFER:
            query = query.where(~exists(shown))
        elif wanted.offer_response:
            query = query.where(
                exists(shown.where(col(OfferPresentation.response) == wanted.offer_response))
            )
        # Long handle times are filtered after reading: time arithmetic differs between
        # SQLite and PostgreSQL, and a day's calls are few enough.
        query = query.limit(wanted.limit * 10 if wanted.long_handle_only else wanted.limit)
        async with self._sessions() as session:
            found = (await session.execute(query)).all()
            rows = await self._rows(session, [(c, a, first, last) for c, a, first, last in found])
        if wanted.long_handle_only:
            rows = [r for r in rows if r.long_handle]
        return rows[: wanted.limit]

    async def _rows(
        self, session: AsyncSession, found: list[tuple[Call, str | None, str | None, str | None]]
    ) -> list[ReviewRow]:
        ids = [c.id for c, *_ in found if c.id is not None]
        offers: dict[int, list[str]] = {}
        scores: dict[int, list[float]] = {}
        if ids:
            for call_id, response in await session.execute(
                select(col(OfferPresentation.call_id), col(OfferPresentation.response)).where(
                    col(OfferPresentation.call_id).in_(ids)
                )
            ):
                if call_id is not None:
                    offers.setdefault(call_id, []).append(response or "unanswered")
            for call_id, percent in await session.execute(
                select(col(QualityScore.call_id), col(QualityScore.percent)).where(
                    col(QualityScore.call_id).in_(ids)
                )
            ):
                scores.setdefault(call_id, []).append(percent)
        rows = []
        for call, agent, first, last in found:
            assert call.id is not None
            handle = None
            if call.answered_at is not None and call.wrap_up_ended_at is not None:
                handle = (call.wrap_up_ended_at - call.answered_at).total_seconds()
            name = f"{first or ''} {last or ''}".strip()
            rows.append(
                ReviewRow(
                    call_id=call.id,
                    answered_at=call.answered_at,
                    agent=agent or "",
                    customer=name or "unknown caller",
                    caller_number=call.caller_number,
                    reason=call.reason,
                    outcome=call.disposition,
                    handle_seconds=handle,
                    offers=", ".join(offers.get(call.id, [])),
                    score=fmean(scores[call.id]) if call.id in scores else None,
                    long_handle=handle is not None and handle > self.long_handle_seconds,
                )
            )
        return rows

    async def detail(self, call_id: int) -> ReviewDetail:
        """One logged call in full: notes, codes, offers, its events and its scores."""
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(
                        Call,
                        col(Agent.user_name),
                        col(Customer.first_name),
                        col(Customer.last_name),
                    )
                    .outerjoin(Agent, col(Agent.id) == col(Call.agent_id))
                    .outerjoin(Customer, col(Customer.id) == col(Call.customer_id))
                    .where(col(Call.id) == call_id)
                )
            ).first()
            if found is None:
                raise ReviewError(_("no call with id {id}").format(id=call_id))
            call, agent, first, last = found
            (row,) = await self._rows(session, [(call, agent, first, last)])
            offers = [
                OfferLine(o.offer_id, o.response or "unanswered", o.decline_reason)
                for o in (
                    await session.execute(
                        select(OfferPresentation)
                        .where(col(OfferPresentation.call_id) == call_id)
                        .order_by(col(OfferPresentation.presented_at))
                    )
                ).scalars()
            ]
            events = [
                (e.at, e.kind)
                for e in (
                    await session.execute(
                        select(CallEvent)
                        .where(col(CallEvent.call_id) == call_id)
                        .order_by(col(CallEvent.at), col(CallEvent.id))
                    )
                ).scalars()
            ]
            scores = await self._scores(session, col(QualityScore.call_id) == call_id)
        return ReviewDetail(
            row=row,
            notes=call.notes,
            follow_up_on=call.follow_up_on,
            queue=call.queue,
            offers=offers,
            events=events,
            scores=scores,
        )

    async def score(
        self, call_id: int, by: Identity, points: dict[str, int], coaching_note: str = ""
    ) -> ScoreLine:
        """Store (or replace) the quality score `by` gives a logged call.

        Args:
            call_id: the call.
            by: who scores: a supervisor (the role as stored when the score is written) or
                an OS administrator; anyone else gets AccessDenied.
            points: points per criterion; every configured criterion must be given.
            coaching_note: what the agent should keep or change.

        Returns:
            The stored score. Raises ReviewError for unknown criteria or points out of range,
            AccessDenied for anyone but a supervisor.
        """
        reviewer = by.name
        limits = {c.name: c.max_points for c in self.criteria}
        unknown = sorted(set(points) - set(limits))
        missing = sorted(set(limits) - set(points))
        if unknown or missing:
            raise ReviewError(
                _("unknown criteria {unknown}, missing {missing}")
                .format(unknown=unknown, missing=missing)
                .replace("[]", _("none"))
            )
        for name, given in points.items():
            if not 0 <= given <= limits[name]:
                raise ReviewError(
                    _("{name}: {given} is outside 0..{most}").format(
                        name=name, given=given, most=limits[name]
                    )
                )
        percent = 100.0 * sum(points.values()) / sum(limits.values())
        for attempt in range(2):
            try:
                async with self._sessions() as session, session.begin():
                    await require_in(session, by, Can.SCORE_CALLS)
                    call = await session.get(Call, call_id)
                    if call is None or call.state != CallState.COMPLETED:
                        raise ReviewError(_("call {id} is not a logged call").format(id=call_id))
                    stored = (
                        await session.execute(
                            select(QualityScore).where(
                                col(QualityScore.call_id) == call_id,
                                col(QualityScore.reviewer) == reviewer,
                            )
                        )
                    ).scalar_one_or_none()
                    if stored is None:
                        stored = QualityScore(call_id=call_id, reviewer=reviewer)
                        session.add(stored)
                    stored.agent_id = call.agent_id
                    stored.scores = json.dumps(points, ensure_ascii=False)
                    stored.percent = percent
                    stored.coaching_note = coaching_note
                    stored.scored_at = utcnow()
                    await publish_change(session, "review", str(call_id))
                    agent = await session.get(Agent, call.agent_id) if call.agent_id else None
                    return ScoreLine(
                        call_id=call_id,
                        agent=agent.user_name if agent else "",
                        reviewer=reviewer,
                        scored_at=stored.scored_at,
                        scores=dict(points),
                        percent=percent,
                        coaching_note=coaching_note,
                    )
            except IntegrityError:
                if attempt:  # the same reviewer saved twice at once: the retry updates
                    raise
        raise AssertionError("unreachable")

    async def scores_for(self, agent: str) -> list[ScoreLine]:
        """Every score of one agent's calls, newest first."""
        async with self._sessions() as session:
            return await self._scores(session, col(Agent.user_name) == agent)

    async def by_agent(self) -> list[AgentQuality]:
        """Each scored agent's number of scored calls and average percent, best first."""
        async with self._sessions() as session:
            lines = await self._scores(session, None)
        grouped: dict[str, list[ScoreLine]] = {}
        for line in lines:
            grouped.setdefault(line.agent, []).append(line)
        summary = [
            AgentQuality(
                agent=agent,
                scored_calls=len(items),
                average_percent=fmean(i.percent for i in items),
                last_scored_at=max(i.scored_at for i in items),
            )
            for agent, items in grouped.items()
        ]
        return sorted(summary, key=lambda a: (-a.average_percent, a.agent))

    async def _scores(self, session: AsyncSession, condition: object) -> list[ScoreLine]:
        query = (
            select(QualityScore, col(Agent.user_name))
            .outerjoin(Agent, col(Agent.id) == col(QualityScore.agent_id))
            .order_by(col(QualityScore.scored_at).desc())
        )
        if condition is not None:
            query = query.where(condition)  # type: ignore[arg-type]
        return [
            ScoreLine(
                call_id=s.call_id,
                agent=agent or "",
                reviewer=s.reviewer,
                scored_at=s.scored_at,
                scores=json.loads(s.scores),
                percent=s.percent,
                coaching_note=s.coaching_note,
            )
            for s, agent in await session.execute(query)
        ]
