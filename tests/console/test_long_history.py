"""The whole history is reachable from the keyboard, although only a page is read at a time."""

from __future__ import annotations

from console.app import ConsoleApp
from console.widgets.timeline import Timeline
from core.services import Services
from tests.console.conftest import running
from tests.console.test_agent_screen import open_first, screen_of, settle

HISTORY = 260
"""Interactions of C00000001 in the seed (tests/console/seed.py), over several pages."""


async def test_end_pressed_again_and_again_reaches_the_oldest_interaction(
    services: Services,
) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        await open_first(pilot, "C00000001")
        timeline = screen_of(app).query_one(Timeline)
        await pilot.press("f4")
        for _ in range(20):  # each press reaches the last row read; the next page follows
            await pilot.press("end")
            await settle(pilot)
            if not timeline.has_more:
                break
        await pilot.press("end")
        await settle(pilot)
        assert len(timeline.items) == HISTORY
        assert timeline.table.cursor_row == HISTORY - 1
        notes = str(timeline.query_one("#timeline-notes").render())
        assert "Question #1 about" in notes
