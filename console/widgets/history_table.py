"""HistoryTable: the interaction rows, drawn line by line straight from segments.

Textual's DataTable renders every cell through Rich (padding, wrapping, styles merged per
cell): for the history that was most of the time it took to open a customer. The history
is a fixed set of short columns, so this widget keeps each row as plain strings and draws
only the lines on screen (Textual's line API), with a header that stays put, zebra stripes
and a row cursor. Text is written as segments, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.i18n import _
from console.keymap import KEYMAP
from console.safe_text import clean


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    """Cells; the flexible column's is recomputed from the widget's width."""
    flexible: bool = False


@dataclass(frozen=True)
class Cell:
    text: str
    """Shown as written: control characters are replaced by visible stand-ins on creation
    (console.safe_text.clean), and segments are never read as markup."""
    style: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", clean(self.text))


Row = Sequence[Cell]
PADDING = 1
"""Blank cells either side of every column."""


class HistoryTable(ScrollView, can_focus=True):
    """Rows with a cursor; the first line is the column header and never scrolls away."""

    COMPONENT_CLASSES = {
        "history-table--header",
        "history-table--cursor",
        "history-table--even-row",
    }

    DEFAULT_CSS = """
    HistoryTable { background: $surface; color: $foreground; }
    HistoryTable > .history-table--header {
        text-style: bold; background: $panel; color: $foreground;
    }
    HistoryTable > .history-table--even-row { background: $surface-lighten-1 40%; }
    HistoryTable > .history-table--cursor {
        background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
    }
    HistoryTable:focus > .history-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """

    BINDINGS = KEYMAP["history-table"].bindings

    cursor_row: reactive[int] = reactive(0, repaint=False, init=False)

    @dataclass
    class RowHighlighted(Message):
        """The cursor moved to `cursor_row`."""

        table: HistoryTable
        cursor_row: int

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's own name for it
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self.rows: list[Row] = []
        self._styles: dict[str, Style] = {}

    # --- content ----------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def clear(self) -> None:
        self.rows = []
        self.set_reactive(HistoryTable.cursor_row, 0)
        self.scroll_to(y=0, animate=False, immediate=True)
        self._update_size()

    def add_rows(self, rows: Sequence[Row]) -> None:
        first = not self.rows
        self.rows.extend(rows)
        self._update_size()
        if first and self.rows:
            self.post_message(self.RowHighlighted(self, self.cursor_row))

    def _update_size(self) -> None:
        width = sum(c.width + 2 * PADDING for c in self.columns)
        self.virtual_size = Size(width, len(self.rows) + 1)
        self.refresh()

    def on_resize(self) -> None:
        # The flexible column takes whatever width the fixed ones leave: nothing is cut
        # off at 80 columns and nothing wasted at 120.
        fixed = sum(c.width for c in self.columns if not c.flexible)
        padding = 2 * PADDING * len(self.columns)
        width = max(10, self.scrollable_content_region.width - fixed - padding)
        if all(c.width == width for c in self.columns if c.flexible):
            return  # only the height changed (another customer's header): drawn already
        self.columns = [
            Column(c.key, c.label, width, True) if c.flexible else c for c in self.columns
        ]
        self._update_size()

    # --- drawing ----------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles are worked out once per drawing, not once per line: each is a walk up
        # the DOM blending backgrounds.
        self._styles = {
            "": self.rich_style,
            **{name: self.get_component_rich_style(name) for name in self.COMPONENT_CLASSES},
        }
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        styles = self._styles
        if y == 0:
            style = styles["history-table--header"]
            strip = self._strip([Cell(_(c.label)) for c in self.columns], style)
        else:
            index = scroll_y + y - 1
            if index >= len(self.rows):
                return Strip.blank(width, styles[""])
            if index == self.cursor_row:
                style = styles["history-table--cursor"]
            elif index % 2:
                style = styles["history-table--even-row"]
            else:
                style = styles[""]
            strip = self._strip(self.rows[index], style, cursor=index == self.cursor_row)
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def _strip(self, cells: Row, base: Style, cursor: bool = False) -> Strip:
        segments: list[Segment] = []
        pad = Segment(" " * PADDING, base)
        for column, cell in zip(self.columns, cells, strict=False):
            text = cell.text
            if cell_len(text) > column.width:  # say that there is more (the notes line shows it)
                text = set_cell_size(text, column.width - 1) + "…"
            style = base if cursor or not cell.style else base + Style.parse(cell.style)
            segments += (pad, Segment(set_cell_size(text, column.width), style), pad)
        return Strip(segments, sum(c.width + 2 * PADDING for c in self.columns))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._refresh_row(old)
        self._refresh_row(new)
        self._keep_cursor_visible()
        self.post_message(self.RowHighlighted(self, new))

    def _refresh_row(self, index: int) -> None:
        self.refresh_line(index + 1)  # virtual lines: the header is line 0

    def _keep_cursor_visible(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)

    # --- moving -----------------------------------------------------------------------

    def _move_to(self, row: int) -> None:
        if self.rows:
            self.cursor_row = max(0, min(len(self.rows) - 1, row))

    def action_cursor(self, step: int) -> None:
        self._move_to(self.cursor_row + step)

    def action_page(self, pages: int) -> None:
        self._move_to(self.cursor_row + pages * max(1, self.scrollable_content_region.height - 2))

    def action_scroll_top(self) -> None:
        self._move_to(0)

    def action_scroll_bottom(self) -> None:
        self._move_to(len(self.rows) - 1)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self._move_to(round(self.scroll_offset.y) + event.y - 1)
