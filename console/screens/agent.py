"""AgentScreen: find the caller, see everything about them, log the call without losing a word.

At 120×40 and larger every pane is on screen at once; below that the same panes are shown
one at a time and switched with F2–F5. The screen owns the workers and talks to the core
services; its widgets only show data and send messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Header, Input, TextArea
from textual.worker import Worker, WorkerState

from console.keymap import AGENT_BINDINGS
from console.safe_text import clean
from console.screens.agent_commands import AgentCommands
from console.screens.pickers import UNKNOWN, CallerPicker, CodePicker
from console.widgets.call_panel import ActiveCall, CallPanel, FollowUpError, parse_follow_up
from console.widgets.contact_points import ContactPoints
from console.widgets.customer_header import CustomerHeader
from console.widgets.customer_list import CustomerList
from console.widgets.pane_bar import PaneBar
from console.widgets.product_list import ProductList
from console.widgets.search_box import SearchBox
from console.widgets.timeline import Timeline

if TYPE_CHECKING:  # imported in the background once the screen is up (see ConsoleApp)
    from core.config import Settings
    from core.models import Agent
    from core.services import Services
    from core.services.history import HistoryCursor
    from core.services.overview import CustomerOverview

NARROW_WIDTH = 110
NARROW_HEIGHT = 32
DRAFT_DELAY = 1.0
"""Seconds from the first unsaved keystroke to the draft write (the promise is 2 s)."""
DRAFT_RETRY = 3.0
"""Seconds between attempts while the database is unavailable."""

PANES = ("search", "customer", "history", "call")
SEARCH_LIMIT = 10
"""Results shown as the agent types: more than a screenful only slows every keystroke."""
FIRST_PAGE = 50
FULL_COLLECTION_EVERY = 100
"""Collections of the middle generation between two full ones (Python's default: 10)."""
"""History rows read when a customer opens (a screenful and more); older pages on demand."""


class AgentScreen(Screen[None]):
    """The agent's screen for the whole call."""

    CSS_PATH = "agent.tcss"
    BINDINGS = AGENT_BINDINGS
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
        self.ready = False
        """True once the agent is known and any unfinished call restored."""
        self._draft_timer: Timer | None = None
        self._draft_due_at = 0.0
        self._draft_saving = False
        self._draft_dirty = False
        self._draft_offline = False
        self._offers_open: set[int] = set()
        self._confirm_finish = False
        self._loyalty_panel = False
        self._offer_prompt = False

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="☎")
        yield PaneBar(id="pane-bar")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                with Vertical(id="search-pane", classes="pane") as search_pane:
                    search_pane.border_title = "Find  F2"
                    yield SearchBox(id="search")
                    yield CustomerList(id="results")
                with Vertical(id="call-pane", classes="pane") as call_pane:
                    call_pane.border_title = "Call  F5"
                    yield CallPanel(now=self.now, id="call-panel")
            with Vertical(id="right"):
                with VerticalScroll(id="customer-pane", classes="pane") as customer_pane:
                    customer_pane.border_title = "Customer  F3"
                    yield CustomerHeader(today=self._today(), id="customer-header")
                    with Horizontal(id="cards"):
                        with Vertical(id="about-card", classes="card") as card:
                            card.border_title = "Contact · products"
                            yield ContactPoints(id="contacts")
                            yield ProductList(id="products")
                        with Vertical(id="loyalty-card", classes="card") as card:
                            card.border_title = "Loyalty & value"
                            card.display = False  # until the loyalty panel is mounted
                with Vertical(id="history-pane", classes="pane") as history_pane:
                    history_pane.border_title = "History  F4"
                    yield Timeline(zone=self.settings.timezone, id="timeline")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#search", SearchBox).focus()
        self._apply_layout(self.app.size.width, self.app.size.height)
        self._show_customer_parts(False)
        self.start_up()

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
        with contextlib.suppress(Exception):
            self.query_one("#offers").display = shown and self._offers_visible

    _offers_visible = False

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
        call = self.query_one(CallPanel).call if self.is_mounted else None
        if action == "answer_call":
            return call is None
        if action == "end_call":
            return call is not None and call.phase == "on_call"
        if action in ("finish_call", "pick_reason", "pick_outcome", "focus_notes"):
            return call is not None
        if action == "focus_offers":
            return self._offers_visible
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
                f"Something went wrong: {error}",
                title="Internal error",
                severity="error",
                markup=False,
            )

    # --- services: loaded in the background so that the agent can type at once -------------

    @property
    def services(self) -> Services:
        services = self.app.services  # type: ignore[attr-defined]
        assert services is not None, "services used before they were loaded"
        return services  # type: ignore[no-any-return]

    async def wait_services(self) -> Services:
        await self.app.services_ready.wait()  # type: ignore[attr-defined]
        return self.services

    async def _mount_optional_panels(self) -> None:
        # Panels other parts of Frontline provide; their modules are loaded by now.
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

    # --- start: who is the agent, anything to restore -----------------------------------

    @work(group="panels", exit_on_error=False)
    async def mount_panels(self) -> None:
        """The loyalty and offer panels, once their (heavy) modules are loaded."""
        await self.app.panels_ready.wait()  # type: ignore[attr-defined]
        await self._mount_optional_panels()
        # What is loaded by now (modules, screens, the engines and their caches) lives as long
        # as the console. Left to the collector, every full collection walked all of it again:
        # pauses of up to 180 ms in the middle of a keystroke or an open. Frozen, collections
        # look only at what came after; and full ones come ten times less often (each opened
        # customer leaves objects that survive a while, which set off one every second).
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
        if self.customer_id is not None:  # opened meanwhile: its figures now
            self.load_figures(self.customer_id)

    @work(group="start-up", exit_on_error=False)
    async def start_up(self) -> None:
        self.mount_panels()
        await self.wait_services()
        try:
            self.agent = await self.services.agents.ensure(self.agent_name)
        except Exception as error:  # noqa: BLE001 - the agent must know why nothing saves
            self.notify(
                f"Cannot reach the database: {error}", severity="error", timeout=30, markup=False
            )
            return
        assert self.agent.id is not None
        await self.services.calls.sign_in(self.agent.id)
        self._set_subtitle()
        draft = await self.services.drafts.load(self.agent.id)
        if draft is not None and draft.payload.get("call"):
            await self._restore(draft.payload, draft.from_fallback)
        else:
            active = await self.services.calls.active_call(self.agent.id)
            if active is not None and active.id is not None and active.answered_at is not None:
                restored = ActiveCall(
                    phase="wrap_up" if active.state == "wrap_up" else "on_call",
                    call_id=active.id,
                    customer_id=active.customer_id,
                    caller="Unknown caller" if active.customer_id is None else "Customer",
                    caller_number=active.caller_number,
                    started_at=active.answered_at,
                    ended_at=active.ended_at,
                )
                await self._restore(
                    {"call": restored.to_json(), "notes": "", "follow_up": ""}, False
                )
        self.ready = True
        if self.initial_caller and self.query_one(CallPanel).call is None:
            self.pop_caller(self.initial_caller, None)

    async def _restore(self, payload: dict[str, Any], from_fallback: bool) -> None:
        call = ActiveCall.from_json(payload["call"])
        panel = self.query_one(CallPanel)
        panel.show(
            call, notes=str(payload.get("notes", "")), follow_up=str(payload.get("follow_up", ""))
        )
        # Offers shown before the restart are not on screen any more: nothing to answer.
        self._offers_open = set()
        self.refresh_bindings()
        self._set_subtitle()
        self.notify("Your unfinished call is back, as you left it.", title="Call restored")
        if call.customer_id is not None:
            self.open_customer(call.customer_id, with_offers=False)
        if from_fallback:
            self._schedule_draft()

    def _set_subtitle(self) -> None:
        call = self.query_one(CallPanel).call
        state = (
            "available" if call is None else ("on a call" if call.phase == "on_call" else "wrap-up")
        )
        self.app.sub_title = f"{clean(self.agent_name)} · {state}"

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
                results.show([], f"Search failed: {error}")
            return
        if seq != self.search_seq:  # a newer keystroke already asked: drop this answer
            return
        results.show(hits, "Nobody found. F6 logs a call for someone not found.")

    @on(SearchBox.Move)
    def _move_in_results(self, event: SearchBox.Move) -> None:
        self.query_one(CustomerList).move(event.step)

    @on(Input.Submitted, "#search")
    def _open_from_search(self) -> None:
        if not self.query_one(CustomerList).open_highlighted():
            self.notify("No customer to open: type a name, phone, email or number.")

    @on(CustomerList.Opened)
    def _opened(self, event: CustomerList.Opened) -> None:
        self.open_customer(event.customer_id)
        if self.narrow:
            self.action_show_pane("customer")

    # --- the customer -------------------------------------------------------------------

    @work(exclusive=True, group="open-customer", exit_on_error=False)
    async def open_customer(self, customer_id: int, with_offers: bool = True) -> None:
        services = self.services
        try:
            # Independent reads, each on its own connection, at the same time; the figures
            # too, so that the whole customer is drawn in one frame (one layout, not two).
            overview, page, counts, profile = await asyncio.gather(
                services.overview.overview(customer_id),
                services.history.page(customer_id, limit=FIRST_PAGE),
                services.history.channel_counts(customer_id),
                self._profile(customer_id),
            )
        except Exception as error:  # noqa: BLE001
            self.notify(f"Could not open the customer: {error}", severity="error", markup=False)
            return
        with self.app.batch_update():
            self.customer_id = customer_id
            self.overview = overview
            self.history_cursor = page.next_cursor
            header = self.query_one(CustomerHeader)
            header.today = self._today()
            header.overview = overview
            self.query_one(ContactPoints).points = overview.contact_points
            self.query_one(ProductList).overview = overview
            timeline = self.query_one(Timeline)
            timeline.reset(None, counts)
            timeline.append(page.items, page.next_cursor is not None)
            self._show_customer_parts(True)
            self._show_figures(customer_id, profile)
        if profile is None and self._loyalty_panel:  # the panel came while reading
            self.load_figures(customer_id)
        self.record_view(customer_id)
        call = self.query_one(CallPanel).call
        if call is not None and call.customer_id is None and call.call_id is not None:
            await self._link(call, customer_id)
        self._refresh_bindings_if_changed()
        call = self.query_one(CallPanel).call
        if with_offers and call is not None and call.customer_id == customer_id:
            self.load_offers(customer_id)

    @work(group="audit", exit_on_error=False)
    async def record_view(self, customer_id: int) -> None:
        """Every opened customer is in the audit trail (who saw whom, and when)."""
        try:
            await self.services.audit.record(self.agent_name, "view", customer_id, "agent screen")
        except Exception as error:  # noqa: BLE001 - never in the agent's way; say it once
            self.log.warning(f"audit record failed: {error}")

    async def _link(self, call: ActiveCall, customer_id: int) -> None:
        assert call.call_id is not None and self.overview is not None
        try:
            await self.services.calls.identify(call.call_id, customer_id)
        except Exception as error:  # noqa: BLE001
            self.notify(f"Could not link the caller: {error}", severity="error", markup=False)
            return
        panel = self.query_one(CallPanel)
        panel.show(
            ActiveCall(
                **{**call.__dict__, "customer_id": customer_id, "caller": self._caller_label()}
            )
        )
        self._schedule_draft()

    def _caller_label(self) -> str:
        if self.overview is None:
            return "Unknown caller"
        c = self.overview.customer
        return f"{c.full_name} ({c.external_id})"

    async def _profile(self, customer_id: int) -> Any:
        """The customer's loyalty and value figures; None without the panel; the error
        when they cannot be read (figures are a help, not a must: the customer opens)."""
        if not self._loyalty_panel:
            return None
        analytics = getattr(self.services, "analytics", None)
        if analytics is None:
            return None
        try:
            return await analytics.profile(customer_id)
        except Exception as error:  # noqa: BLE001
            return error

    def _show_figures(self, customer_id: int, profile: Any) -> None:
        from console.widgets.optional import loyalty_set

        if profile is None or customer_id != self.customer_id:
            return
        card = self.query_one("#loyalty-card")
        if isinstance(profile, Exception):
            card.border_subtitle = "figures unavailable"
            self.log.warning(f"profile of {customer_id}: {profile}")
            return
        card.border_subtitle = ""
        loyalty_set(self.query_one("#loyalty"), profile)

    @work(exclusive=True, group="figures", exit_on_error=False)
    async def load_figures(self, customer_id: int) -> None:
        self._show_figures(customer_id, await self._profile(customer_id))

    def _refresh_bindings_if_changed(self) -> None:
        """The footer is rebuilt on every refresh of the bindings: only when the keys that
        make sense have changed (opening another customer mostly changes none)."""
        if self._bindings_state() != self._bindings_shown:
            self.refresh_bindings()

    _bindings_shown: tuple[bool | None, ...] = ()

    def _bindings_state(self) -> tuple[bool | None, ...]:
        return tuple(
            self.check_action(action, ())
            for action in ("answer_call", "end_call", "finish_call", "link_customer")
        ) + (self._offers_visible,)

    def refresh_bindings(self) -> None:
        self._bindings_shown = self._bindings_state()
        super().refresh_bindings()

    @on(Timeline.MoreWanted)
    def _more_history(self) -> None:
        if self.customer_id is not None and self.history_cursor is not None:
            self.load_more_history(
                self.customer_id, self.query_one(Timeline).channel, self.history_cursor
            )

    @work(group="history-more", exit_on_error=False)
    async def load_more_history(
        self, customer_id: int, channel: str | None, cursor: HistoryCursor
    ) -> None:
        page = await self.services.history.page(customer_id, channel=channel, after=cursor)
        timeline = self.query_one(Timeline)
        if (
            customer_id != self.customer_id
            or channel != timeline.channel
            or cursor != self.history_cursor
        ):
            return  # the agent moved on meanwhile
        self.history_cursor = page.next_cursor
        timeline.append(page.items, page.next_cursor is not None)

    @on(Timeline.FilterChanged)
    def _filter(self, event: Timeline.FilterChanged) -> None:
        if self.customer_id is not None:
            self.load_history(self.customer_id, event.channel)

    @work(exclusive=True, group="history", exit_on_error=False)
    async def load_history(self, customer_id: int, channel: str | None) -> None:
        page, counts = await asyncio.gather(
            self.services.history.page(customer_id, channel=channel, limit=FIRST_PAGE),
            self.services.history.channel_counts(customer_id),
        )
        if customer_id != self.customer_id:
            return
        self.history_cursor = page.next_cursor
        timeline = self.query_one(Timeline)
        timeline.reset(channel, counts)
        timeline.append(page.items, page.next_cursor is not None)

    # --- offers -------------------------------------------------------------------------

    @work(exclusive=True, group="offers", exit_on_error=False)
    async def load_offers(self, customer_id: int) -> None:
        from console.widgets.optional import offers_set

        offers = getattr(self.services, "offers", None)
        call = self.query_one(CallPanel).call
        if offers is None or not self._offer_prompt or call is None or self.agent is None:
            return
        try:
            proposals = await offers.best_offers(
                customer_id, call_reason=call.reason, call_id=call.call_id, agent_id=self.agent.id
            )
        except Exception as error:  # noqa: BLE001
            self.log.warning(f"offers for {customer_id}: {error}")
            return
        if customer_id != self.customer_id:
            return
        self._offers_visible = bool(proposals)
        self._offers_open |= {p.presentation_id for p in proposals}
        offers_set(self.query_one("#offers"), proposals, getattr(offers, "decline_reasons", None))
        self.query_one("#offers").display = bool(proposals)
        self._schedule_draft()

    @work(group="offer-response", exit_on_error=False)
    async def record_offer_response(self, presentation_id: int, response: str, reason: str) -> None:
        try:
            await self.services.offers.record_response(presentation_id, response, reason)
        except Exception as error:  # noqa: BLE001
            self.notify(f"The answer was not recorded: {error}", severity="error", markup=False)
            return
        self._offers_open.discard(presentation_id)
        self._confirm_finish = False
        self._schedule_draft()

    def on_offer_prompt_response_chosen(self, event: Any) -> None:
        event.stop()
        self.record_offer_response(
            event.presentation_id, event.response, getattr(event, "decline_reason", "")
        )

    def action_focus_offers(self) -> None:
        if not self._offers_visible:
            self.notify("No offer for this customer right now.")
            return
        self.action_show_pane("customer")
        self.call_after_refresh(self.query_one("#offers").focus)

    # --- the call -----------------------------------------------------------------------

    def action_answer_call(self) -> None:
        if self.query_one(CallPanel).call is not None:
            self.notify("You are already on a call.", severity="warning")
            return
        self.take_call(self.customer_id, "", None)

    @work(exclusive=True, group="call", exit_on_error=False)
    async def take_call(
        self,
        customer_id: int | None,
        caller_number: str,
        call_id: int | None,
        show_call: bool = True,
    ) -> None:
        if self.agent is None or self.agent.id is None:
            self.notify("Still starting: try again in a moment.", severity="warning")
            return
        try:
            call = await self.services.calls.start(
                self.agent.id, customer_id, caller_number, call_id
            )
        except Exception as error:  # noqa: BLE001
            self.notify(f"Could not start the call: {error}", severity="error", markup=False)
            return
        assert call.answered_at is not None
        known = customer_id is not None and customer_id == self.customer_id
        active = ActiveCall(
            phase="on_call",
            call_id=call.id,
            customer_id=customer_id,
            caller=self._caller_label() if known else "Unknown caller",
            caller_number=call.caller_number,
            started_at=call.answered_at,
        )
        self._offers_open = set()
        self._offers_visible = False
        with contextlib.suppress(Exception):
            self.query_one("#offers").display = False
        self.query_one(CallPanel).show(active, notes="", follow_up="")
        self.refresh_bindings()
        self._set_subtitle()
        self._schedule_draft(now=True)
        if known and customer_id is not None:
            self.load_offers(customer_id)
        # On a small screen a popped caller's record stays in view (F5 for the notes).
        if show_call or not self.narrow or customer_id is None:
            self.action_show_pane("call")

    def action_end_call(self) -> None:
        panel = self.query_one(CallPanel)
        call = panel.call
        if call is None or call.phase != "on_call":
            return
        panel.show(ActiveCall(**{**call.__dict__, "phase": "wrap_up", "ended_at": self.now()}))
        self.refresh_bindings()
        self._set_subtitle()
        self._schedule_draft(now=True)
        self.end_call(call)
        if not call.reason:
            self.action_pick_reason()

    @work(group="call-end", exit_on_error=False)
    async def end_call(self, call: ActiveCall) -> None:
        if call.call_id is None:
            return
        try:
            await self.services.calls.end(call.call_id)
        except Exception as error:  # noqa: BLE001 - saving the call later still works
            self.notify(
                f"Wrap-up started here, not yet in the database: {error}", severity="warning"
            )

    def action_pick_reason(self) -> None:
        self._pick("reason", "Reason for the call", self.settings.call_reasons)

    def action_pick_outcome(self) -> None:
        self._pick("outcome", "Outcome of the call", self.settings.call_outcomes)

    def _pick(self, field: str, title: str, codes: tuple[str, ...]) -> None:
        panel = self.query_one(CallPanel)
        if panel.call is None:
            return
        current = getattr(panel.call, field)

        def chosen(code: str | None) -> None:
            if code is None:
                return
            panel.set_codes(**{field: code})
            self.refresh_bindings()
            if (
                field == "reason"
                and panel.call is not None
                and panel.call.phase == "wrap_up"
                and not panel.call.outcome
            ):
                self.action_pick_outcome()

        self.app.push_screen(CodePicker(title, codes, current), chosen)

    def action_finish_call(self) -> None:
        panel = self.query_one(CallPanel)
        call = panel.call
        if call is None:
            return
        if not call.reason:
            self.notify("Choose a reason first (F9).", severity="warning")
            self.action_pick_reason()
            return
        if not call.outcome:
            self.notify("Choose an outcome first (F10).", severity="warning")
            self.action_pick_outcome()
            return
        try:
            follow_up = parse_follow_up(panel.follow_up_text, self._today())
        except FollowUpError as error:
            self.notify(str(error), severity="error")
            self.action_show_pane("call")
            self.query_one("#follow-up", Input).focus()
            return
        if self._offers_open and not self._confirm_finish:
            self._confirm_finish = True
            self.notify(
                "An offer was shown but no answer was recorded. Record it in the offer panel, "
                "or press F8 again to save the call anyway.",
                severity="warning",
                timeout=8,
            )
            return
        self._confirm_finish = False
        self.complete_call(call, panel.notes, follow_up)

    @work(exclusive=True, group="call", exit_on_error=False)
    async def complete_call(self, call: ActiveCall, notes: str, follow_up: date | None) -> None:
        assert call.call_id is not None and self.agent is not None and self.agent.id is not None
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        try:
            interaction = await self.services.calls.complete(
                call.call_id, call.reason, call.outcome, notes, follow_up
            )
        except Exception as error:  # noqa: BLE001 - the draft keeps everything; try again
            self.notify(
                f"The call was not saved ({error}). Nothing is lost: press F8 to try again.",
                severity="error",
                timeout=15,
            )
            self._schedule_draft()
            return
        self.query_one(CallPanel).show(None, notes="", follow_up="")
        self._offers_open = set()
        with contextlib.suppress(Exception):
            await self.services.drafts.clear_local(self.agent.id)
        self.refresh_bindings()
        self._set_subtitle()
        who = (
            call.caller
            if call.customer_id is not None
            else f"unknown caller {call.caller_number}".strip()
        )
        self.notify(f"Call saved: {clean(who)}.", title="Saved", markup=False)
        if interaction is not None and interaction.customer_id == self.customer_id:
            self.open_customer(interaction.customer_id, with_offers=False)

    def action_link_customer(self) -> None:
        call = self.query_one(CallPanel).call
        if call is None or self.customer_id is None:
            return
        self.link_customer(call, self.customer_id)

    @work(group="call-link", exit_on_error=False)
    async def link_customer(self, call: ActiveCall, customer_id: int) -> None:
        await self._link(call, customer_id)
        self.refresh_bindings()

    # --- screen pop ---------------------------------------------------------------------

    def pop_caller(self, caller_number: str, call_id: int | None) -> None:
        """A call arrives from `caller_number`: open their record and start the call.

        One match opens it; several offer a picker; none starts the call for an unknown
        caller, with the number kept for the call log.
        """
        self._pop(caller_number, call_id)

    @work(group="screen-pop", exit_on_error=False)
    async def _pop(self, caller_number: str, call_id: int | None) -> None:
        if self.query_one(CallPanel).call is not None:
            self.notify(
                f"Call from {clean(caller_number)} while you are on a call.", severity="warning"
            )
            return
        try:
            hits = await self.services.search.by_phone(caller_number, limit=10)
        except Exception as error:  # noqa: BLE001
            self.notify(f"Could not look the caller up: {error}", severity="error", markup=False)
            hits = []
        if len(hits) == 1:
            await self._open_and_take(hits[0].customer_id, caller_number, call_id)
        elif hits:

            async def picked(customer_id: int | None) -> None:
                if customer_id is None:
                    return
                if customer_id == UNKNOWN:
                    self._take_unknown(caller_number, call_id)
                else:
                    self._open_and_take_worker(customer_id, caller_number, call_id)

            self.app.push_screen(CallerPicker(clean(caller_number), hits), picked)
        else:
            self._take_unknown(caller_number, call_id)

    def _take_unknown(self, caller_number: str, call_id: int | None) -> None:
        self.notify(
            f"Unknown caller {clean(caller_number)}: search for them, or log the call as it is.",
            title="Unknown caller",
            timeout=8,
        )
        self.take_call(None, caller_number, call_id)

    @work(group="screen-pop-open", exit_on_error=False)
    async def _open_and_take_worker(
        self, customer_id: int, caller_number: str, call_id: int | None
    ) -> None:
        await self._open_and_take(customer_id, caller_number, call_id)

    async def _open_and_take(
        self, customer_id: int, caller_number: str, call_id: int | None
    ) -> None:
        await self.open_customer(customer_id, with_offers=False).wait()
        if self.customer_id == customer_id:
            await self.take_call(customer_id, caller_number, call_id, show_call=False).wait()

    # --- drafts -------------------------------------------------------------------------

    @on(CallPanel.Edited)
    def _edited(self) -> None:
        self._confirm_finish = False
        self._schedule_draft()

    def _schedule_draft(self, now: bool = False, delay: float = DRAFT_DELAY) -> None:
        # Not a debounce that restarts on every key: the first unsaved change starts the
        # clock, so a draft is written at most DRAFT_DELAY after it, even mid-sentence.
        if now:
            if self._draft_timer is not None:
                self._draft_timer.stop()
                self._draft_timer = None
            self.save_draft()
            return
        due = time.monotonic() + delay
        if self._draft_timer is not None:
            if self._draft_due_at <= due:
                return
            self._draft_timer.stop()  # a slow retry must not hold back fresh typing
        self._draft_due_at = due
        self._draft_timer = self.set_timer(delay, self._draft_due)

    def _draft_due(self) -> None:
        self._draft_timer = None
        self.save_draft()

    def draft_payload(self) -> dict[str, Any] | None:
        """The call panel as the draft stores it; None when there is no call."""
        panel = self.query_one(CallPanel)
        if panel.call is None:
            return None
        return {
            "version": 1,
            "call": panel.call.to_json(),
            "notes": panel.notes,
            "follow_up": panel.follow_up_text,
            "offers_open": sorted(self._offers_open),
        }

    @work(group="draft", exit_on_error=False)
    async def save_draft(self) -> None:
        if self._draft_saving:
            self._draft_dirty = True
            return
        self._draft_saving = True
        try:
            while True:
                self._draft_dirty = False
                await self.flush_draft()
                if not self._draft_dirty:
                    break
        finally:
            self._draft_saving = False

    async def flush_draft(self) -> None:
        """Write the draft now (also used when the console is closing)."""
        payload = self.draft_payload()
        if payload is None or self.agent is None or self.agent.id is None:
            return
        call = payload["call"]
        saved = await self.services.drafts.save(
            self.agent.id, call.get("call_id"), call.get("customer_id"), payload
        )
        if not saved:
            if not self._draft_offline:
                self.notify(
                    "The database is not answering. Keep typing: your notes are kept on this "
                    "machine and saved as soon as it is back.",
                    title="Draft kept locally",
                    severity="warning",
                    timeout=10,
                )
            self._draft_offline = True
            self._schedule_draft(delay=DRAFT_RETRY)
        elif self._draft_offline:
            self._draft_offline = False
            self.notify("The database is back: your draft is saved.", title="Draft saved")
