"""CustomerList: search results, namesakes told apart by city, birth year, phone, id and tier.

The list is redrawn on every keystroke, so it draws itself line by line from segments
(Textual's line API) instead of going through OptionList, whose per-option Rich rendering was
most of the cost of a keystroke. Each result takes two lines or more: the name and tier, then
the facts that tell namesakes apart, wrapped between facts, never inside one.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.i18n import _
from console.keymap import KEYMAP
from console.safe_text import clean
from console.widgets.tier_badge import tier_style


class Hit(Protocol):
    """What the list needs of a search hit (core.search.service.SearchHit has it)."""

    customer_id: int
    external_id: str
    name: str
    city: str
    birth_year: int | None
    phone_tail: str
    tier: str


INDENT = "  "
SEPARATOR = " · "

Piece = tuple[str, str]
"""Text (already cleaned) and the Rich style it is drawn in."""


@dataclass(frozen=True)
class Line:
    pieces: tuple[Piece, ...]
    hit: int | None
    """The result this line belongs to; None for the message shown when there are none."""


def _badge(tier: str) -> Piece:
    return (f" {clean(_(tier))} ", tier_style(tier))


def facts(hit: Hit) -> list[str]:
    """What tells namesakes apart, in the order an agent checks them."""
    found = [hit.external_id]
    if hit.city:
        found.append(hit.city)
    if hit.birth_year:
        found.append(_("b.{year}").format(year=hit.birth_year))
    if hit.phone_tail:
        found.append(f"…{hit.phone_tail}")
    return [clean(fact) for fact in found]


def hit_lines(hit: Hit, index: int, width: int) -> list[Line]:
    """The result's lines at `width` cells: name and tier, then the facts."""
    first: list[Piece] = [(clean(hit.name), "bold")]
    if hit.tier:
        first += [("  ", ""), _badge(hit.tier)]
    lines = [Line(tuple(first), index)]
    current = ""
    for fact in facts(hit):
        candidate = f"{current}{SEPARATOR}{fact}" if current else INDENT + fact
        if current and cell_len(candidate) > width:
            lines.append(Line(((current, "dim"),), index))
            candidate = INDENT + fact
        current = candidate
    lines.append(Line(((current, "dim"),), index))
    return lines


class CustomerList(ScrollView, can_focus=True):
    """The search results; Enter or a click opens one."""

    COMPONENT_CLASSES = {"customer-list--highlight"}

    DEFAULT_CSS = """
    CustomerList {
        height: 1fr; background: $surface; color: $foreground; padding-left: 1;
        overflow-x: hidden; scrollbar-gutter: stable; scrollbar-size-vertical: 1;
    }
    CustomerList > .customer-list--highlight {
        background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
    }
    CustomerList:focus > .customer-list--highlight {
        background: $block-cursor-background; color: $block-cursor-foreground;
    }
    """

    BINDINGS = KEYMAP["results"].bindings

    @dataclass
    class Opened(Message):
        """The agent picked this customer."""

        customer_id: int

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's own name for it
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.hits: list[Hit] = []
        self.highlighted: int | None = None
        self.message = ""
        self._lines: list[Line] = []
        self._width = 0
        self._styles: dict[str, Style] = {}

    # --- content ----------------------------------------------------------------------

    def show(self, hits: Sequence[Hit], message: str = "") -> None:
        """Replace the results; `message` is shown when there are none."""
        hits = list(hits)
        if hits and hits == self.hits:
            return  # the same answer again (one more letter of the same name): nothing to redraw
        self.hits = hits
        self.message = "" if hits else message
        self.highlighted = 0 if hits else None
        self._wrap(self._width)
        self.scroll_to(y=0, animate=False, immediate=True)

    def _wrap(self, width: int) -> None:
        self._width = width
        width = max(width, 12)
        lines: list[Line] = []
        for index, hit in enumerate(self.hits):
            lines += hit_lines(hit, index, width)
        if not self.hits and self.message:
            lines = [
                Line(((text, "dim italic"),), None)
                for text in textwrap.wrap(clean(self.message), width)
            ]
        self._lines = lines
        # The list's own size is fixed by the screen (or by its lines in a picker): a new
        # answer needs its lines repainted and the scroll bar updated, not a layout.
        size = Size(width, len(lines))
        if self.styles.height is not None and self.styles.height.is_auto:
            self.virtual_size = size
        else:
            self.set_reactive(ScrollView.virtual_size, size)
            self._update_scrollbar(size.height)
        self.refresh()

    def _update_scrollbar(self, height: int) -> None:
        # What a layout would do for this list, through public attributes: show or hide the
        # bar (that alone lays the screen out again, rarely) and size its thumb.
        window = self.container_size.height
        if not window:
            return  # not laid out yet: the first layout does it
        self.show_vertical_scrollbar = height > window
        if self.show_vertical_scrollbar:
            bar = self.vertical_scrollbar
            bar.window_virtual_size = height
            bar.window_size = window
            bar.refresh()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width != self._width:
            self._wrap(width)
        return len(self._lines)

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._wrap(width)

    # --- drawing ----------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self._styles = {
            "": self.rich_style,
            "highlight": self.get_component_rich_style("customer-list--highlight"),
        }
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = round(self.scroll_offset.y) + y
        base = self._styles[""]
        if index >= len(self._lines):
            return Strip.blank(width, base)
        line = self._lines[index]
        if line.hit is not None and line.hit == self.highlighted:
            base = self._styles["highlight"]
        segments = [
            Segment(text, base + Style.parse(style) if style else base)
            for text, style in line.pieces
        ]
        used = sum(cell_len(text) for text, _style in line.pieces)
        if used > width:  # a name longer than the pane: say it goes on
            plain = "".join(text for text, _style in line.pieces)
            segments = [Segment(set_cell_size(plain, width - 1) + "…", segments[0].style)]
        return Strip(segments).crop_extend(0, width, base)

    # --- moving and opening -----------------------------------------------------------

    def move(self, step: int) -> None:
        if not self.hits:
            return
        current = self.highlighted if self.highlighted is not None else -1
        self.highlighted = max(0, min(len(self.hits) - 1, current + step))
        self._keep_visible()
        self.refresh()

    def _keep_visible(self) -> None:
        rows = [y for y, line in enumerate(self._lines) if line.hit == self.highlighted]
        if rows:
            self.scroll_to_region(
                Region(0, rows[0], 1, len(rows)), animate=False, immediate=True, force=True
            )

    def open_highlighted(self) -> bool:
        """Open the highlighted result; False when there is none."""
        if not self.hits or self.highlighted is None:
            return False
        self.post_message(self.Opened(self.hits[self.highlighted].customer_id))
        return True

    def action_move(self, step: int) -> None:
        self.move(step)

    def action_open(self) -> None:
        self.open_highlighted()

    def on_click(self, event: events.Click) -> None:
        index = round(self.scroll_offset.y) + event.y
        if 0 <= index < len(self._lines) and (hit := self._lines[index].hit) is not None:
            self.highlighted = hit
            self.refresh()
            self.open_highlighted()
