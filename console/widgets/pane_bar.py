"""PaneBar: on a small terminal, which pane is shown and the keys that switch panes."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

PANE_KEYS = (
    ("search", "F2", "Search"),
    ("customer", "F3", "Customer"),
    ("history", "F4", "History"),
    ("call", "F5", "Call"),
)


class PaneBar(Static):
    """A one-line tab bar; a click switches too (the keys are the main way)."""

    DEFAULT_CSS = """
    PaneBar { height: 1; background: $panel; display: none; }
    """

    active: reactive[str] = reactive("search")

    def render(self) -> Text:
        text = Text()
        for pane, key, label in PANE_KEYS:
            style = "bold reverse" if pane == self.active else ""
            text.append(f" {key} ", style=f"{style} bold")
            text.append(f"{label} ", style=style)
            text.append(" ")
        return text

    def on_click(self, event: object) -> None:
        x = getattr(event, "x", 0)
        position = 0
        for pane, key, label in PANE_KEYS:
            width = len(f" {key} {label}  ")
            if position <= x < position + width:
                self.screen.run_action(f"show_pane({pane!r})")
                return
            position += width
