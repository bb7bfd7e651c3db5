"""ConsoleApp: wiring only (settings → services → screens, keymap).

The agent screen is drawn first; the services (database check, heavy imports such as the
analytics and rules engines) load in a thread meanwhile, so that the agent can start typing
at once. `services_ready` is set when they are there.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.screen import Screen

from console import single_layout
from console.keymap import APP_BINDINGS, SUPERVISOR_TOGGLE
from console.screens.agent import AgentScreen
from console.screens.help import HelpScreen

single_layout.install()

if TYPE_CHECKING:
    from core.config import Settings
    from core.services import Services


def _import_supervisor_screens() -> None:
    import console.screens.supervisor  # noqa: F401 - imported here, not on the event loop


def _warm_up(services: Services) -> None:
    services.warm_up()
    import console.widgets.optional  # noqa: F401 - imported here, not on the event loop


class ConsoleApp(App[None]):
    """The Frontline console."""

    TITLE = "Frontline"
    CSS_PATH = "app.tcss"
    BINDINGS = [*APP_BINDINGS, SUPERVISOR_TOGGLE]

    def __init__(
        self,
        services: Services | Callable[[], Services],
        agent_name: str,
        caller: str | None = None,
        now: Callable[[], datetime] | None = None,
        settings: Settings | None = None,
    ) -> None:
        """`services`, or a function that builds them (run in a thread after the first
        paint; then `settings` must be given)."""
        super().__init__()
        self.services: Services | None = None
        self._load_services: Callable[[], Services] | None = None
        if callable(services):
            assert settings is not None, "settings are needed while the services load"
            self._load_services = services
        else:
            self.services = services
            settings = services.settings
        self.settings = settings
        self.services_ready = asyncio.Event()
        self.panels_ready = asyncio.Event()
        """Set once the heavy parts (analytics and rules engines, their panels) are loaded."""
        self.agent_name = agent_name
        self.caller = caller
        self.now = now
        self.agent_screen = AgentScreen(settings, agent_name, caller=caller, now=now)
        self.is_supervisor = False
        self._call_feed: asyncio.Task[None] | None = None
        if settings.console.keymap:
            self.set_keymap(dict(settings.console.keymap))

    def on_mount(self) -> None:
        self.sub_title = self.agent_name
        self.push_screen(self.agent_screen)
        if self.services is not None:
            self.services_ready.set()
            self.panels_ready.set()
        else:  # after the first paint, so the agent sees the console and can type at once
            self.call_after_refresh(
                self.run_worker, self._load(), group="services", exit_on_error=False
            )
        # A task rather than a worker: it runs as long as the console, and workers are what
        # tests wait on to settle.
        self._call_feed = asyncio.create_task(self.follow_calls())
        # A closed terminal or a dropped SSH link: write the draft, then leave.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hang_up)

    async def _load(self) -> None:
        assert self._load_services is not None
        try:
            self.services = await asyncio.to_thread(self._load_services)
        except Exception as error:  # noqa: BLE001 - say why, then leave
            self.exit(return_code=1, message=f"Frontline cannot start: {error}")
            return
        self.services_ready.set()  # the search answers from here on
        # Then, once the agent is signed in (imports in a thread still hold the interpreter
        # lock much of the time), and off the event loop: the analytics and rules engines
        # and their panels (numpy, scipy, CEL: seconds of imports finding a caller does not need).
        for _ in range(100):
            if self.agent_screen.ready:
                break
            await asyncio.sleep(0.05)
        try:
            await asyncio.to_thread(_warm_up, self.services)
        finally:
            self.panels_ready.set()

    async def follow_calls(self) -> None:
        """Supervisors get their screens; every agent gets calls offered to them popped."""
        try:
            await self.services_ready.wait()
            await self._follow_calls()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the console goes on without screen pops
            self.log.error(f"call feed stopped: {error!r}")
            self.notify(
                f"Calls will not pop up: {error}", severity="error", timeout=10, markup=False
            )

    async def _follow_calls(self) -> None:
        from console.screen_pop import watch_offers
        from core.calls.queue import QueueService
        from core.models import Role

        services = self.services
        assert services is not None
        agent = await services.agents.ensure(self.agent_name)
        if agent.role == Role.SUPERVISOR:
            # The supervisor's screens bring the rules and analytics engines: imported in a
            # thread (on the event loop they would freeze the console for seconds), and only
            # for supervisors.
            await asyncio.to_thread(_import_supervisor_screens)
            from console.screens.supervisor import make_supervisor_screen

            self.is_supervisor = True
            self.install_screen(make_supervisor_screen(services, self.agent_name), "supervisor")
            self.push_screen("supervisor")
            self.refresh_bindings()
        while not self.agent_screen.ready:  # its start-up signs the agent in
            await asyncio.sleep(0.05)
        queue = QueueService(services.sessions, services.settings)
        await watch_offers(services.engine, queue, self.agent_name, self._pop, agent.id)

    def _pop(self, caller_number: str, call_id: int) -> None:
        supervisor = sys.modules.get("console.screens.supervisor")
        screens = supervisor.SUPERVISOR_SCREENS if supervisor is not None else ()
        # A ringing call comes first: leave the supervisor's screens for the agent screen.
        while screens and isinstance(self.screen, screens):
            self.pop_screen()
        self.agent_screen.pop_caller(caller_number, call_id)

    def action_toggle_supervisor(self) -> None:
        if self.screen is self.agent_screen:
            self.push_screen("supervisor")
        elif self.get_screen("supervisor") in self.screen_stack:
            while self.screen is not self.agent_screen:
                self.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_supervisor":
            return self.is_supervisor
        return True

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
        if screen.is_mounted and self.services is not None:
            try:  # the last keystrokes too, not just those of the last draft
                await screen.flush_draft()
                if screen.agent is not None and screen.agent.id is not None:
                    await self.services.calls.sign_out(screen.agent.id)
            except Exception as error:  # noqa: BLE001 - never keep the agent from leaving
                self.log.warning(f"closing: {error}")
        self.exit()

    async def on_unmount(self) -> None:
        if self._call_feed is not None:
            self._call_feed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._call_feed
        if self.services is not None:
            await self.services.close()
