"""ConsoleApp: wiring only (services, screens, keymap)."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from console.screens.agent import AgentScreen
from core.services import Services


class ConsoleApp(App[None]):
    """The Frontline console."""

    TITLE = "Frontline"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", tooltip="Leave Frontline.", id="quit", priority=True),
    ]

    def __init__(self, services: Services, agent_name: str, caller: str | None = None) -> None:
        super().__init__()
        self.services = services
        self.agent_name = agent_name
        self.caller = caller

    def on_mount(self) -> None:
        self.sub_title = self.agent_name
        self.push_screen(AgentScreen(self.services.customers))

    async def on_unmount(self) -> None:
        await self.services.close()
