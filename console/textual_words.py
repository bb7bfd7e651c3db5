"""Textual's own words in the reader's language: binding descriptions, the palette, system commands.

Textual reads `Binding.description` when the footer, the keys panel or the palette draws, and
the bindings are class attributes built at import time, before a test or a user picks the
language. So the descriptions stay the English message ids (`N_`) and every screen hands the
footer its bindings translated (`TranslatedBindings.active_bindings`), as drawn. The keys
themselves never depend on the language.

Textual's built-in widgets (Input, TextArea, DataTable...) bring their own English
descriptions; `TEXTUAL_WORDS` marks the ones the console can show so that they are extracted
into the console's catalog and translated the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rich.align import Align
from rich.text import Text
from textual.binding import ActiveBinding, Binding
from textual.command import CommandList, CommandPalette
from textual.widgets.option_list import Option

from console.i18n import N_, _


def translated(binding: Binding) -> Binding:
    """`binding` with its description and tooltip in the current language (keys unchanged)."""
    description = _(binding.description) if binding.description else binding.description
    tooltip = _(binding.tooltip) if binding.tooltip else binding.tooltip
    if description == binding.description and tooltip == binding.tooltip:
        return binding
    return dataclasses.replace(binding, description=description, tooltip=tooltip)


class TranslatedBindings:
    """Mixin for screens: the footer, the keys panel and the palette read translated bindings."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        active: dict[str, ActiveBinding] = super().active_bindings  # type: ignore[misc]
        return {
            key: ActiveBinding(
                found.node,
                translated(found.binding),
                found.enabled,
                _(found.tooltip) if found.tooltip else found.tooltip,
            )
            for key, found in active.items()
        }


class Palette(CommandPalette):
    """Textual's command palette with its placeholder and "No matches found" translated."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("placeholder", _("Search for commands…"))
        super().__init__(**kwargs)

    def _start_no_matches_countdown(self, search_value: str) -> None:
        # Textual's own, with its one English line translated.
        self._stop_no_matches_countdown()

        def _show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(
                        Align.center(Text(_("No matches found"), style="not bold")),
                        disabled=True,
                        id=self._NO_MATCHES,
                    )
                )
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, _show_no_matches)


SYSTEM_COMMANDS = (
    N_("Theme"),
    N_("Change the current theme"),
    N_("Quit"),
    N_("Quit the application as soon as possible"),
    N_("Keys"),
    N_("Hide the keys and widget help panel"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Minimize"),
    N_("Minimize the widget and restore to normal size"),
    N_("Maximize"),
    N_("Maximize the focused widget"),
    N_("Screenshot"),
    N_("Save an SVG 'screenshot' of the current screen"),
)
"""Textual's system commands (App.get_system_commands), translated by ConsoleApp."""

TEXTUAL_WORDS = (
    # The palette's own binding (the footer shows it) and its screen's keys (the keys panel).
    N_("palette"),
    N_("Open the command palette"),
    N_("Search for themes…"),
    N_("Exit the command palette"),
    N_("Next command"),
    N_("Previous command"),
    N_("Next page"),
    N_("Previous page"),
    N_("Go to top"),
    N_("Go to bottom"),
    N_("Focus Next"),
    N_("Focus Previous"),
    N_("Copy selected text"),
    N_("Quit the app and return to the command prompt."),
    # Input
    N_("Scroll Up"),
    N_("Scroll Down"),
    N_("Move cursor left"),
    N_("Move cursor right or accept the completion suggestion"),
    N_("Go to start"),
    N_("Go to end"),
    N_("Page Up"),
    N_("Page Down"),
    N_("Page Left"),
    N_("Page Right"),
    N_("Move cursor left and select"),
    N_("Move cursor left a word"),
    N_("Move cursor left a word and select"),
    N_("Move cursor right and select"),
    N_("Move cursor right a word"),
    N_("Move cursor right a word and select"),
    N_("Delete character left"),
    N_("Select all"),
    N_("Select line start"),
    N_("Select line end"),
    N_("Delete character right"),
    N_("Submit"),
    N_("Delete left to start of word"),
    N_("Delete all to the left"),
    N_("Delete right to start of word"),
    N_("Delete all to the right"),
    N_("Cut selected text"),
    N_("Paste text from the clipboard"),
    # TextArea
    N_("Cursor up"),
    N_("Cursor down"),
    N_("Cursor left"),
    N_("Cursor right"),
    N_("Cursor line start"),
    N_("Cursor line end"),
    N_("Cursor page up"),
    N_("Cursor page down"),
    N_("Cursor word left"),
    N_("Cursor word right"),
    N_("Cursor left word select"),
    N_("Cursor right word select"),
    N_("Cursor line start select"),
    N_("Cursor line end select"),
    N_("Cursor up select"),
    N_("Cursor down select"),
    N_("Cursor left select"),
    N_("Cursor right select"),
    N_("Select line"),
    N_("Cut"),
    N_("Copy"),
    N_("Paste"),
    N_("Delete to line start"),
    N_("Delete to line end"),
    N_("Delete line"),
    N_("Undo"),
    N_("Redo"),
    # DataTable, OptionList, Tabs, Select, Checkbox, Button
    N_("Home"),
    N_("End"),
    N_("Page up"),
    N_("Page down"),
    N_("Select"),
    N_("Top"),
    N_("Bottom"),
    N_("Previous tab"),
    N_("Next tab"),
    N_("Up"),
    N_("Down"),
    N_("Scroll Left"),
    N_("Scroll Right"),
    N_("First"),
    N_("Last"),
    N_("Show menu"),
    N_("Toggle"),
    N_("Press button"),
)
"""Descriptions of Textual's own bindings that the footer or the keys panel may show."""
