"""Roles enforced in the services themselves, not only by which screen a console shows:
scoring a call and changing another agent's state are a supervisor's, whoever calls the
service (a screen left open, a script, a CLI), with the role as stored when the write is made.
Runs on SQLite and PostgreSQL (the `sessions` fixture)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.calls.events import CallEvents
from core.calls.review import ReviewService
from core.config import parse_settings
from core.identity import Identity, IdentitySource
from core.models import Agent, AgentState, Call, QualityScore, Role
from core.privacy.access import AccessDenied

SETTINGS = parse_settings({"FRONTLINE_QUALITY_CRITERIA": "Greeting:2;Tone:1"})
POINTS = {"Greeting": 2, "Tone": 1}


def person(name: str, os_admin: bool = False) -> Identity:
    return Identity(name, IdentitySource.OS, "test", os_admin=os_admin)


@pytest.fixture
async def team(sessions: async_sessionmaker[AsyncSession]) -> int:
    """ana and ben are agents, sara a supervisor; one logged call of ana's (its id)."""
    async with sessions() as session, session.begin():
        ana = Agent(user_name="ana")
        session.add_all([ana, Agent(user_name="ben"), Agent(user_name="sara", role="supervisor")])
        await session.flush()
        now = datetime.now(UTC)
        call = Call(state="completed", agent_id=ana.id, answered_at=now, wrap_up_ended_at=now)
        session.add(call)
        await session.flush()
        assert call.id is not None
        return call.id


async def _scores(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(QualityScore))).one()[0])


async def test_only_a_supervisor_scores_a_call(
    sessions: async_sessionmaker[AsyncSession], team: int
) -> None:
    reviews = ReviewService(sessions, SETTINGS)
    for who in ("ben", "nobody"):  # an agent, and someone not registered (branch)
        with pytest.raises(AccessDenied) as denied:
            await reviews.score(team, person(who), POINTS, "well done")
        role = "agent" if who == "ben" else "branch"
        assert str(denied.value).startswith(
            f"{who} ({role}) may not score calls for quality: it needs the supervisor role"
        ), denied.value
    assert await _scores(sessions) == 0  # nothing written by a refusal
    stored = await reviews.score(team, person("sara"), POINTS, "well done")
    assert stored.reviewer == "sara" and stored.percent == 100.0
    admin = await reviews.score(team, person("root", os_admin=True), POINTS)
    assert admin.reviewer == "root"
    assert await _scores(sessions) == 2


async def test_a_supervisor_demoted_cannot_score_with_a_screen_still_open(
    sessions: async_sessionmaker[AsyncSession], team: int
) -> None:
    reviews = ReviewService(sessions, SETTINGS)
    sara = person("sara")
    await reviews.score(team, sara, POINTS)
    async with sessions() as session, session.begin():
        agent = (await session.execute(select(Agent).where(Agent.user_name == "sara"))).scalar_one()
        agent.role = "agent"
    with pytest.raises(AccessDenied, match="sara \\(agent\\) may not score calls"):
        await reviews.score(team, sara, {"Greeting": 0, "Tone": 0})
    assert [s.percent for s in await reviews.scores_for("ana")] == [100.0]  # unchanged


async def test_only_a_supervisor_changes_another_agents_state(
    sessions: async_sessionmaker[AsyncSession], team: int
) -> None:
    events = CallEvents(sessions)
    with pytest.raises(AccessDenied) as denied:
        await events.set_agent_state("ben", AgentState.BREAK, "lunch", by=person("ana"))
    assert str(denied.value).startswith(
        "ana (agent) may not change another agent's state: it needs the supervisor role"
    ), denied.value
    async with sessions() as session:
        ben = (await session.execute(select(Agent).where(Agent.user_name == "ben"))).scalar_one()
    assert ben.state != "break"  # left as it was
    own = await events.set_agent_state("ana", AgentState.BREAK, "lunch", by=person("ana"))
    assert own.state == "break"  # one's own state is one's own
    done = await events.set_agent_state("ben", AgentState.BREAK, "training", by=person("sara"))
    assert (done.user_name, done.state, done.reason) == ("ben", "break", "training")
    # the phone system (the API's events token) acts for no person: its token is its right
    assert (await events.set_agent_state("ben", AgentState.AVAILABLE)).state == "available"


def test_frontline_call_state_for_another_agent_needs_a_supervisor(db_url: str) -> None:
    from tests.core.test_agents_roles import _add, run

    asyncio.run(_add(db_url, "ana", Role.AGENT))
    asyncio.run(_add(db_url, "sara", Role.SUPERVISOR))
    refused = run(db_url, "call", "state", "ben", "break", "--reason", "lunch", agent="ana")
    assert refused.exit_code == 1, refused.output
    assert "ana (agent) may not change another agent's state" in refused.output
    assert "Traceback" not in refused.output
    own = run(db_url, "call", "state", "ana", "break", "--reason", "lunch", agent="ana")
    assert own.exit_code == 0 and json.loads(own.output)["state"] == "break", own.output
    done = run(db_url, "call", "state", "ben", "break", "--reason", "lunch", agent="sara")
    assert done.exit_code == 0 and json.loads(done.output)["agent"] == "ben", done.output
