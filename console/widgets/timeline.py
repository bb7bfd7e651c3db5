"""Timeline: the customer's interactions on every channel, newest first, loaded in pages.

The table only ever holds the pages loaded so far; when the cursor or the scroll position
comes near the end it asks its screen for the next page (`MoreWanted`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from console.codes import code_label
from console.i18n import N_, _
from console.keymap import CHANNEL_KEYS, KEYMAP
from console.safe_text import clean, safe_text
from console.widgets.history_table import Cell, Column, HistoryTable
from console.widgets.local_time import format_number, when

if TYPE_CHECKING:  # the console starts before the database layer is imported
    from core.models import Interaction

CHANNEL_STYLES = {
    "phone": "green",
    "email": "cyan",
    "web": "blue",
    "store": "magenta",
    "sales_visit": "yellow",
    "chat": "bright_cyan",
}

NEAR_END = 25
"""Ask for the next page when the cursor or view is this many rows from the end."""


SHORT_CHANNEL = {"sales_visit": "visit"}
CHANNEL_WORDS = (
    # The channels as the history shows them (short, in its narrow column) and the filters.
    N_("phone"),
    N_("email"),
    N_("web"),
    N_("store"),
    N_("visit"),
    N_("chat"),
    N_("all"),
    N_("sales visit"),
    N_("inbound"),
    N_("outbound"),
)
COLUMNS = (
    Column("when", N_("When"), 18),
    Column("channel", N_("Chan."), 7),
    Column("subject", N_("Subject"), 20, flexible=True),
    Column("outcome", N_("Outcome"), 12),
    Column("agent", N_("Agent"), 10),
)


def _channel(name: str) -> str:
    return _(name.replace("_", " "))


class HistoryRows(HistoryTable):
    """The history rows; single keys filter by channel (it never takes text)."""

    BINDINGS = KEYMAP["history"].bindings

    def action_filter_channel(self, channel: str | None) -> None:
        timeline = self.parent.parent if self.parent is not None else None
        if isinstance(timeline, Timeline):
            timeline.request_filter(channel)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        timeline = self.parent.parent if self.parent is not None else None
        if isinstance(timeline, Timeline) and new + self.size.height >= self.row_count - NEAR_END:
            timeline.want_more()


class Timeline(Vertical):
    """The history table, a line of channel filters and the highlighted row's notes."""

    DEFAULT_CSS = """
    Timeline { height: 1fr; }
    Timeline > #timeline-filters { height: auto; max-height: 2; padding: 0 1; }
    Timeline > Vertical > HistoryRows { height: 1fr; overflow-y: scroll; }
    Timeline > #timeline-notes { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
    """

    @dataclass
    class MoreWanted(Message):
        """The next (older) page of the history shown (`channel`: None for all) is needed."""

        channel: str | None

    @dataclass
    class FilterChanged(Message):
        """The agent asked for one channel only (None: every channel)."""

        channel: str | None

    def __init__(self, zone: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.zone = zone
        self.channel: str | None = None
        self.counts: dict[str, int] = {}
        self.has_more = False
        self.loading_more = False
        self.items: list[Interaction] = []
        self._notes_of: Interaction | None = None
        """The interaction whose notes are shown (a second update of the same would lay
        out the whole screen again for nothing)."""

    def compose(self) -> ComposeResult:
        yield Static(id="timeline-filters")
        with Vertical():
            yield HistoryRows(COLUMNS)
        yield Static(id="timeline-notes")

    @property
    def table(self) -> HistoryRows:
        return self.query_one(HistoryRows)

    def reset(self, channel: str | None, counts: dict[str, int] | None = None) -> None:
        """Empty the table for a new customer or filter; pages follow with `append`."""
        self.channel = channel
        if counts is not None:
            self.counts = counts
        self.items = []
        self.has_more = False
        self.loading_more = False
        self.table.clear()
        self._show_filters()
        self._notes_of = None
        self.query_one("#timeline-notes", Static).update("")

    def append(self, items: Sequence[Interaction], has_more: bool) -> None:
        """Add the next page of (older) interactions."""
        self.items.extend(items)
        self.has_more = has_more
        self.loading_more = False
        table = self.table
        table.add_rows(
            [
                (
                    Cell(when(item.at, self.zone)),
                    Cell(
                        ("↓" if item.direction == "inbound" else "↑")
                        + _(SHORT_CHANNEL.get(item.channel, item.channel)),
                        CHANNEL_STYLES.get(item.channel, ""),
                    ),
                    Cell(item.subject),
                    Cell(code_label("outcome", item.outcome or "")),
                    Cell(item.agent or "", "dim"),
                )
                for item in items
            ]
        )
        if not self.items:
            self.query_one("#timeline-notes", Static).update(
                Text(
                    _("No interactions on {channel}.").format(channel=_channel(self.channel))
                    if self.channel
                    else _("No interactions."),
                    style="italic",
                )
            )
        elif len(self.items) == len(items):
            self._show_notes(0)

    def want_more(self) -> None:
        if self.has_more and not self.loading_more:
            self.loading_more = True
            self.post_message(self.MoreWanted(self.channel))

    def request_filter(self, channel: str | None) -> None:
        self.post_message(self.FilterChanged(channel))

    def _show_filters(self) -> None:
        parts = []
        total = sum(self.counts.values())
        for key, channel in CHANNEL_KEYS.items():
            count = total if channel is None else self.counts.get(channel, 0)
            label = _("all") if channel is None else _(SHORT_CHANNEL.get(channel, channel))
            active = channel == self.channel
            parts.append(
                Text.assemble(
                    (key, "bold underline" if not active else "bold reverse"),
                    (f" {label} {format_number(count)}", "bold" if active else ""),
                )
            )
        self.query_one("#timeline-filters", Static).update(Text(" ").join(parts))

    def _show_notes(self, row: int) -> None:
        if not 0 <= row < len(self.items):
            return
        item = self.items[row]
        if item is self._notes_of:
            return
        self._notes_of = item
        notes = clean(item.notes).replace("\n", " ⏎ ") if item.notes else _("(no notes)")
        self.query_one("#timeline-notes", Static).update(
            Text.assemble(
                safe_text(f"{_(item.direction)} {_channel(item.channel)} · ", "dim"),
                safe_text(item.subject, "bold"),
                safe_text(f" · {code_label('outcome', item.outcome)}" if item.outcome else "", ""),
                " — ",
                safe_text(notes, "italic"),
            )
        )

    def on_history_table_row_highlighted(self, event: HistoryTable.RowHighlighted) -> None:
        event.stop()
        row = event.cursor_row
        self._show_notes(row)
        if row >= len(self.items) - NEAR_END:
            self.want_more()
