"""Call review at 80×24 by keyboard: filter, open a call, score it, see it per agent."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, TabbedContent

from console.screens.call_review import CallReviewScreen, ScoreForm
from console.screens.rules import RulesScreen
from console.screens.supervisor import make_supervisor_screen
from core.calls.review import ReviewService
from core.config import parse_settings
from core.db import make_engine, make_sessions
from core.identity import Identity, IdentitySource
from core.models import Agent, Call, Customer
from core.services import Services

SETTINGS = parse_settings({"FRONTLINE_QUALITY_CRITERIA": "Greeting:2;Need understood:3;Tone:1"})


class Host(App[None]):
    def __init__(self, screen: CallReviewScreen) -> None:
        super().__init__()
        self.review_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.review_screen)


BOSS = Identity("boss", IdentitySource.OS, "test")
"""The supervisor who scores (a supervisor in the database: the service checks)."""


async def until(pilot: Pilot[None], condition: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        await pilot.pause(0.05)
    assert condition()


async def test_filter_open_and_score_a_call_by_keyboard(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_sessions(engine)
    start = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    async with sessions() as session, session.begin():
        ana, ben = Agent(user_name="ana"), Agent(user_name="ben")
        who = Customer(external_id="C00000001", first_name="[b]Lucía", last_name="Pérez")
        session.add_all([ana, ben, who, Agent(user_name="boss", role="supervisor")])
        await session.flush()
        for n, (agent, minutes, reason) in enumerate(
            [(ana, 4, "billing"), (ana, 14, "complaint"), (ben, 5, "billing")]
        ):
            answered = start + timedelta(hours=n)
            session.add(
                Call(
                    customer_id=who.id,
                    state="completed",
                    agent_id=agent.id,
                    answered_at=answered,
                    wrap_up_ended_at=answered + timedelta(minutes=minutes),
                    reason=reason,
                    disposition="resolved",
                    notes=f"Notes of call {n}: [red]not markup[/red]",
                )
            )
    reviews = ReviewService(sessions, SETTINGS)
    screen = CallReviewScreen(reviews, BOSS, ("billing", "complaint"), ("resolved",), zone=UTC)
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        table = screen.query_one("#review-table", DataTable)
        await until(pilot, lambda: table.row_count == 3)

        await pilot.press("f2")  # the agent filter
        assert screen.query_one("#filter-agent", Input).has_focus
        await pilot.press(*"ana")
        await until(pilot, lambda: table.row_count == 2)
        # tab to the long-handle checkbox and tick it
        for _ in range(5):
            await pilot.press("tab")
        await pilot.press("space")
        await until(pilot, lambda: table.row_count == 1)
        assert str(table.get_row_at(0)[3]) == "Complaint / Resolved"  # labels, not ids
        assert str(table.get_row_at(0)[2]) == "[b]Lucía Pérez"

        table.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ScoreForm))
        form = app.screen
        notes = str(form.query_one("#review-notes").render())
        assert "Notes of call 1: [red]not markup[/red]" in notes
        await pilot.press("2", "tab", "1", "tab", "1", "tab", *"Ask before hold.")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen)
        await until(pilot, lambda: str(table.get_row_at(0)[6]) == "67%")

        scores = await reviews.scores_for("ana")
        assert [(s.scores, s.coaching_note, s.reviewer) for s in scores] == [
            ({"Greeting": 2, "Need understood": 1, "Tone": 1}, "Ask before hold.", "boss")
        ]

        await pilot.press("f4")
        assert screen.query_one(TabbedContent).active == "scores-tab"
        quality = screen.query_one("#agent-quality", DataTable)
        await until(pilot, lambda: quality.row_count == 1)
        assert [str(c) for c in quality.get_row_at(0)[:3]] == ["ana", "1", "67%"]
        lines = screen.query_one("#agent-lines", DataTable)
        await until(pilot, lambda: lines.row_count == 1)
        assert str(lines.get_row_at(0)[3]) == "Ask before hold."
    await engine.dispose()


async def test_a_score_out_of_range_is_refused_and_nothing_stored(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_sessions(engine)
    async with sessions() as session, session.begin():
        ana = Agent(user_name="ana")
        session.add_all([ana, Agent(user_name="boss", role="supervisor")])
        await session.flush()
        now = datetime.now(UTC)
        session.add(Call(state="completed", agent_id=ana.id, answered_at=now, wrap_up_ended_at=now))
    reviews = ReviewService(sessions, SETTINGS)
    screen = CallReviewScreen(reviews, BOSS, (), (), zone=UTC)
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        table = screen.query_one("#review-table", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        table.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ScoreForm))
        await pilot.press("9", "tab", "1", "tab", "1", "ctrl+s")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ScoreForm)  # still open: Greeting 9 is outside 0..2
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
    assert await reviews.scores_for("ana") == []
    await engine.dispose()


async def test_supervisor_opens_the_offer_rules_with_a_key(services: Services) -> None:

    class SupervisorHost(App[None]):
        def on_mount(self) -> None:
            self.push_screen(make_supervisor_screen(services, "sara"))

    app = SupervisorHost()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, RulesScreen))
        table = app.screen.query_one("#rules-offers", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        assert str(table.get_row_at(0)[0]) == "gold-unlimited"
        await pilot.press("escape")
        assert not isinstance(app.screen, RulesScreen)
