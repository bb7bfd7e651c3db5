"""CustomerCard: who the customer is, their contact points and latest interactions."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from console.safe_text import safe_text
from core.services.customers import CustomerCard as CardData


class CustomerCard(Static):
    """Shows one customer's card; empty until `card` is set."""

    DEFAULT_CSS = """
    CustomerCard { padding: 0 1; height: auto; }
    """

    card: reactive[CardData | None] = reactive(None)

    def watch_card(self, card: CardData | None) -> None:
        if card is None:
            self.update("")
            return
        c = card.customer
        title = Text.assemble(safe_text(c.full_name, "bold"), "  ", safe_text(c.external_id, "dim"))
        facts = Table.grid(padding=(0, 2))
        facts.add_row("City", safe_text(f"{c.city} {c.country}".strip()))
        if card.loyalty is not None:
            facts.add_row("Tier", safe_text(f"{card.loyalty.tier} · {card.loyalty.points} pts"))
        if c.customer_since:
            facts.add_row("Customer since", safe_text(c.customer_since.isoformat()))
        for point in card.contact_points:
            facts.add_row(safe_text(point.kind.title()), safe_text(point.value))
        history = Table(title="Latest interactions", expand=True, show_edge=False)
        for column in ("When", "Channel", "Subject", "Outcome"):
            history.add_column(column)
        for item in card.recent:
            history.add_row(
                safe_text(item.at.astimezone().strftime("%Y-%m-%d %H:%M")),
                safe_text(item.channel),
                safe_text(item.subject),
                safe_text(item.outcome),
            )
        self.update(Group(title, facts, history))
