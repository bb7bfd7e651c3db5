"""HelpScreen (F1 or ?): every key of the screen underneath, and what the figures mean."""

from __future__ import annotations

from dataclasses import replace

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from console.keymap import CHANNEL_KEYS, HELP_BINDINGS, TIMELINE_BINDINGS
from console.safe_text import safe_text

CALL_HELP = """\
Call timer: time since the call was taken (F6 or a screen pop).
Wrap-up timer: time since the call ended (F7); F8 saves the call in the customer's history.
Draft: notes, codes and the follow-up date are saved within 2 seconds of typing; after a
crash or a dropped connection, starting Frontline again as the same agent brings them back.
Follow-up: a date (YYYY-MM-DD), +N for N days from today, or "tomorrow".
Open complaint: the customer's latest complaint has no closing outcome (resolved, closed).
Follow-up due: a follow-up date promised on a call has come and nobody has contacted the
customer since.
Loyalty tiers by points (1 point per 1.00 spent): Bronze 0, Silver 2,000, Gold 6,000,
Platinum 15,000."""


def _bindings_of(node: DOMNode) -> list[tuple[str, Binding]]:
    """(keys, binding) for each binding of `node`, with the configured keymap applied."""
    bindings = node._bindings.copy()
    bindings.apply_keymap(node.app._keymap)
    by_id: dict[str, tuple[list[str], Binding]] = {}
    for key, found in bindings.key_to_bindings.items():
        for binding in found:
            ident = binding.id or binding.action
            by_id.setdefault(ident, ([], binding))[0].append(key)
    return [(", ".join(keys), binding) for keys, binding in by_id.values()]


def keys_table(screen: Screen[object], extra: list[tuple[str, list[Binding]]]) -> Table:
    """Every binding of `screen` and the app: key, action, what it does, id, available now."""
    table = Table(box=None, expand=True, show_header=True, header_style="bold", padding=(0, 1))
    table.add_column("Key", no_wrap=True, style="bold cyan")
    table.add_column("Action", no_wrap=True, max_width=16)
    table.add_column("What it does (binding id)", ratio=1)
    app = screen.app
    for node in (screen, app):
        for keys, binding in _bindings_of(node):
            if not binding.description:
                continue
            shown = ", ".join(
                app.get_key_display(replace(binding, key=k)) for k in keys.split(", ")
            )
            available = node.check_action(binding.action.split("(")[0], ()) is not False
            table.add_row(
                shown,
                Text(binding.description, style="" if available else "dim"),
                Text.assemble(
                    binding.tooltip,
                    ("" if available else " (not now)", "italic"),
                    (f" [{binding.id}]" if binding.id else "", "dim"),
                ),
            )
    for title, bindings in extra:
        table.add_row("", "", Text(title, style="bold"))
        for binding in bindings:
            table.add_row(
                binding.key,
                binding.description,
                Text.assemble(binding.tooltip, (f" [{binding.id}]" if binding.id else "", "dim")),
            )
    return table


class HelpScreen(ModalScreen[None]):
    """Keys and figure definitions; Esc, F1 or q closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100; max-width: 98%; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    HelpScreen .title { text-style: bold; margin-top: 1; }
    """
    BINDINGS = HELP_BINDINGS

    def __init__(self, underneath: Screen[object]) -> None:
        super().__init__()
        self.underneath = underneath

    def compose(self) -> ComposeResult:
        extra = [
            (
                "On the history (F4): filter by channel",
                [b for b in TIMELINE_BINDINGS if b.key in CHANNEL_KEYS],
            ),
            (
                "In the search box",
                [
                    Binding("↑ ↓", "", "Move", tooltip="Move through the results."),
                    Binding("enter", "", "Open", tooltip="Open the highlighted customer."),
                    Binding("escape", "", "Clear", tooltip="Empty the search box."),
                ],
            ),
            (
                "Everywhere",
                [
                    Binding("ctrl+p", "", "Palette", tooltip="Command palette: actions by name."),
                    Binding("tab", "", "Next", tooltip="Move to the next field or panel."),
                ],
            ),
        ]
        with VerticalScroll() as box:
            box.border_title = "Help · Esc closes"
            yield Static("Keys", classes="title")
            yield Static(keys_table(self.underneath, extra))
            yield Static(
                'Keys can be remapped by id: FRONTLINE_KEYMAP="answer-call=f6;search=f2,slash"',
                classes="hint",
            )
            yield Static("The call", classes="title")
            yield Static(safe_text(CALL_HELP))
            from console.widgets.optional import loyalty_help

            loyalty = loyalty_help()
            if loyalty:
                yield Static("Loyalty and value figures", classes="title")
                yield Static(safe_text(loyalty))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
