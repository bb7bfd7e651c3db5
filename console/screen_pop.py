"""Screen pop: when the phone system offers a call to this agent, pop the caller.

The offer arrives in another process (`frontline api`, `frontline call`); its commit reaches
this console through the app's change feed (console.messages.DatabaseChanged), normally
within a tenth of a second. The agent screen then asks the watcher which calls ring at this
agent and pops each new one once. A call that rang, went back to the queue and is offered
again pops again.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.calls.queue import QueueService, WaitingCall
from core.db import Change


class OfferWatcher:
    """Remembers which of the agent's ringing calls were already popped."""

    def __init__(self, queue: QueueService, agent_name: str) -> None:
        self.queue = queue
        self.agent_name = agent_name
        self._ringing: set[int] | None = None
        """Calls ringing at (or taken by) the agent at the last look; None before the first."""

    def concerns_me(self, batch: Iterable[Change]) -> bool:
        for change in batch:
            if change.topic == "*":
                return True
            if change.topic == "agent" and change.key == self.agent_name:
                return True
        return False

    async def new_offers(self) -> list[WaitingCall]:
        """The queue's calls that rang at (or were picked up by) the agent since the last
        look and were not popped yet, oldest first.

        A call the agent answered on the phone before this console saw it ring pops too.
        At the first look only ringing calls pop: an answered one is already on screen
        (the console restores its call on start).
        """
        first = self._ringing is None
        current = await self.queue.offered_to(self.agent_name, answered_too=True)
        seen = self._ringing or set()
        fresh = [
            c for c in current if c.call_id not in seen and (c.state == "offered" or not first)
        ]
        self._ringing = {c.call_id for c in current}
        return fresh
