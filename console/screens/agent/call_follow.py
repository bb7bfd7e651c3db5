"""The agent screen follows the phone system, and commands it: hold, agent states, the feed.

A mixin of AgentScreen. Every change of the agent's current call, from any process (the
phone system through the API or an adapter, `frontline call`, a supervisor), reaches the
screen through the app's one change feed (`DatabaseChanged`); the screen then reads the
call's row again and shows what the phone system did: held, resumed, ended (wrap-up starts),
closed (completed elsewhere: the agent's codes and notes still go onto it with F8). The
agent's own state (ready, a break with a reason) is set from the keyboard and followed the
same way, so a supervisor's change shows too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from console.codes import book as code_book
from console.codes import code_label
from console.i18n import N_, _
from console.key_names import keyed
from console.safe_text import clean
from console.screens.agent.history_follow import HistoryFollow
from console.screens.pickers import CodePicker
from console.widgets.call_panel import CallPanel

if TYPE_CHECKING:
    from console.messages import DatabaseChanged, FeedStatus
    from console.screens.agent.screen import AgentScreen
    from core.models import Call

    _Base = AgentScreen
else:
    _Base = object

MESSAGES = {
    "held": N_("The caller is on hold."),
    "resumed": N_("The caller is back from hold."),
    "ended": (
        N_(
            "The call ended: wrap-up started. Choose the codes ({pick-reason}, {pick-outcome}) and "
            "save ({finish-call})."
        )
    ),
    "closed": (
        N_(
            "The phone system closed this call. Your notes and codes are not lost: "
            "save them onto it with {finish-call}."
        )
    ),
    "moved": N_("The call went to someone else."),
    "feed-lost": N_("Live updates lost ({error}): calls may not pop up. Reconnecting…"),
    "feed-back": N_("Live updates are back."),
    "overdue": N_("After-call work is over its limit ({limit}): save the call ({finish-call})."),
    "break": N_("You are on a break: {reason}. {be-ready} when you are ready again."),
    "ready": N_("You are ready for calls."),
    "state-set": N_("Your state is now {state}."),
    "not-set": N_("Your state was not changed: {error}"),
    "hold-failed": N_("Hold did not work: {error}"),
}
"""What the agent reads (one place, for the translation layer); `{binding-id}` fields are
filled with the key bound now (console.key_names.keyed)."""


def _about(message: DatabaseChanged, topic: str, key: str) -> bool:
    return any(
        change.topic == "*" or (change.topic == topic and change.key == key)
        for change in message.changes
    )


def state_label(state: str, reason: str = "") -> str:
    """An agent state as the agent reads it: "available", "break: lunch"…"""
    label = {"on_call": N_("on a call"), "wrap_up": N_("wrap-up")}.get(state, state)
    label = _(label)
    return f"{label}: {code_label('break', reason)}" if state == "break" and reason else label


class CallFollow(HistoryFollow, _Base):
    """Following the call, the open history and the agent's state; hold, break and ready
    from the keyboard."""

    _feed_live = True
    _shown_state = ""
    _call_wanted: int | None = None
    _reading_call = False
    _agent_wanted = False
    _reading_agent = False
    _passing_to = ""
    """The target of a transfer this screen asked for, until the call has gone."""

    def on_database_changed(self, message: DatabaseChanged) -> None:
        if not self.ready:
            return
        watcher = self._offer_watcher
        if watcher is not None and watcher.concerns_me(message.changes):
            self.look_for_offers()
        call = self.draft
        if (
            call is not None
            and call.call_id is not None
            and _about(message, "call", str(call.call_id))
        ):
            self.follow_call(call.call_id)
        if _about(message, "agent", self.agent_name):
            self.follow_agent()
        if _about(message, "pbx_command", self.agent_name):
            self.pbx_commands_changed()
        self.follow_history(message)

    def on_feed_status(self, message: FeedStatus) -> None:
        self._feed_live = message.live
        if message.live:
            self.notify(_(MESSAGES["feed-back"]), title=_("Live updates"))
        else:
            self.notify(
                _(MESSAGES["feed-lost"]).format(error=message.error),
                title=_("Live updates"),
                severity="warning",
                timeout=15,
                markup=False,
            )
        self._set_subtitle()

    def on_call_panel_wrap_up_overdue(self, message: CallPanel.WrapUpOverdue) -> None:
        from console.widgets.local_time import clock

        self.notify(
            keyed(self, _(MESSAGES["overdue"]), limit=clock(message.limit_seconds)),
            title=_("Wrap-up"),
            severity="warning",
            timeout=10,
        )

    def _set_subtitle(self) -> None:
        call = self.draft
        if call is not None:
            state = _("on a call") if call.phase == "on_call" else _("wrap-up")
            if self.agent_state == "break":  # a break chosen during wrap-up starts after it
                state += _(" · then {state}").format(
                    state=state_label("break", self.agent.state_reason if self.agent else "")
                )
        elif self.agent is not None and self.agent_state not in ("on_call", "wrap_up"):
            state = state_label(self.agent.state, self.agent.state_reason)
        else:
            state = _("available")
        feed = "" if self._feed_live else _(" · no live updates")
        self.app.sub_title = f"{clean(self.agent_name)} · {clean(state)}{feed}"

    # --- the call as the phone system has it ------------------------------------------

    def follow_call(self, call_id: int) -> None:
        """Read the call again soon; reads never overlap, and none is missed meanwhile (no
        exclusive worker: one cancelled by every change could starve)."""
        self._call_wanted = call_id
        if not self._reading_call:
            self._reading_call = True
            self._read_call()

    @work(group="call-follow", exit_on_error=False)
    async def _read_call(self) -> None:
        try:
            while (call_id := self._call_wanted) is not None:
                self._call_wanted = None
                try:
                    row = await self.services.calls.get(call_id)
                except Exception as error:  # noqa: BLE001 - the next change tries again
                    self.log.warning(f"call {call_id} not reloaded: {error!r}")
                    continue
                self.show_call_row(row)
        finally:
            self._reading_call = False

    def show_call_row(self, row: Call) -> None:
        """Show what the phone system did to the call on screen (`row`, as stored)."""
        draft = self.draft
        if draft is None or draft.call_id != row.id or draft.handed_to:
            return  # a call passed on is someone else's: this draft is the agent's part
        panel = self.query_one(CallPanel)
        said = ""
        if self.agent is not None and row.agent_id != self.agent.id and draft.phase == "on_call":
            # Transferred (from here through the phone system, or on the phone system).
            target = self._passing_to or (
                _("queue {queue}").format(queue=row.queue)
                if row.agent_id is None
                else _("another agent")
            )
            self.passed_on(row.id, target)
            return
        if row.state == "held":
            said = "held" if panel.line != "held" else ""
            panel.set_line("held")
        elif row.state == "answered":
            said = "resumed" if panel.line == "held" else ""
            panel.set_line("consulting" if self._consulting else "")  # a consult goes on
        elif row.state in ("wrap_up", "completed"):
            closed = row.state == "completed"
            if draft.phase == "on_call":
                self.edit_call(phase="wrap_up", ended_at=row.ended_at or self.now())
                said = "ended"
            if closed and panel.line != "closed":
                said = "closed"
            panel.set_line("closed" if closed else "")
        if said:
            severity = "warning" if said in ("closed", "moved") else "information"
            self.notify(
                keyed(self, _(MESSAGES[said])),
                title=_("Phone system"),
                severity=severity,
                timeout=8,
            )
        self.refresh_bindings()
        self._set_subtitle()

    def _restored_closed(self) -> None:
        """The restored draft's call was completed elsewhere: its words still go onto it."""
        draft = self.draft
        panel = self.query_one(CallPanel)
        if draft is not None and draft.phase == "on_call":
            self.edit_call(phase="wrap_up", ended_at=draft.ended_at or self.now())
        panel.set_line("closed")
        self.notify(
            keyed(self, _(MESSAGES["closed"])),
            title=_("Phone system"),
            severity="warning",
            timeout=10,
        )

    def action_toggle_hold(self) -> None:
        call = self.draft
        if call is None or call.call_id is None or call.phase != "on_call":
            return
        self.hold(call.call_id, resume=self.query_one(CallPanel).line == "held")

    @work(group="call-hold", exit_on_error=False)
    async def hold(self, call_id: int, resume: bool) -> None:
        from core.models import PbxCommandKind

        kind = PbxCommandKind.UNHOLD if resume else PbxCommandKind.HOLD
        command = await self.command(call_id, kind)
        if command is not None:  # the phone system does it (its event shows it) or refused
            if command is not False:
                self.follow_command(command)
            return
        calls = self.services.calls  # no phone system behind the call: Frontline's own
        try:
            row = await (calls.unhold(call_id) if resume else calls.hold(call_id))
        except Exception as error:  # noqa: BLE001 - say why; the call goes on
            self.notify(
                _(MESSAGES["hold-failed"]).format(error=error), severity="error", markup=False
            )
            return
        self.show_call_row(row)

    # --- the agent's own state ---------------------------------------------------------

    def follow_agent(self) -> None:
        """Read the agent's state again soon (as `follow_call`)."""
        self._agent_wanted = True
        if not self._reading_agent:
            self._reading_agent = True
            self._read_agent()

    @work(group="agent-follow", exit_on_error=False)
    async def _read_agent(self) -> None:
        try:
            while self._agent_wanted:
                self._agent_wanted = False
                try:
                    agent = await self.services.agents.ensure(self.agent_name)
                except Exception as error:  # noqa: BLE001 - the next change tries again
                    self.log.warning(f"agent not reloaded: {error!r}")
                    continue
                self._show_agent(agent.state, agent.state_reason, agent)
        finally:
            self._reading_agent = False

    def _show_agent(self, state: str, reason: str, agent: object = None) -> None:
        from core.models import Agent

        if isinstance(agent, Agent):
            self.agent = agent
            if self.role_name and agent.role != self.role_name:  # a supervisor changed it
                self.follow_role(agent.role)
        label = state_label(state, reason)
        calls = (state_label("on_call"), state_label("wrap_up"))
        # A state someone else set (a supervisor, the phone system); not the calls' own moves.
        if self._shown_state not in ("", label, *calls) and label not in calls:
            self.notify(
                _(MESSAGES["state-set"]).format(state=label), title=_("Your state"), markup=False
            )
        self._shown_state = label
        self._refresh_bindings_if_changed()  # mostly nothing moved: no new footer
        self._set_subtitle()

    @property
    def agent_state(self) -> str:
        """The agent's state as last read ("available", "break", …); "" before sign-in."""
        return self.agent.state if self.agent is not None else ""

    def action_take_break(self) -> None:
        reasons = self.settings.calls.break_reasons

        def chosen(reason: str | None) -> None:
            if reason:
                self.set_state("break", reason)

        title = _("Reason for the break")
        books = code_book(self._services)
        self.app.push_screen(CodePicker.for_codes(title, "break", reasons, books), chosen)

    def action_be_ready(self) -> None:
        self.set_state("available", "")

    @work(group="agent-state", exit_on_error=False)
    async def set_state(self, state: str, reason: str) -> None:
        from core.models import AgentState

        try:
            status = await self.services.events.set_agent_state(
                self.agent_name, AgentState(state), reason, by=self.who
            )
        except Exception as error:  # noqa: BLE001 - say why, the state stays as it was
            self.notify(_(MESSAGES["not-set"]).format(error=error), severity="error", markup=False)
            return
        if self.agent is not None:
            self.agent.state, self.agent.state_reason = status.state, status.reason
        self._shown_state = state_label(status.state, status.reason)
        if status.state == "break":
            reason = code_label("break", status.reason)
            self.notify(keyed(self, _(MESSAGES["break"]), reason=reason), markup=False)
        else:
            self.notify(_(MESSAGES["ready"]))
        self.refresh_bindings()
        self._set_subtitle()
