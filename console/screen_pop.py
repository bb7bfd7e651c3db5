"""Screen pop: when the phone system offers a call to this agent, pop the caller.

The offer arrives in another process (`frontline api`, `frontline call`); its commit reaches
this console through the change feed (PRAGMA data_version on SQLite, LISTEN/NOTIFY on
PostgreSQL), normally within a tenth of a second. The watcher then asks which calls ring at
this agent and pops each new one once. A call that rang, went back to the queue and is
offered again pops again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncEngine

from core.calls.queue import QueueService, WaitingCall
from core.db import Change, ChangeFeed

Pop = Callable[[str, int], None]
"""Called with (caller number, call id) for each call newly offered to the agent."""


class OfferWatcher:
    """Remembers which of the agent's ringing calls were already popped."""

    def __init__(self, queue: QueueService, agent_name: str) -> None:
        self.queue = queue
        self.agent_name = agent_name
        self.agent_keys = {agent_name}
        """Change keys that mean "this agent": the user name (and the id, once known)."""
        self._ringing: set[int] | None = None
        """Calls ringing at (or taken by) the agent at the last look; None before the first."""

    def concerns_me(self, batch: Iterable[Change]) -> bool:
        for change in batch:
            if change.topic == "*":
                return True
            if change.topic == "agent" and change.key in self.agent_keys:
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


async def watch_offers(
    engine: AsyncEngine, queue: QueueService, agent_name: str, pop: Pop, agent_id: int | None = None
) -> None:
    """Pop every call offered to `agent_name` until cancelled (run it in a worker).

    Args:
        engine: the console's engine (the feed opens its own connection on it).
        queue: reads which calls ring at the agent.
        agent_name: this console's agent.
        pop: shows the caller: AgentScreen.pop_caller.
        agent_id: the agent's id, when known: writers that key agent changes by id are
            noticed too.
    """
    watcher = OfferWatcher(queue, agent_name)
    if agent_id is not None:
        watcher.agent_keys.add(str(agent_id))
    async with ChangeFeed(engine) as feed:
        for call in await watcher.new_offers():  # rang before the console opened
            pop(call.caller_number, call.call_id)
        async for batch in feed.changes():
            if watcher.concerns_me(batch):
                for call in await watcher.new_offers():
                    pop(call.caller_number, call.call_id)
