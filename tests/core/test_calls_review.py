"""Call review: filters over logged calls, and quality scores stored per agent."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.calls.review import NO_OFFER, ReviewError, ReviewFilter, ReviewService, quality_criteria
from core.config import Settings, SettingsError, parse_settings
from core.identity import Identity, IdentitySource
from core.models import Agent, Call, Customer, OfferPresentation

MADRID = ZoneInfo("Europe/Madrid")
SETTINGS = parse_settings(
    {
        "FRONTLINE_TIMEZONE": "Europe/Madrid",
        "FRONTLINE_QUALITY_CRITERIA": "Greeting:2;Need understood:3;Tone:1",
        "FRONTLINE_LONG_HANDLE_SECONDS": "600",
    }
)


BOSS = Identity("boss", IdentitySource.OS, "test")
"""A supervisor in the database: scoring is theirs."""


def at(day: int, hh: int, mm: int) -> datetime:
    return datetime(2026, 3, day, hh, mm, tzinfo=MADRID)


@pytest.fixture
async def review(sessions: async_sessionmaker[AsyncSession]) -> ReviewService:
    async with sessions() as session, session.begin():
        ana = Agent(user_name="ana")
        ben = Agent(user_name="ben")
        session.add(Agent(user_name="boss", role="supervisor"))
        lucia = Customer(external_id="C00000001", first_name="Lucía", last_name="Pérez")
        session.add_all([ana, ben, lucia])
        await session.flush()
        # (agent, answered, handle minutes, reason, outcome, offer response or None)
        plan = [
            (ana, at(10, 9, 0), 4, "billing", "resolved", "accepted"),
            (ana, at(10, 11, 0), 12, "complaint", "escalated", "declined"),
            (ben, at(10, 10, 0), 5, "billing", "follow-up", None),
            (ben, at(9, 23, 50), 3, "sales", "sale", "accepted"),  # the day before
        ]
        for agent, answered, minutes, reason, outcome, response in plan:
            call = Call(
                customer_id=lucia.id,
                caller_number="612345678",
                state="completed",
                agent_id=agent.id,
                queued_at=answered - timedelta(seconds=15),
                answered_at=answered,
                ended_at=answered + timedelta(minutes=minutes - 1),
                wrap_up_ended_at=answered + timedelta(minutes=minutes),
                reason=reason,
                disposition=outcome,
                notes=f"{reason} call; customer [red]upset[/red]" if reason == "complaint" else "",
            )
            session.add(call)
            await session.flush()
            if response is not None:
                assert lucia.id is not None
                session.add(
                    OfferPresentation(
                        customer_id=lucia.id,
                        call_id=call.id,
                        agent_id=agent.id,
                        offer_id="FIBRE_UPGRADE",
                        rules_version="v1",
                        response=response,
                        decline_reason="too expensive" if response == "declined" else "",
                    )
                )
        # a call still in progress is not a logged call
        session.add(Call(state="answered", agent_id=ana.id, answered_at=at(10, 12, 0)))
    return ReviewService(sessions, SETTINGS)


async def _ids(review: ReviewService, **wanted: object) -> list[tuple[str, str]]:
    rows = await review.calls(ReviewFilter(**wanted))  # type: ignore[arg-type]
    return [(r.agent, r.reason) for r in rows]


async def test_filters_over_logged_calls(review: ReviewService) -> None:
    assert await _ids(review) == [
        ("ana", "complaint"),
        ("ben", "billing"),
        ("ana", "billing"),
        ("ben", "sales"),
    ]
    assert await _ids(review, agent="ana") == [("ana", "complaint"), ("ana", "billing")]
    # "day" is the local day: ben's 23:50 call on the 9th is not the 10th's
    assert await _ids(review, day=date(2026, 3, 10), agent="ben") == [("ben", "billing")]
    assert await _ids(review, reason="billing") == [("ben", "billing"), ("ana", "billing")]
    assert await _ids(review, outcome="escalated") == [("ana", "complaint")]
    assert await _ids(review, offer_response="accepted") == [("ana", "billing"), ("ben", "sales")]
    assert await _ids(review, offer_response="declined") == [("ana", "complaint")]
    assert await _ids(review, offer_response=NO_OFFER) == [("ben", "billing")]
    assert await _ids(review, long_handle_only=True) == [("ana", "complaint")]


async def test_a_call_opened_in_full(review: ReviewService) -> None:
    (row,) = await review.calls(ReviewFilter(outcome="escalated"))
    detail = await review.detail(row.call_id)
    assert detail.row.customer == "Lucía Pérez"
    assert detail.row.handle_seconds == 720.0 and detail.row.long_handle
    assert detail.notes == "complaint call; customer [red]upset[/red]"
    assert [(o.offer_id, o.response, o.decline_reason) for o in detail.offers] == [
        ("FIBRE_UPGRADE", "declined", "too expensive")
    ]


async def test_scores_are_stored_replaced_and_listed_per_agent(review: ReviewService) -> None:
    rows = await review.calls(ReviewFilter(agent="ana"))
    complaint, billing = rows[0].call_id, rows[1].call_id
    first = await review.score(complaint, BOSS, {"Greeting": 2, "Need understood": 1, "Tone": 0})
    assert first.percent == pytest.approx(50.0)  # 3 of 6 points
    # scoring again replaces the reviewer's score
    await review.score(
        complaint, BOSS, {"Greeting": 2, "Need understood": 2, "Tone": 0}, "Apologise first."
    )
    await review.score(billing, BOSS, {"Greeting": 2, "Need understood": 3, "Tone": 1})
    ben_call = (await review.calls(ReviewFilter(agent="ben")))[0].call_id
    await review.score(ben_call, BOSS, {"Greeting": 1, "Need understood": 1, "Tone": 1})

    ana_scores = await review.scores_for("ana")
    assert [(s.call_id, round(s.percent, 1)) for s in ana_scores] == [
        (billing, 100.0),
        (complaint, 66.7),
    ]
    assert ana_scores[1].coaching_note == "Apologise first."
    summary = await review.by_agent()
    assert [(a.agent, a.scored_calls, round(a.average_percent, 1)) for a in summary] == [
        ("ana", 2, 83.3),
        ("ben", 1, 50.0),
    ]
    listed = await review.calls(ReviewFilter(agent="ana"))
    assert listed[0].score == pytest.approx(200 / 3)

    with pytest.raises(ReviewError, match="outside 0..1"):
        await review.score(billing, BOSS, {"Greeting": 2, "Need understood": 3, "Tone": 2})
    with pytest.raises(ReviewError, match="missing \\['Tone'\\]"):
        await review.score(billing, BOSS, {"Greeting": 2, "Need understood": 3})


def test_criteria_come_from_configuration() -> None:
    assert [(c.name, c.max_points) for c in quality_criteria(SETTINGS)] == [
        ("Greeting", 2),
        ("Need understood", 3),
        ("Tone", 1),
    ]
    assert len(quality_criteria(Settings())) == 5
    with pytest.raises(SettingsError, match="FRONTLINE_QUALITY_CRITERIA: 'Greeting:lots'"):
        parse_settings({"FRONTLINE_QUALITY_CRITERIA": "Greeting:lots"})
