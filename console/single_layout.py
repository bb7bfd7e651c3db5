"""One layout pass per change, not two.

After Textual lays the screen out, every widget whose size changed has its `virtual_size`
reactive set, and that reactive is declared with `layout=True`: so any change that moves
anything (opening another customer changes the height of the header, the contact list,
the history pane) lays the whole screen out a second time, finding nothing new. The second
pass matters only to a widget that can scroll, whose scrollbars may appear or go. For the
others this sets their virtual size without asking for a layout again.

Measured on the agent screen at 120×40, opening a customer: two full layouts and three
screen updates became one layout and one update; with benchmarks/bench_console.py (10,000
customers, a loaded 2-core machine) the CPU of an open went from 128 ms without the patch to
115 ms with it. It patches a private Textual method, so the app installs it explicitly when it
starts, and tests/console/test_single_layout.py fails on a Textual where it no longer applies.
"""

from __future__ import annotations

import inspect
import logging

from textual.geometry import Size
from textual.widget import Widget

log = logging.getLogger(__name__)

_SCROLLING = ("auto", "scroll")
_original = Widget._size_updated


def _size_updated(
    self: Widget, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
) -> bool:
    styles = self.styles
    if styles.overflow_x not in _SCROLLING and styles.overflow_y not in _SCROLLING:
        layout = False  # no scrollbar to show or hide: the layout that just ran stands
    return _original(self, size, virtual_size, container_size, layout)


def install() -> bool:
    """Install the patch (idempotent); False, with a warning, on a Textual whose
    `_size_updated` no longer takes `layout` (the screen is then laid out twice, as before)."""
    if installed():
        return True
    if "layout" not in inspect.signature(_original).parameters:
        log.warning("single layout pass not installed: Textual's Widget._size_updated changed")
        return False
    Widget._size_updated = _size_updated  # type: ignore[method-assign]
    return True


def installed() -> bool:
    """True when widgets that cannot scroll skip the second layout pass."""
    return Widget._size_updated is _size_updated  # type: ignore[comparison-overlap]
