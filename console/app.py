"""ConsoleApp: wiring only (settings → services → screens, keymap).

The agent screen is drawn first; the services (database check, heavy imports such as the
analytics and rules engines) load in a thread meanwhile, so that the agent can start typing
at once. Screens learn what they need by messages (console.messages): `ServicesReady` when
the services are there, `PanelsReady` when the heavy panels can be mounted, and
`DatabaseChanged` for every batch of the one change feed the app follows for the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from console import single_layout
from console.hang_up import SAVE_WITHIN, HangUp
from console.i18n import _
from console.key_names import check_keymap, key_label
from console.keymap import KEYMAP
from console.messages import PanelsReady, ServicesReady, follow_changes
from console.safe_text import clean
from console.screens.agent import AgentScreen
from console.screens.help import HelpScreen
from console.textual_words import Palette

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from console.screens.agent.record import RecordActions
    from core.config import Settings
    from core.services import Services

SIGN_IN_WAIT = 5.0
"""Seconds the heavy imports wait for the agent to be signed in (they slow the sign-in)."""
FULL_COLLECTION_EVERY = 100
"""Collections of the middle generation between two full ones (Python's default: 10)."""


def _freeze_what_is_loaded() -> None:
    # What is loaded by now (modules, screens, the engines and their caches) lives as long as
    # the console. Left to the collector, every full collection walked all of it again: pauses
    # of up to 180 ms in the middle of a keystroke or an open. Frozen, collections look only at
    # what came after; and full ones come ten times less often (each opened customer leaves
    # objects that survive a while, which set off one every second). Measured with
    # benchmarks/bench_console.py (10,000 customers): without it 49 ms CPU per key and 137 ms
    # per open, with it 41 and 115, and the worst open 1.8 s instead of 0.2 s.
    gc.freeze()
    young, middle, _oldest = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def _import_supervisor_screens() -> None:
    import console.screens.supervisor  # noqa: F401 - imported here, not on the event loop


def _warm_up(services: Services) -> None:
    services.warm_up()
    import console.widgets.optional  # noqa: F401 - imported here, not on the event loop


class ConsoleApp(App[None]):
    """The Frontline console."""

    TITLE = "Frontline"
    CSS_PATH = "app.tcss"
    BINDINGS = KEYMAP["app"].bindings

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
        self.agent_name = agent_name
        self.caller = caller
        self.now = now
        self.agent_screen = AgentScreen(settings, agent_name, caller=caller, now=now)
        self.is_supervisor = False
        self._supervisor_screens: tuple[type[Screen[object]], ...] = ()
        """Screens a ringing call closes (the supervisor's), once they are installed."""
        self._subscribers: list[MessagePump] = [self.agent_screen]
        """The screens that are told of the database's changes."""
        self._change_feed: asyncio.Task[None] | None = None
        self.hang_up = HangUp(self)
        self.keymap_overrides, self.keymap_problems = check_keymap(settings.console.keymap)
        """Binding id -> keys, from FRONTLINE_KEYMAP (help and panels name the keys as
        remapped); and what in it is not a binding id or a key (told at start)."""
        if self.keymap_overrides:
            self.set_keymap(self.keymap_overrides)
        single_layout.install()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast, from any screen or widget, shown as plain text.

        Toasts quote names, notes and database errors; one bracket in them would be parsed as
        markup and could crash the console (`[a=?`), so none is ever parsed, whatever the
        caller asked for, and control characters are made visible.
        """
        super().notify(
            clean(message), title=clean(title), severity=severity, timeout=timeout, markup=False
        )

    def get_key_display(self, binding: Binding) -> str:
        """A key as a person types it (`]`, `^O`, `F8`), in the footer and everywhere."""
        return binding.key_display or key_label(binding.key)

    def on_mount(self) -> None:
        self.sub_title = self.agent_name
        for problem in self.keymap_problems:
            self.notify(problem, title=_("Keymap"), severity="warning", timeout=20)
        self.push_screen(self.agent_screen)
        if self.services is not None:
            self._services_loaded(self.services)
            self._panels_ready()
        else:  # after the first paint, so the agent sees the console and can type at once
            self.call_after_refresh(
                self.run_worker, self._load(), group="services", exit_on_error=False
            )
        # A closed terminal or a dropped SSH link: write the draft, then leave (hang_up.py).
        self.hang_up.install()

    def _services_loaded(self, services: Services) -> None:
        self.agent_screen.post_message(ServicesReady(services))  # the search answers now
        # A task rather than a worker: it runs as long as the console, and workers are what
        # tests wait on to settle.
        self._change_feed = asyncio.create_task(self.follow_changes(services))
        self.run_worker(self._set_up_calls(services), group="calls", exit_on_error=False)

    async def _load(self) -> None:
        assert self._load_services is not None
        try:
            self.services = await asyncio.to_thread(self._load_services)
        except Exception as error:  # noqa: BLE001 - say why, then leave
            message = _("Frontline cannot start: {error}").format(error=error)
            self.exit(return_code=1, message=message)
            return
        self._services_loaded(self.services)
        # Then, once the agent is signed in (imports in a thread still hold the interpreter
        # lock much of the time), and off the event loop: the analytics and rules engines
        # and their panels (numpy, scipy, CEL: seconds of imports finding a caller does not need).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.agent_screen.signed_in.wait(), SIGN_IN_WAIT)
        try:
            await asyncio.to_thread(_warm_up, self.services)
        finally:
            self._panels_ready()

    def _panels_ready(self) -> None:
        import console.widgets.optional  # noqa: F401 - done by _warm_up unless services were given

        _freeze_what_is_loaded()  # the heavy modules included
        self.agent_screen.post_message(PanelsReady())

    async def follow_changes(self, services: Services) -> None:
        """The one change feed of the process, posted to every screen that follows it; when
        lost it reconnects and the screens are told (`FeedStatus`)."""
        await follow_changes(services.engine, lambda: self._subscribers)

    async def _set_up_calls(self, services: Services) -> None:
        """Supervisors get their screens; every agent gets calls offered to them popped."""
        try:
            await self._set_up_call_screens(services)
        except Exception as error:  # noqa: BLE001 - the console goes on without screen pops
            self.log.error(f"calls not set up: {error!r}")
            self.notify(
                _("Calls will not pop up: {error}").format(error=error),
                severity="error",
                timeout=10,
                markup=False,
            )

    async def _set_up_call_screens(self, services: Services) -> None:
        from console.screen_pop import OfferWatcher
        from core.models import Role

        agent = await services.agents.ensure(self.agent_name)
        if agent.role == Role.SUPERVISOR:
            await self._add_supervisor_screens(services)
            self.push_screen("supervisor")
        watcher = OfferWatcher(services.queue, self.agent_name)
        self.agent_screen.follow_offers(watcher)

    async def _add_supervisor_screens(self, services: Services) -> None:
        # The supervisor's screens bring the rules and analytics engines: imported in a
        # thread (on the event loop they would freeze the console for seconds), and only
        # for supervisors.
        await asyncio.to_thread(_import_supervisor_screens)
        from console.screens.supervisor import SUPERVISOR_SCREENS, make_supervisor_screen

        self.is_supervisor = True
        self._supervisor_screens = SUPERVISOR_SCREENS
        supervisor = make_supervisor_screen(services, self.agent_name)
        self._subscribers.append(supervisor)
        self.install_screen(supervisor, "supervisor")
        self.refresh_bindings()

    async def on_record_actions_role_changed(self, message: RecordActions.RoleChanged) -> None:
        """A role changed while the console is open: the supervisor's screens follow it."""
        from core.models import Role

        supervisor = message.role == Role.SUPERVISOR
        if supervisor and not self.is_supervisor and self.services is not None:
            await self._add_supervisor_screens(self.services)  # F12 opens them
        elif not supervisor and self.is_supervisor:
            screen = self.get_screen("supervisor")
            while screen in self.screen_stack:  # and what is over it (review, a picker)
                self.pop_screen()
            self.is_supervisor = False
            self._subscribers[:] = [s for s in self._subscribers if s is not screen]
            self.uninstall_screen("supervisor")
            self.refresh_bindings()

    def on_agent_screen_call_offered(self, message: AgentScreen.CallOffered) -> None:
        # A ringing call comes first: leave the supervisor's screens for the agent screen.
        while isinstance(self.screen, self._supervisor_screens):
            self.pop_screen()
        self.agent_screen.pop_caller(message.caller_number, message.call_id)

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

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        else:
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        # Textual's own commands in the reader's language (console/textual_words.py).
        for command in super().get_system_commands(screen):
            yield command._replace(title=_(command.title), help=_(command.help))
        yield SystemCommand(_("Help"), _("Every key and what the figures mean"), self.action_help)

    def action_help_quit(self) -> None:
        """Ctrl+C (Textual's): say which key leaves, in the reader's language."""
        for active in self.active_bindings.values():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(
                    _("Press {key} to leave Frontline.").format(
                        key=self.get_key_display(active.binding)
                    ),
                    title=_("Do you want to quit?"),
                )
                return

    def action_command_palette(self) -> None:
        """Textual's palette, with its placeholder and its "No matches found" translated."""
        if self.use_command_palette and not Palette.is_open(self):
            self.push_screen(Palette(id="--command-palette"))

    async def action_quit(self) -> None:
        await self.save_and_sign_out()
        self.exit()

    async def save_and_sign_out(self) -> None:
        """What leaving does first (Ctrl+Q, a closed terminal): the draft with the call
        panel's fields as they are this instant, then the agent signed out."""
        screen = self.agent_screen
        if not screen.is_mounted or self.services is None:
            return
        try:  # the last keystrokes too, not just those of the last draft
            from console.widgets.call_panel import CallPanel

            draft = screen.query_one(CallPanel).flush()
            if draft is not None:
                screen.keeper.changed(draft)
            await screen.keeper.flush()
            if screen.agent is not None and screen.agent.id is not None:
                await self.services.calls.sign_out(screen.agent.id)
        except Exception as error:  # noqa: BLE001 - never keep the agent from leaving
            self.log.warning(f"closing: {error}")

    def save_locally(self) -> None:
        """The newest draft to this machine's draft file, blocking, from any thread (a
        hang-up whose event loop does not answer); the next start restores it."""
        screen = self.agent_screen
        draft = screen.keeper.draft
        if self.services is None or draft is None or screen.agent is None or not screen.agent.id:
            return
        self.services.drafts.save_local(screen.agent.id, draft)

    async def on_unmount(self) -> None:
        if self.hang_up.task is not None:  # a hang-up's save finishes first
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self.hang_up.task), SAVE_WITHIN)
        if self._change_feed is not None:
            self._change_feed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._change_feed
        if self.services is not None:
            await self.services.close()
