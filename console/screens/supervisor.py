"""SupervisorScreen: the live queue and the team, refreshed within a second of any event.

The app's change feed (other processes' commits: the phone system's API, agents' consoles)
reaches it as `DatabaseChanged`; it reloads the figures when a call, an agent or an offer changed;
reloads never overlap, and events that arrive during one cause exactly one more. A one-second
timer advances waits and times in state locally, so the clock moves without queries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from console.codes import code_label
from console.failure_words import plain_reason
from console.i18n import N_, _
from console.key_names import keyed
from console.keymap import KEYMAP
from console.messages import DatabaseChanged
from console.safe_text import safe_text
from console.screens.call_review import CallReviewScreen, ScoreForm
from console.screens.pickers import CodePicker
from console.screens.rules import RulesScreen
from console.textual_words import TranslatedBindings
from console.widgets.local_time import format_number
from console.widgets.queue_board import QueueBoard
from console.widgets.team_board import TeamBoard
from core.calls.metrics import DEFINITIONS, Threshold, local_zone
from core.calls.queue import QueueService
from core.i18n import words
from core.models.types import utcnow
from core.services import Services

RELEVANT_TOPICS = {"call", "agent", "offer", "interaction"}
SetState = Callable[[str, str, str], Awaitable[object]]
"""(user name, state, reason) -> the agent's new status; raises when refused."""
SETTABLE_STATES = ("available", "offline")
"""What a supervisor may set besides a break (on a call and wrap-up follow the calls)."""
PERIODIC_RELOAD_SECONDS = 10.0
"""Even without events, waits cross the service-level target: reload now and then."""


FIGURE_NAMES = {
    "today": N_("Today"),
    "offered": N_("Offered"),
    "answered": N_("Answered"),
    "abandoned": N_("Abandoned"),
    "service_level": N_("Service level"),
    "asa": N_("ASA"),
    "aht": N_("AHT"),
    "abandonment_rate": N_("Abandonment rate"),
    "waiting": N_("Waiting"),
    "longest_wait": N_("Longest wait"),
    "occupancy": N_("Occupancy"),
    "time_in_state": N_("Time in state"),
    "sparkline": N_("Sparkline (waiting, last hour)"),
}


def definitions_text(
    service_level_seconds: int, short_abandon_seconds: int, thresholds: dict[str, Threshold]
) -> str:
    """Every figure's definition and colour thresholds, for the Definitions tab."""
    lines = []
    for key, text in DEFINITIONS.items():
        filled = words(text).format(t=service_level_seconds, short=short_abandon_seconds)
        name = FIGURE_NAMES.get(key, key.replace("_", " ").capitalize())
        lines.append(f"{_(name)}: {filled}")
    lines.append("")
    lines.append(_("Colours (warn, alert; set with FRONTLINE_THRESHOLD_<NAME>=warn,alert):"))
    for name, threshold in thresholds.items():
        direction = _("at or above") if threshold.higher_is_worse else _("at or below")
        shown = _(FIGURE_NAMES.get(name, name.replace("_", " ").capitalize()))
        lines.append(
            _("  {name}: warn {direction} {warn}, alert {direction} {alert}").format(
                name=shown,
                direction=direction,
                warn=format_number(threshold.warn),
                alert=format_number(threshold.alert),
            )
        )
    lines.append("")
    lines.append(_("Rates are shares (0.8 = 80 %); times are seconds."))
    return "\n".join(lines)


