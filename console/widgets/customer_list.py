"""CustomerList: search results, namesakes told apart by city, birth year, phone, id and tier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from console.safe_text import safe_text


class Hit(Protocol):
    """What the list needs of a search hit (core.search.service.SearchHit has it)."""

    customer_id: int
    external_id: str
    name: str
    city: str
    birth_year: int | None
    phone_tail: str
    tier: str


TIER_STYLES = {
    "bronze": "bold black on dark_orange3",
    "silver": "bold black on grey70",
    "gold": "bold black on gold1",
    "platinum": "bold black on light_cyan1",
}


def tier_badge(tier: str) -> Text:
    """The loyalty tier as a small coloured badge (empty for no tier)."""
    if not tier:
        return Text()
    return safe_text(f" {tier} ", TIER_STYLES.get(tier.lower(), "bold reverse"))


def describe(hit: Hit) -> Text:
    """Two lines: the name and tier, then what tells namesakes apart."""
    first = Text.assemble(safe_text(hit.name, "bold"), "  ", tier_badge(hit.tier))
    facts = [hit.external_id]
    if hit.city:
        facts.append(hit.city)
    if hit.birth_year:
        facts.append(f"b.{hit.birth_year}")
    if hit.phone_tail:
        facts.append(f"…{hit.phone_tail}")
    second = safe_text("  " + " · ".join(facts), "dim")
    return Text("\n").join([first, second])


class CustomerList(OptionList):
    """The search results; Enter or a click opens one."""

    DEFAULT_CSS = """
    CustomerList { height: 1fr; }
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """The list's own size is fixed by the screen: new results repaint it (and show or hide
    its scroll bar, which lays out), without a layout of the whole screen each keystroke."""

    @dataclass
    class Opened(Message):
        """The agent picked this customer."""

        customer_id: int

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.hits: list[Hit] = []

    def show(self, hits: Sequence[Hit], message: str = "") -> None:
        """Replace the results; `message` is shown when there are none."""
        hits = list(hits)
        if hits and hits == self.hits and self.option_count == len(hits):
            return  # the same answer again (one more letter of the same name): nothing to redraw
        self.hits = hits
        # One replacement rather than clear + add: an empty list in between would hide and
        # show the scroll bar, and each of those re-lays out the whole screen.
        if not hits:
            self.set_options(
                [Option(safe_text(message, "dim italic"), disabled=True)] if message else []
            )
            return
        self.set_options(Option(describe(hit), id=str(hit.customer_id)) for hit in hits)
        self.highlighted = 0

    def move(self, step: int) -> None:
        if not self.hits:
            return
        current = self.highlighted if self.highlighted is not None else -1
        self.highlighted = max(0, min(len(self.hits) - 1, current + step))

    def open_highlighted(self) -> bool:
        """Open the highlighted result; False when there is none."""
        if not self.hits or self.highlighted is None:
            return False
        self.post_message(self.Opened(self.hits[self.highlighted].customer_id))
        return True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Opened(int(event.option.id)))
