"""The customer on the agent screen: opening one, their figures, their history page by page.

A mixin of AgentScreen. Message handlers are named (`on_timeline_filter_changed`), not
decorated with @on: the decorator is read only on Textual's own classes.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import work

from console.i18n import _
from console.widgets.contact_points import ContactPoints
from console.widgets.customer_header import CustomerHeader
from console.widgets.product_list import ProductList
from console.widgets.timeline import Timeline

if TYPE_CHECKING:
    from console.screens.agent.screen import AgentScreen
    from core.services.history import HistoryCursor

    _Base = AgentScreen
else:
    _Base = object

FIRST_PAGE = 50
"""History rows read when a customer opens (a screenful and more); older pages on demand."""


class CustomerView(_Base):
    """Workers and handlers that fill the customer and history panes."""

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
            self.notify(
                _("Could not open the customer: {error}").format(error=error),
                severity="error",
                markup=False,
            )
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
            self._leave_offers(customer_id)  # the one before's offers are not theirs
            self._show_customer_parts(True)
            self._show_figures(customer_id, profile)
        if profile is None and self._loyalty_panel:  # the panel came while reading
            self.load_figures(customer_id)
        self.call_after_refresh(self.record_view, customer_id)  # once the card is drawn
        self.check_duplicates(customer_id)  # in a worker, after the draw
        call = self.draft
        on_call = call is not None and call.customer_id == customer_id
        if call is not None and call.customer_id is None and call.call_id is not None:
            on_call = await self._link(call, customer_id)
        self._refresh_bindings_if_changed()
        if with_offers and on_call:
            self.load_offers(customer_id)

    @work(group="audit", exit_on_error=False)
    async def record_view(self, customer_id: int) -> None:
        """Every opened customer is in the audit trail (who saw whom, and when)."""
        try:
            await self.services.audit.record(self.agent_name, "view", customer_id, "agent screen")
        except Exception as error:  # noqa: BLE001 - never in the agent's way; say it once
            self.log.warning(f"audit record failed: {error}")

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
            card.border_subtitle = _("figures unavailable")
            self.log.warning(f"profile of {customer_id}: {profile}")
            return
        card.border_subtitle = ""
        loyalty_set(self.query_one("#loyalty"), profile)

    @work(exclusive=True, group="figures", exit_on_error=False)
    async def load_figures(self, customer_id: int) -> None:
        self._show_figures(customer_id, await self._profile(customer_id))

    def on_timeline_more_wanted(self, event: Timeline.MoreWanted) -> None:
        if self.customer_id is not None and self.history_cursor is not None:
            self.load_more_history(self.customer_id, event.channel, self.history_cursor)

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

    def on_timeline_filter_changed(self, event: Timeline.FilterChanged) -> None:
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
