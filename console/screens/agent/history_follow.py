"""The open customer's history follows the database: an import or a call logged elsewhere shows.

A mixin of AgentScreen. `frontline import interactions` (another process) commits
("customer", "import"); a call saved anywhere commits ("interaction", customer id); an edit
("customer", id). Each of these, for the customer on screen, reads the history's first page
and the channel counts again; reads never overlap and none is missed (a burst of import
batches gives one read, then one more), and nothing is redrawn when nothing changed, so the
agent's place in the list holds.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work

from console.widgets.timeline import Timeline

if TYPE_CHECKING:
    from console.messages import DatabaseChanged
    from console.screens.agent.screen import AgentScreen

    _Base = AgentScreen
else:
    _Base = object

HISTORY_TOPICS = ("customer", "interaction")


def touches_customer(message: DatabaseChanged, customer_id: int) -> bool:
    """True when one of the changes may have added to this customer's history."""
    key = str(customer_id)
    return any(
        change.topic == "*"
        or (change.topic in HISTORY_TOPICS and change.key in (key, "import", ""))
        for change in message.changes
    )


class HistoryFollow(_Base):
    """Reads the open customer's history again when the database says it moved."""

    _history_wanted: int | None = None
    _reading_history = False

    def follow_history(self, message: DatabaseChanged) -> None:
        customer_id = self.customer_id
        if customer_id is None or not touches_customer(message, customer_id):
            return
        self._history_wanted = customer_id
        if not self._reading_history:
            self._reading_history = True
            self._reread_history()

    @work(group="history-follow", exit_on_error=False)
    async def _reread_history(self) -> None:
        from console.screens.agent.customer_view import FIRST_PAGE

        try:
            while (customer_id := self._history_wanted) is not None:
                self._history_wanted = None
                timeline = self.query_one(Timeline)
                channel = timeline.channel
                try:
                    page, counts = await asyncio.gather(
                        self.services.history.page(customer_id, channel=channel, limit=FIRST_PAGE),
                        self.services.history.channel_counts(customer_id),
                    )
                except Exception as error:  # noqa: BLE001 - the next change tries again
                    self.log.warning(f"history of {customer_id} not reread: {error!r}")
                    continue
                if customer_id != self.customer_id or channel != timeline.channel:
                    continue  # the agent moved on meanwhile
                shown = [item.id for item in timeline.items[: len(page.items)]]
                if counts == timeline.counts and shown == [item.id for item in page.items]:
                    continue  # nothing new for this customer
                self.history_cursor = page.next_cursor
                timeline.reset(channel, counts)
                timeline.append(page.items, page.next_cursor is not None)
        finally:
            self._reading_history = False
