"""Commands for the phone system from the agent screen, and what became of each.

A mixin of AgentScreen. Hold, resume and transfers of a call behind a phone system that takes
commands are recorded in Frontline's outbox (`services.commands`); the phone system's adapter
(`frontline pbx listen`) sends each one and records the answer. The screen follows the
command through the change feed (and a short poll, should a change be missed) and tells the
agent every step: sent, done, or refused with the phone system's reason; and, when no adapter
takes it, that nobody is sending it. Never a silent nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from textual import work

from console.i18n import N_, _

if TYPE_CHECKING:
    from console.screens.agent.screen import AgentScreen
    from core.models import PbxCommandKind
    from core.pbx.commands import CommandView

    _Base = AgentScreen
else:
    _Base = object

MESSAGES = {
    "sent": N_("Sent to the phone system ({source}): {what}."),
    "done": N_("The phone system did it: {what}."),
    "refused": N_("The phone system refused {what}: {error}"),
    "unsupported": N_("{error}."),
    "not-taken": (
        N_(
            "Nobody has sent {what} to the phone system yet: is `frontline pbx listen {source}` "
            "running? It goes out as soon as the adapter is back."
        )
    ),
    "no-answer": N_("No answer from the phone system about {what}: check the call on your phone."),
}
"""What the agent reads (one place, for the translation layer)."""

WHAT = {
    "hold": N_("the hold"),
    "unhold": N_("the resume"),
    "blind_transfer": N_("the transfer to {target}"),
    "consult_transfer": N_("the consult with {target}"),
    "complete_consult": N_("the transfer to {target}"),
    "cancel_consult": N_("the return to the caller"),
}
NOT_TAKEN_SECONDS = 5.0
"""A command still pending after this long: the agent is told no adapter took it."""
GIVE_UP_SECONDS = 60.0
"""A command sent but unanswered after this long: the agent is told to check the phone."""
POLL_SECONDS = 0.5
"""Between reads of the command when no change arrives (a missed notification)."""


def describe(command: CommandView) -> str:
    target = command.to_agent or (
        _("queue {queue}").format(queue=command.to_queue) if command.to_queue else ""
    )
    return _(WHAT.get(command.kind, command.kind)).format(target=target)


class PbxFollow(_Base):
    """Record a command for the phone system; tell the agent what became of it."""

    _pbx_moved: asyncio.Event | None = None

    def pbx_commands_changed(self) -> None:
        """A command of this agent changed (the change feed said so)."""
        if self._pbx_moved is not None:
            self._pbx_moved.set()

    async def command(
        self,
        call_id: int,
        kind: PbxCommandKind,
        to_agent: str = "",
        to_queue: str = "",
        *,
        failed: str = "",
    ) -> CommandView | None | Literal[False]:
        """Record the command: the command to follow; None when no phone system is behind the
        call (Frontline makes the change itself); False when it was refused (the agent was
        told why, with the transfer's MESSAGES[`failed`] when given)."""
        from core.pbx.commands import PbxUnsupported

        try:
            command = await self.services.commands.request(
                call_id, kind, requested_by=self.agent_name, to_agent=to_agent, to_queue=to_queue
            )
        except PbxUnsupported as error:
            self.notify(
                _(MESSAGES["unsupported"]).format(error=error),
                title=_("Phone system"),
                severity="warning",
                timeout=10,
                markup=False,
            )
            return False
        except Exception as error:  # noqa: BLE001 - say why; the call goes on as it was
            from console.screens.agent.transfer import MESSAGES as TRANSFER

            text = _(TRANSFER[failed]).format(error=error) if failed else str(error)
            self.notify(text, severity="error", timeout=10, markup=False)
            return False
        if command is not None:
            self.notify(
                _(MESSAGES["sent"]).format(source=command.source, what=describe(command)),
                title=_("Phone system"),
                markup=False,
            )
        return command

    @work(group="pbx-command", exit_on_error=False)
    async def follow_command(
        self,
        command: CommandView,
        on_done: Callable[[CommandView], object] | None = None,
        on_failed: Callable[[CommandView], object] | None = None,
    ) -> None:
        """Wait for the phone system's answer to `command` and say it."""
        if self._pbx_moved is None:
            self._pbx_moved = asyncio.Event()
        started = time.monotonic()
        warned = False
        seen = command
        while not seen.finished:
            self._pbx_moved.clear()
            try:
                await asyncio.wait_for(self._pbx_moved.wait(), POLL_SECONDS)
            except TimeoutError:
                pass
            try:
                seen = await self.services.commands.get(command.id)
            except Exception as error:  # noqa: BLE001 - the next change tries again
                self.log.warning(f"command {command.id} not read: {error!r}")
                continue
            waited = time.monotonic() - started
            if seen.state == "pending" and waited > NOT_TAKEN_SECONDS and not warned:
                warned = True
                self._say("not-taken", seen, severity="warning")
            if waited > GIVE_UP_SECONDS and not seen.finished:
                self._say("no-answer", seen, severity="warning")
                return
        if seen.state == "failed":
            self._say("refused", seen, severity="error")
            if on_failed is not None:
                on_failed(seen)
            return
        self._say("done", seen)
        if on_done is not None:
            on_done(seen)

    def _say(self, key: str, command: CommandView, severity: str = "information") -> None:
        text = _(MESSAGES[key]).format(
            what=describe(command), error=command.error, source=command.source
        )
        self.notify(
            text,
            title=_("Phone system"),
            severity=severity,  # type: ignore[arg-type]
            timeout=10,
            markup=False,
        )
