"""AgentScreen: find a customer and see their card."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList
from textual.widgets.option_list import Option

from console.safe_text import safe_text
from console.widgets.customer_card import CustomerCard
from core.services.customers import CustomerService


class AgentScreen(Screen[None]):
    BINDINGS = [
        Binding("f2", "focus_search", "Search", tooltip="Back to the search box.", id="search"),
    ]

    def __init__(self, customers: CustomerService) -> None:
        super().__init__()
        self.customers = customers

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Name, phone, email or customer number", id="search")
        yield OptionList(id="results")
        yield CustomerCard()
        yield Footer()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    @on(Input.Changed, "#search")
    def on_search_changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @on(Input.Submitted, "#search")
    def on_search_submitted(self) -> None:
        results = self.query_one("#results", OptionList)
        if results.option_count:
            results.focus()
            results.highlighted = 0

    @work(exclusive=True, group="customer-search", exit_on_error=False)
    async def search(self, query: str) -> None:
        found = await self.customers.find_simple(query)
        if query != self.query_one("#search", Input).value:  # drop stale answers
            return
        results = self.query_one("#results", OptionList)
        results.clear_options()
        results.add_options(
            Option(safe_text(f"{c.full_name}  {c.city}  {c.external_id}"), id=str(c.id))
            for c in found
        )

    @on(OptionList.OptionSelected, "#results")
    def on_result_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.open_customer(int(event.option.id))

    @work(exclusive=True, group="open-customer", exit_on_error=False)
    async def open_customer(self, customer_id: int) -> None:
        self.query_one(CustomerCard).card = await self.customers.card(customer_id)
