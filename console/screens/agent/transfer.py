"""Transfer from the agent screen: blind (Ctrl+T) or consult (Ctrl+K, then F11 to complete or
Ctrl+U to go back to the caller), to an available agent or a queue, with the hand-off: the
notes so far and the reason go with the call, and the console that takes it next opens the
same customer with them (see `CallFlow.take_call`).

A mixin of AgentScreen. A call behind a phone system that takes commands (Asterisk,
FreeSWITCH, and Kamailio for blind transfers: a REFER to the caller) is transferred by its
adapter: the screen records the command (`services.commands`) and follows it (`PbxFollow`)
until the phone system accepted or refused it. A call with no phone system behind it is
transferred in Frontline at once; a consult on a Kamailio call is refused, and the agent is
told what to do instead. Once the call is passed on, the agent's draft stays on screen in
wrap-up: their part of the call, saved with F8.

A consult under way is in the database, not only on screen, so that a console restarted
mid-consult (a crash, a closed terminal) shows it again with F11 and Ctrl+U working: behind a
phone system, its consult command (`services.commands.open_consult`); with none, the
agent's draft (`CallDraft.consulting`, written at once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from console.i18n import N_, _
from console.screens.agent.pbx_follow import PbxFollow
from console.screens.pickers import CodePicker
from console.widgets.call_panel import CallPanel

if TYPE_CHECKING:
    from console.screens.agent.screen import AgentScreen
    from core.calls.drafts import CallDraft

    _Base = AgentScreen
else:
    _Base = object

COMMAND_ACTIONS = [
    "toggle_hold",
    "transfer_call",
    "consult_call",
    "complete_consult",
    "cancel_consult",
]
"""The keys that command the call (the screen's check_action asks `may_command`)."""
AGENT, QUEUE = N_("agent: "), N_("queue: ")
"""How the picker names each kind of target."""

MESSAGES = {
    "no-target": N_("Nobody to transfer to: no agent is available and no queue is known."),
    "done": N_("Call transferred to {target}. Your notes and the reason went with it."),
    "wrap-up": N_("Wrap up your part: the codes (F9, F10), then save (F8)."),
    "failed": N_("The call was not transferred ({error}). It is still yours."),
    "handed-over": N_("Handed over to you with the notes so far{reason}."),
    "consulting": N_(
        "Consulting {target}: the caller waits. F11 completes the transfer, "
        "Ctrl+U takes you back to the caller."
    ),
    "consult-no-pbx": N_(
        "No phone system to dial {target} for you: call them, then F11 "
        "completes the transfer, Ctrl+U takes you back to the caller."
    ),
    "consult-back": N_("Back with the caller; {target} was left out."),
    "consult-unknown": N_(
        "Your call is back, but not whether you were consulting someone ({error}): "
        "check with your phone."
    ),
}
"""What the agent reads (one place, for the translation layer)."""


def split_target(target: str) -> tuple[str, str]:
    """(to_agent, to_queue) of a picker entry."""
    if target.startswith(_(AGENT)):
        return target.removeprefix(_(AGENT)), ""
    return "", target.removeprefix(_(QUEUE))


def target_label(to_agent: str, to_queue: str) -> str:
    return to_agent or _("queue {queue}").format(queue=to_queue)


class CallTransfer(PbxFollow, _Base):
    """Blind and consult transfer, with the notes going along."""

    _consulting: tuple[str, str] | None = None
    """The consult under way: (to_agent, to_queue). Read back from the database on start
    (`restore_consult`)."""

    def _may_transfer(self) -> bool:
        call = self.draft
        return (
            call is not None
            and call.call_id is not None
            and call.phase == "on_call"
            and not call.handed_to
        )

    def may_command(self, action: str) -> bool:
        """Whether a hold or transfer key makes sense now (the screen's check_action)."""
        if action in COMMAND_ACTIONS[3:]:
            return self._consulting is not None
        return self._may_transfer() and (action != "consult_call" or self._consulting is None)

    def action_transfer_call(self) -> None:
        if self._may_transfer():
            self.choose_transfer_target(consult=False)

    def action_consult_call(self) -> None:
        if self._may_transfer() and self._consulting is None:
            self.choose_transfer_target(consult=True)

    @work(group="transfer-targets", exit_on_error=False)
    async def choose_transfer_target(self, consult: bool) -> None:
        agents, queues = await self.services.queue.transfer_targets(exclude=self.agent_name)
        targets = [*(_(AGENT) + a for a in agents), *(_(QUEUE) + q for q in queues)]
        if not targets:
            self.notify(_(MESSAGES["no-target"]), severity="warning")
            return

        def chosen(target: str | None) -> None:
            call = self.query_one(CallPanel).flush()  # the last keystrokes go too
            if target is None or call is None or call.call_id is None:
                return
            to_agent, to_queue = split_target(target)
            if consult:
                self.start_consult(call, to_agent, to_queue)
            else:
                self.transfer(call, to_agent, to_queue)

        title = _("Consult first with") if consult else _("Transfer the call to")
        self.app.push_screen(CodePicker(title, targets), chosen)

    async def _saved_draft(self) -> None:
        """The draft in the database now: a transfer the phone system carries out takes the
        notes from it (the hand-off)."""
        self.keeper.stop()
        await self.keeper.flush()

    @work(exclusive=True, group="call", exit_on_error=False)
    async def transfer(self, call: CallDraft, to_agent: str, to_queue: str) -> None:
        from core.models import PbxCommandKind

        assert call.call_id is not None
        await self._saved_draft()
        label = self._passing_to = target_label(to_agent, to_queue)
        command = await self.command(
            call.call_id, PbxCommandKind.BLIND_TRANSFER, to_agent, to_queue, failed="failed"
        )
        if command is False:
            self._passing_to = ""
            self.keeper.schedule()
            return
        if command is None:  # no phone system behind the call: Frontline moves it
            try:
                await self.services.calls.transfer(
                    call.call_id,
                    to_agent=to_agent,
                    to_queue=to_queue,
                    notes=call.notes,
                    reason=call.reason,
                )
            except Exception as error:  # noqa: BLE001 - the call stays here, the draft too
                self._passing_to = ""
                self._say_failed("failed", error)
                self.keeper.schedule()
                return
        self.keeper.schedule()
        if command is None:
            self.passed_on(call.call_id, label)
        else:
            self.follow_command(
                command,
                lambda _: self.passed_on(call.call_id, label),
                on_failed=lambda _: setattr(self, "_passing_to", ""),
            )

    @work(exclusive=True, group="call", exit_on_error=False)
    async def start_consult(self, call: CallDraft, to_agent: str, to_queue: str) -> None:
        from core.models import PbxCommandKind

        assert call.call_id is not None
        label = target_label(to_agent, to_queue)
        command = await self.command(
            call.call_id, PbxCommandKind.CONSULT_TRANSFER, to_agent, to_queue, failed="failed"
        )
        if command is False:
            return
        self._consulting = (to_agent, to_queue)
        panel = self.query_one(CallPanel)
        panel.set_line("consulting")
        if command is None:  # Frontline carries it out: the draft keeps it, for a restart
            self.edit_call(consult_agent=to_agent, consult_queue=to_queue)
        self.refresh_bindings()
        if command is None:
            self.notify(_(MESSAGES["consult-no-pbx"]).format(target=label), markup=False)
        else:
            self.follow_command(
                command,
                lambda _result: self.notify(
                    _(MESSAGES["consulting"]).format(target=label), markup=False
                ),
                on_failed=lambda _: self._consult_over(),
            )

    async def restore_consult(self) -> None:
        """After a restart: show the restored call's consult again, if one is under way (the
        phone system's consult command, or the draft's for a call with no phone system)."""
        call = self.draft
        if call is None or call.call_id is None or call.phase != "on_call" or call.handed_to:
            return
        command = None
        consult = call.consulting
        if consult is None:
            try:
                command = await self.services.commands.open_consult(call.call_id)
            except Exception as error:  # noqa: BLE001 - the call itself is back; say why not this
                self.log.warning(f"consult of call {call.call_id} not read: {error!r}")
                self._say_failed("consult-unknown", error)
                return
            if command is None:
                return
            consult = (command.to_agent, command.to_queue)
        try:
            row = await self.services.calls.get(call.call_id)
        except Exception as error:  # noqa: BLE001 - the database is away: the consult as kept
            self.log.warning(f"call {call.call_id} not read: {error!r}")
            row = None
        panel = self.query_one(CallPanel)
        mine = row is None or (self.agent is not None and row.agent_id == self.agent.id)
        if row is not None and (not mine or row.state not in ("answered", "held")):
            if call.consulting:  # over while the console was away: the call says what
                self.edit_call(consult_agent="", consult_queue="")
            self.show_call_row(row)
            return
        self._consulting = consult
        panel.set_line("consulting")
        self.refresh_bindings()
        label = target_label(*consult)
        if command is not None and not command.finished:
            self.follow_command(
                command,
                lambda _result: self.notify(
                    _(MESSAGES["consulting"]).format(target=label), markup=False
                ),
                on_failed=lambda _: self._consult_over(),
            )
        else:
            self.notify(_(MESSAGES["consulting"]).format(target=label), markup=False)

    def action_complete_consult(self) -> None:
        call = self.query_one(CallPanel).flush()
        if self._consulting is not None and call is not None and call.call_id is not None:
            self.finish_consult(call, complete=True)

    def action_cancel_consult(self) -> None:
        call = self.draft
        if self._consulting is not None and call is not None and call.call_id is not None:
            self.finish_consult(call, complete=False)

    @work(exclusive=True, group="call", exit_on_error=False)
    async def finish_consult(self, call: CallDraft, complete: bool) -> None:
        from core.models import PbxCommandKind

        assert call.call_id is not None and self._consulting is not None
        to_agent, to_queue = self._consulting
        label = target_label(to_agent, to_queue)
        if complete:
            await self._saved_draft()
            self._passing_to = label
        kind = PbxCommandKind.COMPLETE_CONSULT if complete else PbxCommandKind.CANCEL_CONSULT
        command = await self.command(call.call_id, kind, to_agent, to_queue, failed="failed")
        self.keeper.schedule()
        if command is False:
            return
        if command is None and complete:
            try:
                await self.services.calls.transfer(
                    call.call_id,
                    to_agent=to_agent,
                    to_queue=to_queue,
                    notes=call.notes,
                    reason=call.reason,
                    mode="consult",
                )
            except Exception as error:  # noqa: BLE001 - the consult goes on
                self._say_failed("failed", error)
                return
        if complete:
            done = lambda _=None: self._consult_over(passed_to=label)  # noqa: E731
        else:
            done = lambda _=None: self._consult_over(back_from=label)  # noqa: E731
        if command is None:
            done()
        else:
            self.follow_command(command, done)

    def _consult_over(self, passed_to: str = "", back_from: str = "") -> None:
        self._consulting = None
        panel = self.query_one(CallPanel)
        if panel.line == "consulting":
            panel.set_line("")
        if panel.draft is not None and panel.draft.consulting:
            self.edit_call(consult_agent="", consult_queue="")
        if back_from:
            self.notify(_(MESSAGES["consult-back"]).format(target=back_from), markup=False)
        call = self.draft
        if passed_to and call is not None and call.call_id is not None:
            self.passed_on(call.call_id, passed_to)
        self.refresh_bindings()

    def passed_on(self, call_id: int | None, target: str) -> None:
        """The call went to `target`: the draft stays, in wrap-up, as the agent's part."""
        call = self.draft
        if call is None or call.call_id != call_id or call.handed_to:
            return
        self._consulting = None
        self._passing_to = ""
        panel = self.query_one(CallPanel)
        panel.set_line("")
        self.edit_call(
            phase="wrap_up",
            ended_at=self.now(),
            handed_to=target,
            consult_agent="",
            consult_queue="",
        )
        self._hide_offers()
        self.notify(
            _(MESSAGES["done"]).format(target=target) + " " + _(MESSAGES["wrap-up"]),
            title=_("Transferred"),
            markup=False,
        )
        self.refresh_bindings()
        self._set_subtitle()

    def _say_failed(self, key: str, error: object) -> None:
        self.notify(
            _(MESSAGES[key]).format(error=error), severity="error", timeout=10, markup=False
        )
