"""HelpScreen (F1 or ?): every key of the screen underneath, and what the figures mean."""

from __future__ import annotations

from dataclasses import replace

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from console.i18n import N_, _
from console.key_names import keyed
from console.keymap import HELP_SCOPES, KEYMAP
from console.safe_text import safe_text
from console.textual_words import TranslatedBindings

CALL_HELP = N_("""\
Call timer: time since the call was taken ({answer-call} or a screen pop).
Wrap-up timer: time since the call ended ({end-call}); {finish-call} saves the call in the
customer's history.
Draft: notes, codes and the follow-up date are saved within 2 seconds of typing; after a
crash or a dropped connection, starting Frontline again as the same agent brings them back.
Follow-up: a date (YYYY-MM-DD), +N for N days from today, or "tomorrow".
Open complaint: the customer's latest complaint has no closing outcome (resolved, closed).
Follow-up due: a follow-up date promised on a call has come and nobody has contacted the
customer since.
Loyalty tiers by points (1 point per 1.00 spent): Bronze 0, Silver 2,000, Gold 6,000,
Platinum 15,000.""")


def _keys_of(binding: Binding, keymap: dict[str, str]) -> list[str]:
    """The binding's keys, as remapped by the app's keymap (by id) if it is."""
    keys = keymap.get(binding.id or "", binding.key)
    return [key.strip() for key in keys.split(",")]


def keys_table(screen: Screen[object]) -> Table:
    """The keymap's scopes for `screen`: key, action, what it does (id), available now."""
    table = Table(box=None, expand=True, show_header=True, header_style="bold", padding=(0, 1))
    table.add_column(_("Key"), no_wrap=True, style="bold cyan")
    table.add_column(_("Action"), no_wrap=True, max_width=16)
    table.add_column(_("What it does (binding id)"), ratio=1)
    app = screen.app
    keymap: dict[str, str] = getattr(app, "keymap_overrides", {})
    scopes = HELP_SCOPES.get(type(screen).__name__, ("app", "textual"))
    for scope in scopes:
        table.add_row("", "", Text(_(KEYMAP[scope].title), style="bold"))
        node = screen if scope == scopes[0] else app
        for binding in KEYMAP[scope].bindings:
            shown = ", ".join(
                app.get_key_display(replace(binding, key=key)) for key in _keys_of(binding, keymap)
            )
            available = scope not in (scopes[0], "app") or (
                node.check_action(binding.action.split("(")[0], ()) is not False
            )
            table.add_row(
                shown,
                Text(_(binding.description), style="" if available else "dim"),
                Text.assemble(
                    _(binding.tooltip) if binding.tooltip else "",
                    ("" if available else _(" (not now)"), "italic"),
                    (f" [{binding.id}]", "dim"),
                ),
            )
    return table


class HelpScreen(TranslatedBindings, ModalScreen[None]):
    """Keys and figure definitions; Esc, F1 or q closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100; max-width: 98%; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    HelpScreen .title { text-style: bold; margin-top: 1; }
    """
    BINDINGS = KEYMAP["help"].bindings

    def __init__(self, underneath: Screen[object]) -> None:
        super().__init__()
        self.underneath = underneath

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = keyed(self, _("Help · {help-close} closes"))
            yield Static(_("Keys"), classes="title")
            yield Static(keys_table(self.underneath))
            yield Static(
                _('Keys can be remapped by id: FRONTLINE_KEYMAP="answer-call=f6;search=f2,slash"'),
                classes="hint",
            )
            yield Static(_("The call"), classes="title")
            yield Static(safe_text(keyed(self.underneath, _(CALL_HELP))))
            from console.widgets.optional import loyalty_help

            loyalty = loyalty_help()
            if loyalty:
                yield Static(_("Loyalty and value figures"), classes="title")
                yield Static(safe_text(_(loyalty)))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