class SupervisorScreen(TranslatedBindings, Screen[None]):
    """Live queue and team for supervisors."""

    BINDINGS = KEYMAP["supervisor"].bindings
    DEFAULT_CSS = """
    SupervisorScreen TabbedContent { height: 1fr; }
    SupervisorScreen TabPane { padding: 0 1; }
    """

    def __init__(
        self,
        queue: QueueService,
        open_review: Callable[[], None] | None = None,
        open_rules: Callable[[], None] | None = None,
        now: Callable[[], datetime] | None = None,
        set_state: SetState | None = None,
        break_reasons: Sequence[str] = (),
        wrap_up_limit: int = 0,
    ) -> None:
        super().__init__()
        self.queue = queue
        self.open_review = open_review
        self.open_rules = open_rules
        self.set_state = set_state
        self.break_reasons = tuple(break_reasons)
        self.wrap_up_limit = wrap_up_limit
        self.now = now or utcnow
        self._loading = False
        self._dirty = False
        self.loads = 0
        """How many snapshots have been shown (tests wait on it)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="supervisor-tabs", initial="queue-tab"):
            with TabPane(keyed(self, _("Queue ({supervisor-queue})")), id="queue-tab"):
                yield QueueBoard(self.queue.thresholds, id="queue-board")
            with TabPane(keyed(self, _("Team ({supervisor-team})")), id="team-tab"):
                yield TeamBoard(
                    self.queue.thresholds, id="team-board", wrap_up_limit=self.wrap_up_limit
                )
            with (
                TabPane(
                    keyed(self, _("Definitions ({supervisor-definitions})")), id="definitions-tab"
                ),
                VerticalScroll(),
            ):
                yield Static(id="definitions")
        yield Footer()

    def on_mount(self) -> None:
        self.title = _("Frontline · supervisor")
        self.request_load()
        self.set_interval(1.0, self._tick)
        self.set_interval(PERIODIC_RELOAD_SECONDS, self.request_load)

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#supervisor-tabs", TabbedContent).active = tab

    def action_call_review(self) -> None:
        if self.open_review is not None:
            self.open_review()

    def action_offer_rules(self) -> None:
        if self.open_rules is not None:
            self.open_rules()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "call_review" and self.open_review is None:
            return None
        if action == "offer_rules" and self.open_rules is None:
            return None
        if action == "set_agent_state" and self.set_state is None:
            return None
        return True

    def action_set_agent_state(self) -> None:
        """Set the highlighted agent's state (an agent stuck in a state, a console gone)."""
        agent = self.query_one(TeamBoard).highlighted()
        if agent is None or self.set_state is None:
            self.notify(
                keyed(self, _("Highlight an agent on the team board first ({supervisor-team})."))
            )
            return
        self.action_show_tab("team-tab")
        # Shown in the reader's words, chosen by id: the state and the break's reason.
        choices = {_(state): (state, "") for state in SETTABLE_STATES}
        for reason in self.break_reasons:
            choices[_("break: {reason}").format(reason=code_label("break", reason))] = (
                "break",
                reason,
            )

        def chosen(choice: str | None) -> None:
            if choice is not None:
                state, reason = choices[choice]
                self.apply_state(agent.user_name, state, reason)

        title = _("State of {agent}").format(agent=agent.display_name)
        self.app.push_screen(CodePicker(title, list(choices)), chosen)

    @work(group="supervisor-set-state", exit_on_error=False)
    async def apply_state(self, user_name: str, state: str, reason: str) -> None:
        assert self.set_state is not None
        try:
            await self.set_state(user_name, state, reason)
        except Exception as error:  # noqa: BLE001 - refused (on a call): say why
            self.notify(
                _("State not changed: {error}").format(error=plain_reason(error)),
                severity="error",
                markup=False,
            )
            return
        label = f"{_(state)}: {code_label('break', reason)}" if reason else _(state)
        self.notify(_("{agent} is now {state}.").format(agent=user_name, state=label), markup=False)
        self.request_load()

    def _tick(self) -> None:
        now = self.now()
        try:
            self.query_one(QueueBoard).tick(now)
            self.query_one(TeamBoard).tick(now)
        except NoMatches:  # closing: at exit the widgets go first, and a tick can still come
            return

    def request_load(self) -> None:
        """Reload soon; never two loads at once, and nothing missed while one runs."""
        if self._loading:
            self._dirty = True
            return
        self._loading = True
        self._dirty = False
        self.load()

    @work(group="supervisor-load", exit_on_error=False)
    async def load(self) -> None:
        try:
            now = self.now()
            snapshot = await self.queue.snapshot(now)
            team = await self.queue.team(now)
        except Exception as error:  # noqa: BLE001 - show it, keep the last figures
            self.notify(
                _("Could not load the queue: {error}").format(error=error),
                severity="error",
                timeout=5,
                markup=False,
            )
        else:
            try:
                self.query_one(QueueBoard).show(snapshot)
                self.query_one(TeamBoard).show(team)
            except NoMatches:  # closed while it loaded: nothing to show it on
                return
            if self.loads == 0:
                self.query_one("#definitions", Static).update(
                    safe_text(
                        definitions_text(
                            snapshot.service_level_seconds,
                            snapshot.short_abandon_seconds,
                            dict(self.queue.thresholds),
                        )
                    )
                )
            self.loads += 1
        finally:
            self._loading = False
        if self._dirty:
            self.request_load()

    def on_database_changed(self, message: DatabaseChanged) -> None:
        if message.touches(RELEVANT_TOPICS):
            self.request_load()


def make_supervisor_screen(services: Services, reviewer: str) -> SupervisorScreen:
    """The supervisor's screen on the console's services; F7 opens call review over it."""
    from core.identity import Identity, IdentitySource, place

    queue, reviews = services.queue, services.reviews
    zone = local_zone(services.settings)
    screen: SupervisorScreen
    # The services check the role as the database has it at each action: a supervisor
    # demoted a moment ago is refused even before their console has followed the change.
    who = Identity(reviewer, IdentitySource.OS, place())

    def open_review() -> None:
        screen.app.push_screen(
            CallReviewScreen(
                reviews,
                who,
                services.settings.call_reasons,
                services.settings.call_outcomes,
                zone=zone,
                today=screen.now().astimezone(zone).date(),
            )
        )

    def open_rules() -> None:
        screen.app.push_screen(RulesScreen(services.offers))

    async def set_state(user_name: str, state: str, reason: str) -> object:
        from core.models import AgentState

        return await services.events.set_agent_state(user_name, AgentState(state), reason, by=who)

    screen = SupervisorScreen(
        queue,
        open_review=open_review,
        open_rules=open_rules,
        set_state=set_state,
        break_reasons=services.settings.calls.break_reasons,
        wrap_up_limit=services.settings.calls.wrap_up_limit_seconds,
    )
    return screen


SUPERVISOR_SCREENS = (SupervisorScreen, CallReviewScreen, ScoreForm, RulesScreen)
"""Screens a ringing call may close: the agent screen comes first."""
