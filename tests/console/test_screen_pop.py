"""Screen pop across processes: `frontline call offer` in a subprocess pops the caller here."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable

from console.app import ConsoleApp
from console.messages import DatabaseChanged, follow_changes
from console.screen_pop import OfferWatcher
from console.screens.supervisor import SupervisorScreen
from console.widgets.call_panel import CallPanel
from core.calls.queue import QueueService
from core.config import Settings
from core.db import make_engine, make_sessions
from core.models import Agent, AgentState
from core.services import Services

ROOT = Path(__file__).resolve().parents[2]
COMMAND_LIMIT = 60.0  # seconds; a command takes about one


async def frontline(url: str, *args: str) -> dict[str, object]:
    """Run `frontline ARGS` in its own process, as a phone system's script would."""
    env = {
        **os.environ,
        "FRONTLINE_DATABASE_URL": url,
        "FRONTLINE_ENV_FILE": "/nonexistent",
        "PYTHONPATH": str(ROOT),
        # A command that hangs is stopped with SIGABRT: faulthandler then prints where
        # every one of its threads was, and the test fails with that instead of hanging.
        "PYTHONFAULTHANDLER": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console.cli",
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    communicating = asyncio.ensure_future(process.communicate())
    done, _ = await asyncio.wait({communicating}, timeout=COMMAND_LIMIT)
    if not done:
        process.send_signal(signal.SIGABRT)
        out, err = await communicating
        raise AssertionError(f"frontline {' '.join(args)} hung:\n{err.decode()}")
    out, err = communicating.result()
    assert process.returncode == 0, err.decode()
    result: dict[str, object] = json.loads(out)
    return result


async def until(pilot: Pilot[None], condition: Callable[[], bool], limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        await pilot.pause(0.05)
    assert condition()


class PopRecorder(App[None]):
    """A console reduced to its screen pop: records what it would pop."""

    def __init__(self, url: str, agent: str) -> None:
        super().__init__()
        self.engine = make_engine(url)
        self.agent = agent
        self.popped: list[tuple[str, int]] = []

        self.watcher = OfferWatcher(QueueService(make_sessions(self.engine), Settings()), agent)

    def on_mount(self) -> None:
        self.run_worker(follow_changes(self.engine, lambda: [self]), group="feed")

    def on_database_changed(self, message: DatabaseChanged) -> None:
        if self.watcher.concerns_me(message.changes):
            self.look()

    @work(exclusive=True, group="screen-pop-look", exit_on_error=False)
    async def look(self) -> None:
        for call in await self.watcher.new_offers():
            self.popped.append((call.caller_number, call.call_id))

    async def on_unmount(self) -> None:
        await self.engine.dispose()


async def _agents(url: str, *names: str) -> None:
    engine = make_engine(url)
    async with make_sessions(engine)() as session, session.begin():
        for name in names:
            session.add(Agent(user_name=name, state=AgentState.AVAILABLE))
    await engine.dispose()


async def test_an_offer_from_another_process_pops_only_at_that_agent(sqlite_url: str) -> None:
    await _agents(sqlite_url, "ana", "ben")
    app = PopRecorder(sqlite_url, "ana")
    async with app.run_test() as pilot:
        await pilot.pause(0.3)
        first = await frontline(sqlite_url, "call", "queue", "+34 612 345 678", "--queue", "vip")
        await frontline(sqlite_url, "call", "offer", str(first["call_id"]), "ben")
        second = await frontline(
            sqlite_url, "call", "queue", "944 001 122", "--external-id", "pbx-2"
        )
        await frontline(sqlite_url, "call", "offer", "pbx-2", "ana", "--external")
        await until(pilot, lambda: len(app.popped) == 1)
        assert app.popped == [("944 001 122", second["call_id"])]  # ben's call is not ana's

        # It rings unanswered, goes back to the queue, and is offered to ana again: pops again.
        requeued = await frontline(
            sqlite_url, "call", "queue", "944 001 122", "--external-id", "pbx-2"
        )
        assert requeued["state"] == "queued"
        await frontline(sqlite_url, "call", "offer", "pbx-2", "ana", "--external")
        await until(pilot, lambda: len(app.popped) == 2)
        assert app.popped[1] == ("944 001 122", second["call_id"])

        # Picked up on the desk phone before the console saw it ring: it pops all the same.
        await frontline(sqlite_url, "call", "abandon", "pbx-2", "--external")
        third = await frontline(sqlite_url, "call", "queue", "655 000 001")
        await frontline(sqlite_url, "call", "answer", str(third["call_id"]), "--agent", "ana")
        await until(pilot, lambda: len(app.popped) == 3)
        assert app.popped[2] == ("655 000 001", third["call_id"])


async def test_the_real_console_pops_the_caller_offered_by_another_process(
    services: Services,
) -> None:
    url = services.settings.resolved_database_url
    app = ConsoleApp(services, agent_name="maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.agent_screen.ready)
        queued = await frontline(url, "call", "queue", "+34 612 345 678", "--queue", "sales")
        offered = await frontline(url, "call", "offer", str(queued["call_id"]), "maria")
        assert offered["state"] == "offered"
        panel = app.agent_screen.query_one(CallPanel)
        await until(pilot, lambda: panel.draft is not None)
        call = panel.draft
        assert call is not None
        assert call.call_id == queued["call_id"]
        assert call.customer_id == services.customer_ids[0]  # type: ignore[attr-defined]
        assert app.agent_screen.customer_id == services.customer_ids[0]  # type: ignore[attr-defined]


async def test_a_supervisor_starts_on_the_live_queue_and_still_gets_calls(
    services: Services,
) -> None:
    async with services.sessions() as session, session.begin():
        session.add(Agent(user_name="sofia", display_name="Sofía", role="supervisor"))
    url = services.settings.resolved_database_url
    app = ConsoleApp(services, agent_name="sofia")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SupervisorScreen))
        await pilot.press("f12")
        await until(pilot, lambda: app.screen is app.agent_screen)
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, SupervisorScreen))
        await until(pilot, lambda: app.agent_screen.ready)
        queued = await frontline(url, "call", "queue", "+34 600 999 999")
        board = app.screen.query_one("#waiting-calls", DataTable)
        await until(pilot, lambda: board.row_count == 1)
        # The call is offered to the supervisor: back to the agent screen, unknown caller.
        await frontline(url, "call", "offer", str(queued["call_id"]), "sofia")
        await until(pilot, lambda: app.screen is app.agent_screen)
        panel = app.agent_screen.query_one(CallPanel)
        await until(pilot, lambda: panel.draft is not None)
        assert panel.draft is not None and panel.draft.customer_id is None
        assert panel.draft.caller_number == "+34 600 999 999"
