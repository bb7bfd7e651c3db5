"""The one-layout-pass patch applies to the pinned Textual, and the console installs it."""

from __future__ import annotations

from textual.widget import Widget

from console import single_layout
from console.app import ConsoleApp
from core.services import Services


async def test_the_console_lays_the_screen_out_once_per_change(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with app.run_test(size=(120, 40)):
        # False here means this Textual changed Widget._size_updated: every change that
        # moves anything lays the whole screen out twice again (see console/single_layout.py).
        assert single_layout.installed()
        assert Widget._size_updated is not single_layout._original
