"""The supervisor's live queue and team, driven by events written through another engine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Sparkline, TabbedContent

from console.messages import follow_changes
from console.screens.supervisor import SupervisorScreen
from console.widgets.queue_board import Figure
from core.calls.events import CallEvents, EventRequest
from core.calls.queue import QueueService
from core.config import Settings, parse_settings
from core.db import make_engine, make_sessions
from core.models import Agent, AgentState, CallEventKind, Customer


class Host(App[None]):
    """The supervisor's screen alone, told of the database's changes as the console tells it."""

    def __init__(self, screen: SupervisorScreen, engine: AsyncEngine) -> None:
        super().__init__()
        self.board = screen
        self.engine = engine

    def on_mount(self) -> None:
        self.push_screen(self.board)
        self.run_worker(follow_changes(self.engine, lambda: [self.board]), group="feed")


async def until(pilot: Pilot[None], condition: Callable[[], bool], limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        await pilot.pause(0.05)
    assert condition()


@pytest.fixture
async def engines(sqlite_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    console_engine = make_engine(sqlite_url)
    phone_engine = make_engine(sqlite_url)  # the phone system's API: other connections
    yield console_engine, phone_engine
    await console_engine.dispose()
    await phone_engine.dispose()


def _figure(app: App[None], fid: str) -> str:
    return app.screen.query_one(f"#fig-{fid}", Figure).value


def _rows(table: DataTable[object]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row(key)] for key in table.rows]


async def test_a_queued_call_appears_and_leaves_without_a_key_press(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    console_engine, phone_engine = engines
    phone = CallEvents(make_sessions(phone_engine))
    await phone.apply(
        EventRequest(kind=CallEventKind.QUEUED, caller_number="+34 600 111 222", queue="sales")
    )
    screen = SupervisorScreen(QueueService(make_sessions(console_engine), Settings()))
    app = Host(screen, console_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        table = screen.query_one("#waiting-calls", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        assert _rows(table)[0][1:3] == ["+34 600 111 222", "sales"]
        assert _figure(app, "waiting") == "1"
        assert _figure(app, "counts") == "1/0/0"
        first_row = next(iter(table.rows))

        # Another call arrives through the other engine: the board follows on its own.
        second = await phone.apply(
            EventRequest(kind=CallEventKind.QUEUED, caller_number="[bold]611", queue="tech")
        )
        await until(pilot, lambda: table.row_count == 2)
        assert _rows(table)[1][1] == "[bold]611"  # shown as typed, never as markup
        assert _figure(app, "waiting") == "2"
        assert next(iter(table.rows)) == first_row  # rows updated in place, not rebuilt

        await phone.apply(EventRequest(kind=CallEventKind.ABANDONED, call_id=second.call_id))
        await until(pilot, lambda: table.row_count == 1)
        await until(pilot, lambda: _figure(app, "counts") == "2/0/1")
        assert screen.query_one("#waiting-spark", Sparkline).data is not None


async def test_the_team_follows_an_answered_call(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    console_engine, phone_engine = engines
    phone_sessions = make_sessions(phone_engine)
    async with phone_sessions() as session, session.begin():
        session.add(Agent(user_name="ana", display_name="Ana Ruiz", state=AgentState.AVAILABLE))
        session.add(Agent(user_name="boss", role="supervisor", state=AgentState.OFFLINE))
        session.add(Customer(external_id="C00000042", first_name="Lucía", last_name="Pérez"))
    phone = CallEvents(phone_sessions)
    screen = SupervisorScreen(QueueService(make_sessions(console_engine), Settings()))
    app = Host(screen, console_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: screen.loads > 0)
        await pilot.press("f6")
        assert screen.query_one(TabbedContent).active == "team-tab"
        team = screen.query_one("#team", DataTable)
        await until(pilot, lambda: team.row_count == 2)
        assert [r[0] for r in _rows(team)] == ["Ana Ruiz", "boss"]

        call = await phone.apply(EventRequest(kind=CallEventKind.QUEUED, caller_number="699"))
        await phone.apply(
            EventRequest(kind=CallEventKind.ANSWERED, call_id=call.call_id, agent="ana")
        )
        await until(pilot, lambda: _rows(team)[0][1] == "on a call")
        assert _rows(team)[0][4] == "699"  # unknown caller: the number stands in
        await phone.apply(EventRequest(kind=CallEventKind.ENDED, call_id=call.call_id))
        await phone.apply(EventRequest(kind=CallEventKind.COMPLETED, call_id=call.call_id))
        await until(pilot, lambda: _rows(team)[0][1] == "available")
        assert _rows(team)[0][5] == "1"  # handled today

        await pilot.press("f8")
        await pilot.pause()
        definitions = str(screen.query_one("#definitions").render())
        assert "Service level: Answered within 20s" in definitions
        assert "short abandons" in definitions.lower()
        await pilot.press("f5")
        assert screen.query_one(TabbedContent).active == "queue-tab"


async def test_figures_turn_colour_past_configured_thresholds(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    console_engine, phone_engine = engines
    phone = CallEvents(make_sessions(phone_engine))
    for n in range(3):
        await phone.apply(EventRequest(kind=CallEventKind.QUEUED, caller_number=f"60000000{n}"))
    settings = parse_settings({"FRONTLINE_THRESHOLD_WAITING": "2,3"})
    screen = SupervisorScreen(QueueService(make_sessions(console_engine), settings))
    app = Host(screen, console_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: _figure(app, "waiting") == "3")
        assert screen.query_one("#fig-waiting", Figure).has_class("-alert")
        assert not screen.query_one("#fig-asa", Figure).has_class("-alert")
        await asyncio.sleep(0)
