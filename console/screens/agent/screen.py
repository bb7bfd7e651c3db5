"""AgentScreen: find the caller, see everything about them, log the call without losing a word.

At 120×40 and larger every pane is on screen at once; below that the same panes are shown
one at a time and switched with F2–F5. The screen owns the workers and talks to the core
services; its widgets only show data and send messages. The call itself (take, end, save,
offers) is in call_flow.py; following the phone system, hold and agent states in
call_follow.py; transfer in transfer.py; the screen pop in pop.py; the draft's writing in
drafts.py; signing in and restoring an unfinished call in sign_in.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Input, TextArea
from textual.worker import Worker, WorkerState

from console.i18n import _
from console.keymap import KEYMAP
from console.messages import PanelsReady, ServicesReady
from console.screens.agent.call_flow import CallFlow
from console.screens.agent.call_follow import CallFollow
from console.screens.agent.customer_view import CustomerView
from console.screens.agent.drafts import DraftKeeper
from console.screens.agent.pop import ScreenPop
from console.screens.agent.record import RecordActions
from console.screens.agent.sign_in import SignIn
from console.screens.agent.transfer import COMMAND_ACTIONS, CallTransfer
from console.screens.agent_commands import AgentCommands
from console.textual_words import TranslatedBindings
from console.widgets.call_panel import CallPanel
from console.widgets.contact_points import ContactPoints
from console.widgets.customer_header import CustomerHeader
from console.widgets.customer_list import CustomerList
from console.widgets.pane_bar import PaneBar, pane_title
from console.widgets.product_list import ProductList
from console.widgets.search_box import SearchBox
from console.widgets.timeline import Timeline

if TYPE_CHECKING:  # imported in the background once the screen is up (see ConsoleApp)
    from console.screen_pop import OfferWatcher
    from core.config import Settings
    from core.models import Agent
    from core.services import Services
    from core.services.history import HistoryCursor
    from core.services.overview import CustomerOverview

NARROW_WIDTH = 110
NARROW_HEIGHT = 32
PANES = ("search", "customer", "history", "call")
FOOTER_ACTIONS = "answer_call end_call finish_call link_customer take_break be_ready".split()
FOOTER_ACTIONS += COMMAND_ACTIONS  # the actions whose keys come and go in the footer
SEARCH_LIMIT = 10
"""Results shown as the agent types: more than a screenful only slows every keystroke."""


class AgentScreen(
    TranslatedBindings,
    RecordActions,
    SignIn,
    CallFollow,
    CallTransfer,
    ScreenPop,
    CallFlow,
    CustomerView,
    Screen[None],
):
    """The agent's screen for the whole call."""

    CSS_PATH = "agent.tcss"
    BINDINGS = KEYMAP["agent"].bindings
    COMMANDS = {AgentCommands}

    def __init__(
        self,
        settings: Settings,
        agent_name: str,
        caller: str | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.agent_name = agent_name
        self.initial_caller = caller
        self.now = now or (lambda: datetime.now(UTC))
        self.agent: Agent | None = None
        self.customer_id: int | None = None
        self.overview: CustomerOverview | None = None
        self.history_cursor: HistoryCursor | None = None
        self.pane = "search"
        self.narrow = False
        self.search_seq = 0
        self.signed_in = asyncio.Event()
        """Set once the agent is known and any unfinished call restored."""
        self.keeper = DraftKeeper(self, self._save_draft)
        self._services: Services | None = None
        self._services_ready = asyncio.Event()
        self._offer_watcher: OfferWatcher | None = None
        self._looking = False
        self._look_again = False
        self._offers_open: set[int] = set()
        self._offers_visible = False
        self._confirm_finish = False
        self._loyalty_panel = False
        self._offer_prompt = False

    @property
    def ready(self) -> bool:
        """True once the agent is known and any unfinished call restored."""
        return self.signed_in.is_set()

    @dataclass
    class CallOffered(Message):
        """A call rings at this agent: the app brings this screen to the front and pops it."""

        caller_number: str
        call_id: int

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="☎")
        yield PaneBar(id="pane-bar")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                with Vertical(id="search-pane", classes="pane") as search_pane:
                    search_pane.border_title = pane_title(self, "search")
                    yield SearchBox(id="search")
                    yield CustomerList(id="results")
                with Vertical(id="call-pane", classes="pane") as call_pane:
                    call_pane.border_title = pane_title(self, "call")
                    yield CallPanel(
                        now=self.now,
                        wrap_up_limit=self.settings.calls.wrap_up_limit_seconds,
                        id="call-panel",
                    )
            with Vertical(id="right"):
                with VerticalScroll(id="customer-pane", classes="pane") as customer_pane:
                    customer_pane.border_title = pane_title(self, "customer")
                    yield CustomerHeader(today=self._today(), id="customer-header")
                    with Horizontal(id="cards"):
                        with Vertical(id="about-card", classes="card") as card:
                            card.border_title = _("Contact · products")
                            yield ContactPoints(id="contacts")
                            yield ProductList(id="products")
                        with Vertical(id="loyalty-card", classes="card") as card:
                            card.border_title = _("Loyalty & value")
                            card.display = False  # until the loyalty panel is mounted
                with Vertical(id="history-pane", classes="pane") as history_pane:
                    history_pane.border_title = pane_title(self, "history")
                    yield Timeline(zone=self.settings.timezone, id="timeline")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#search", SearchBox).focus()
        self._apply_layout(self.app.size.width, self.app.size.height)
        self._show_customer_parts(False)

    def on_resize(self, event: Resize) -> None:
        self._apply_layout(event.size.width, event.size.height)

    def _apply_layout(self, width: int, height: int) -> None:
        self.narrow = width < NARROW_WIDTH or height < NARROW_HEIGHT
        self.set_class(self.narrow, "-narrow")
        self._show_pane_now()

    def _show_pane_now(self) -> None:
        for name in PANES:
            self.query_one(f"#{name}-pane").set_class(name == self.pane, "-active")
        if self.narrow:
            left = self.pane in ("search", "call")
            self.query_one("#left").display = left
            self.query_one("#right").display = not left
        else:
            self.query_one("#left").display = True
            self.query_one("#right").display = True
        self.query_one(PaneBar).active = self.pane

    def _show_customer_parts(self, shown: bool) -> None:
        self.query_one("#cards").display = shown
        if self._offer_prompt:
            self.query_one("#offers").display = shown and self._offers_visible

    def _today(self) -> date:
        from console.widgets.local_time import local

        return local(self.now(), self.settings.timezone).date()

    # --- panes and focus ----------------------------------------------------------------

    def action_show_pane(self, pane: str) -> None:
        self.pane = pane
        self._show_pane_now()
        target: Widget | None = None
        if pane == "search":
            target = self.query_one("#search", SearchBox)
        elif pane == "customer":
            target = self.query_one("#customer-pane")
        elif pane == "history":
            target = self.query_one(Timeline).table
        elif pane == "call":
            notes = self.query_one("#notes", TextArea)
            target = notes if not notes.disabled else self.query_one("#call-pane")
        if target is not None:
            # A pane just made visible can take focus only after the next refresh.
            self.call_after_refresh(target.focus)

    def action_focus_search(self) -> None:
        self.action_show_pane("search")
        self.query_one("#search", SearchBox).select_all()

    def action_focus_notes(self) -> None:
        self.action_show_pane("call")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        call = self.draft
        if action == "answer_call" and not self.ready:  # the role is not known yet: F6 waits
            return call is None
        if not self.role_allows(action, parameters):  # console/screens/agent/record.py
            return False
        if action == "answer_call":
            return call is None
        if action == "end_call":
            return call is not None and call.phase == "on_call"
        if action in ("finish_call", "pick_reason", "pick_outcome", "focus_notes"):
            return call is not None
        if action == "focus_offers":
            return self._offers_visible
        if action in COMMAND_ACTIONS:
            return self.may_command(action)
        if action == "take_break":
            return (
                self.ready
                and self.agent_state != "break"
                and (call is None or call.phase == "wrap_up")
            )
        if action == "be_ready":
            return self.agent_state in ("break", "offline")
        if action == "link_customer":
            return (
                call is not None
                and self.customer_id is not None
                and call.customer_id != self.customer_id
            )
        return True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Workers do not take the console down on an error (the call must survive it), but
        # the agent is told and the error is logged.
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.log.error(f"worker {event.worker.name} failed: {error!r}")
            self.notify(
                _("Something went wrong: {error}").format(error=error),
                title=_("Internal error"),
                severity="error",
                markup=False,
            )

    # --- services: loaded in the background so that the agent can type at once -------------

    @property
    def services(self) -> Services:
        assert self._services is not None, "services used before they were loaded"
        return self._services

    async def wait_services(self) -> Services:
        await self._services_ready.wait()
        return self.services

    def on_services_ready(self, message: ServicesReady) -> None:
        self._services = message.services
        self._services_ready.set()
        self.start_up()

    async def on_panels_ready(self, _message: PanelsReady) -> None:
        # Panels other parts of Frontline provide; their (heavy) modules are loaded by now.
        from console.widgets.optional import LoyaltyPanel, OfferPrompt

        if LoyaltyPanel is not None and not self._loyalty_panel:
            card = self.query_one("#loyalty-card")
            await card.mount(LoyaltyPanel(id="loyalty"))
            card.display = True
            self._loyalty_panel = True
        if OfferPrompt is not None and not self._offer_prompt:
            prompt = OfferPrompt(id="offers")
            prompt.display = False
            await self.query_one("#customer-pane").mount(prompt, after="#cards")
            self._offer_prompt = True
        if self.customer_id is not None:  # opened meanwhile: its figures now
            self.load_figures(self.customer_id)

    # --- search -------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _query_changed(self, event: Input.Changed) -> None:
        self.search_seq += 1
        self.search(event.value, self.search_seq)

    @work(exclusive=True, group="customer-search", exit_on_error=False)
    async def search(self, query: str, seq: int) -> None:
        results = self.query_one(CustomerList)
        if not query.strip():
            results.show([])
            return
        try:
            services = await self.wait_services()
            hits = await services.search.search(query, limit=SEARCH_LIMIT)
        except Exception as error:  # noqa: BLE001 - show it, keep the box usable
            if seq == self.search_seq:
                results.show([], _("Search failed: {error}").format(error=error))
            return
        if seq != self.search_seq:  # a newer keystroke already asked: drop this answer
            return
        results.show(hits, pane_title(self, "nobody-found"))

    @on(SearchBox.Move)
    def _move_in_results(self, event: SearchBox.Move) -> None:
        self.query_one(CustomerList).move(event.step)

    @on(Input.Submitted, "#search")
    def _open_from_search(self) -> None:
        if not self.query_one(CustomerList).open_highlighted():
            self.notify(_("No customer to open: type a name, phone, email or number."))

    @on(CustomerList.Opened)
    def _opened(self, event: CustomerList.Opened) -> None:
        self.open_customer(event.customer_id)
        if self.narrow:
            self.action_show_pane("customer")

    def _refresh_bindings_if_changed(self) -> None:
        """The footer is rebuilt on every refresh of the bindings: only when the keys that
        make sense have changed (opening another customer mostly changes none)."""
        if self._bindings_state() != self._bindings_shown:
            self.refresh_bindings()

    _bindings_shown: tuple[bool | None, ...] = ()

    def _bindings_state(self) -> tuple[bool | None, ...]:
        return tuple(self.check_action(action, ()) for action in FOOTER_ACTIONS) + (
            self._offers_visible,
        )

    def refresh_bindings(self) -> None:
        self._bindings_shown = self._bindings_state()
        super().refresh_bindings()
