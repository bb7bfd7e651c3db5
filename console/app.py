"""ConsoleApp: wiring only (settings → services → screens, keymap)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterable
from datetime import datetime

from textual.app import App, SystemCommand
from textual.screen import Screen

from console.keymap import APP_BINDINGS, parse_keymap
from console.screens.agent import AgentScreen
from console.screens.help import HelpScreen
from core.services import Services


class ConsoleApp(App[None]):
    """The Frontline console."""

    TITLE = "Frontline"
    CSS_PATH = "app.tcss"
    BINDINGS = APP_BINDINGS

    def __init__(
        self,
        services: Services,
        agent_name: str,
        caller: str | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.agent_name = agent_name
        self.caller = caller
        self.now = now
        self.agent_screen = AgentScreen(services, agent_name, caller=caller, now=now)
        keymap = services.settings.get("keymap")
        if keymap:
            self.set_keymap(parse_keymap(keymap))

    def on_mount(self) -> None:
        self.sub_title = self.agent_name
        self.push_screen(self.agent_screen)
        # A closed terminal or a dropped SSH link: write the draft, then leave.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hang_up)

    def _hang_up(self) -> None:
        self.run_worker(self.action_quit(), group="hang-up", exit_on_error=False)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        else:
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Every key and what the figures mean", self.action_help)

    async def action_quit(self) -> None:
        screen = self.agent_screen
        if screen.is_mounted:
            try:  # the last keystrokes too, not just those of the last draft
                await screen.flush_draft()
                if screen.agent is not None and screen.agent.id is not None:
                    await self.services.calls.sign_out(screen.agent.id)
            except Exception as error:  # noqa: BLE001 - never keep the agent from leaving
                self.log.warning(f"closing: {error}")
        self.exit()

    async def on_unmount(self) -> None:
        await self.services.close()
