"""Blind transfer from the agent screen, to an available agent or back to a queue, with the
hand-off: the notes so far and the reason go with the call, and the console that takes it
next opens the same customer with them (see `CallFlow.take_call`).

A mixin of AgentScreen. The transfer is a call event like any other (core's
`CallService.transfer`); the phone system learns of it through its adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from console.screens.pickers import CodePicker
from console.widgets.call_panel import CallPanel

if TYPE_CHECKING:
    from console.screens.agent.screen import AgentScreen
    from core.calls.drafts import CallDraft

    _Base = AgentScreen
else:
    _Base = object

AGENT, QUEUE = "agent: ", "queue: "
"""How the picker names each kind of target."""

MESSAGES = {
    "no-target": "Nobody to transfer to: no agent is available and no queue is known.",
    "done": "Call transferred to {target}. Your notes and the reason went with it.",
    "failed": "The call was not transferred ({error}). It is still yours.",
    "handed-over": "Handed over to you with the notes so far{reason}.",
}
"""What the agent reads (one place, for the translation layer)."""


class CallTransfer(_Base):
    """Ctrl+T: pick an agent or a queue, and the call goes there with its notes."""

    def action_transfer_call(self) -> None:
        call = self.draft
        if call is None or call.call_id is None or call.phase != "on_call":
            return
        self.choose_transfer_target()

    @work(group="transfer-targets", exit_on_error=False)
    async def choose_transfer_target(self) -> None:
        agents, queues = await self.services.queue.transfer_targets(exclude=self.agent_name)
        targets = [*(AGENT + a for a in agents), *(QUEUE + q for q in queues)]
        if not targets:
            self.notify(MESSAGES["no-target"], severity="warning")
            return

        def chosen(target: str | None) -> None:
            call = self.query_one(CallPanel).flush()  # the last keystrokes go too
            if target is None or call is None or call.call_id is None:
                return
            self.transfer(call, target)

        self.app.push_screen(CodePicker("Transfer the call to", targets), chosen)

    @work(exclusive=True, group="call", exit_on_error=False)
    async def transfer(self, call: CallDraft, target: str) -> None:
        assert call.call_id is not None
        to_agent = target.removeprefix(AGENT) if target.startswith(AGENT) else ""
        to_queue = target.removeprefix(QUEUE) if target.startswith(QUEUE) else ""
        self.keeper.stop()
        try:
            await self.services.calls.transfer(
                call.call_id,
                to_agent=to_agent,
                to_queue=to_queue,
                notes=call.notes,
                reason=call.reason,
            )
        except Exception as error:  # noqa: BLE001 - the call stays here, the draft too
            self.notify(
                MESSAGES["failed"].format(error=error), severity="error", timeout=10, markup=False
            )
            self.keeper.schedule()
            return
        self._show_call(None)
        self._hide_offers()
        if self.agent is not None and self.agent.id is not None:
            try:
                await self.services.drafts.clear_local(self.agent.id)
            except OSError as error:
                self.log.warning(f"draft file not removed: {error}")
        self.notify(MESSAGES["done"].format(target=to_agent or to_queue), markup=False)
