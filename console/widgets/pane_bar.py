"""PaneBar: on a small terminal, which pane is shown and the keys that switch panes."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from console.i18n import N_, _
from console.key_names import keyed, keys_for

PANE_KEYS = (
    ("search", "search", N_("Search")),
    ("customer", "show-customer", N_("Customer")),
    ("history", "show-history", N_("History")),
    ("call", "show-call", N_("Call")),
)
"""Each pane, the binding id of the key that shows it, its name."""

PANE_TITLES = {
    "search": N_("Find  {search}"),
    "customer": N_("Customer  {show-customer}"),
    "history": N_("History  {show-history}"),
    "call": N_("Call  {show-call} · {toggle-hold} hold · {transfer-call} transfer"),
    "nobody-found": N_("Nobody found. {answer-call} logs a call for someone not found."),
}
"""The panes' border titles (and the empty search's line); `{binding-id}` is the key bound
now (FRONTLINE_KEYMAP)."""


def pane_title(node: object, pane: str) -> str:
    """The border title of `pane` (or another of PANE_TITLES), naming the keys bound now."""
    return keyed(node, _(PANE_TITLES[pane]))


class PaneBar(Static):
    """A one-line tab bar; a click switches too (the keys are the main way)."""

    DEFAULT_CSS = """
    PaneBar { height: 1; background: $panel; display: none; }
    """

    active: reactive[str] = reactive("search")

    def render(self) -> Text:
        text = Text()
        for pane, binding_id, label in PANE_KEYS:
            key = keys_for(self, binding_id)
            style = "bold reverse" if pane == self.active else ""
            text.append(f" {key} ", style=f"{style} bold")
            text.append(f"{_(label)} ", style=style)
            text.append(" ")
        return text

    def on_click(self, event: object) -> None:
        x = getattr(event, "x", 0)
        position = 0
        for pane, binding_id, label in PANE_KEYS:
            width = len(f" {keys_for(self, binding_id)} {_(label)}  ")
            if position <= x < position + width:
                self.screen.run_action(f"show_pane({pane!r})")
                return
            position += width
