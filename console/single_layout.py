"""One layout pass per change, not two.

After Textual lays the screen out, every widget whose size changed has its `virtual_size`
reactive set, and that reactive is declared with `layout=True`: so any change that moves
anything (opening another customer changes the height of the header, the contact list,
the history pane) lays the whole screen out a second time, finding nothing new. The second
pass matters only to a widget that can scroll, whose scrollbars may appear or go. For the
others this sets their virtual size without asking for a layout again.

Measured on the agent screen at 120×40, opening a customer: two full layouts and three
screen updates became one layout and one update (benchmarks/bench_console.py).
"""

from __future__ import annotations

import inspect

from textual.geometry import Size
from textual.widget import Widget

_SCROLLING = ("auto", "scroll")
_original = Widget._size_updated


def _size_updated(
    self: Widget, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
) -> bool:
    styles = self.styles
    if styles.overflow_x not in _SCROLLING and styles.overflow_y not in _SCROLLING:
        layout = False  # no scrollbar to show or hide: the layout that just ran stands
    return _original(self, size, virtual_size, container_size, layout)


def install() -> None:
    """Idempotent; called when the console's app module is imported. A Textual whose
    `_size_updated` no longer takes `layout` is left as it is (two layouts, as before)."""
    if Widget._size_updated is _size_updated:  # type: ignore[comparison-overlap]
        return
    if "layout" not in inspect.signature(_original).parameters:
        return
    Widget._size_updated = _size_updated  # type: ignore[method-assign]
