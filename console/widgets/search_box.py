"""SearchBox: one line that understands names, phones, emails and customer numbers."""

from __future__ import annotations

from dataclasses import dataclass

from textual.actions import SkipAction
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import Input

from console.i18n import _
from console.keymap import KEYMAP


class SearchBox(Input):
    """The search input; up/down move through the results without leaving the box."""

    BINDINGS = KEYMAP["search-box"].bindings

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """Input resets its virtual size on every keystroke; the box has a fixed size, so that
    needs a repaint of the box, not a layout of the whole screen (which costs more than the
    search itself)."""

    @dataclass
    class Move(Message):
        """The agent wants the highlight in the results moved by `step`."""

        step: int

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            placeholder=_("Name, phone, email or customer number"),
            **kwargs,  # type: ignore[arg-type]
        )

    def action_move(self, step: int) -> None:
        self.post_message(self.Move(step))

    def action_clear_query(self) -> None:
        if not self.value:
            raise SkipAction()  # nothing to clear: Esc goes on to close a picker, say
        self.value = ""
