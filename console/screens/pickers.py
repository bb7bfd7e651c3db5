"""Small modal pickers: a reason/outcome code (by number or type-to-filter), a caller."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.i18n import _
from console.keymap import KEYMAP
from console.safe_text import safe_text
from console.textual_words import TranslatedBindings
from console.widgets.customer_list import CustomerList, Hit
from console.widgets.search_box import SearchBox

if TYPE_CHECKING:
    from core.i18n.codes import CodeBook, Kind

PICKER_CSS = """
CodePicker, CallerPicker { align: center middle; }
CodePicker > Vertical, CallerPicker > Vertical {
    width: 60; max-width: 95%; height: auto; max-height: 90%;
    border: thick $primary; background: $surface; padding: 0 1;
}
CodePicker OptionList, CallerPicker CustomerList { height: auto; max-height: 16; }
CodePicker .hint, CallerPicker .hint { color: $text-muted; height: auto; }
"""


def filter_codes(codes: Sequence[str], typed: str) -> list[int]:
    """Indexes of the codes matching what was typed: its number, or words in any order."""
    typed = typed.strip().casefold()
    if not typed:
        return list(range(len(codes)))
    if typed.isdigit():
        number = int(typed)
        return [number - 1] if 1 <= number <= len(codes) else []
    words = typed.split()
    starts = [i for i, code in enumerate(codes) if code.casefold().startswith(typed)]
    rest = [
        i
        for i, code in enumerate(codes)
        if i not in starts and all(word in code.casefold() for word in words)
    ]
    return starts + rest


class CodePicker(TranslatedBindings, ModalScreen[str | None]):
    """Pick one code: type its number or a few letters, Enter picks the highlighted one.

    `codes` are what the picker returns; `labels` (default the codes) what it shows and
    filters; `find` (typed -> the codes it matches, best first) replaces the filter on the
    labels, as `for_codes` does with the code book's label search.
    """

    DEFAULT_CSS = PICKER_CSS
    BINDINGS = KEYMAP["picker"].bindings

    def __init__(
        self,
        title: str,
        codes: Sequence[str],
        current: str = "",
        labels: Sequence[str] | None = None,
        find: Callable[[str], Iterable[str]] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.codes = list(codes)
        self.labels = list(labels) if labels is not None else list(self.codes)
        self.find = find
        self.current = current
        self.shown: list[int] = list(range(len(self.codes)))

    @classmethod
    def for_codes(
        cls, title: str, kind: Kind, ids: Sequence[str], book: CodeBook, current: str = ""
    ) -> CodePicker:
        """A picker of reason, outcome, decline or break ids, shown and found by their labels
        in the current language (`reclam` finds Reclamación); it returns the id."""
        pairs = book.labels(kind, ids)

        def find(typed: str) -> list[str]:
            return [code.id for code in book.find(kind, typed, ids)]

        return cls(title, [i for i, _label in pairs], current, [label for _i, label in pairs], find)

    def _matching(self, typed: str) -> list[int]:
        text = typed.strip()
        if self.find is None or not text or text.isdigit():
            return filter_codes(self.labels, typed)
        found = list(dict.fromkeys(self.find(text)))
        return [self.codes.index(code) for code in found if code in self.codes]

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield SearchBox(id="code-filter")
            yield OptionList(id="codes")
            yield Static(
                _("Type a number or a few letters · ↑↓ · Enter picks · Esc cancels"), classes="hint"
            )

    def on_mount(self) -> None:
        self.query_one("#code-filter", SearchBox).placeholder = _("Number or a few letters")
        self._refill("")
        if self.current in self.codes:
            self.query_one("#codes", OptionList).highlighted = self.codes.index(self.current)

    def _refill(self, typed: str) -> None:
        self.shown = self._matching(typed)
        options = self.query_one("#codes", OptionList)
        options.clear_options()
        options.add_options(
            Option(Text.assemble((f"{i + 1:>2}  ", "dim"), safe_text(self.labels[i])), id=str(i))
            for i in self.shown
        )
        if self.shown:
            options.highlighted = 0

    @on(Input.Changed, "#code-filter")
    def _typed(self, event: Input.Changed) -> None:
        self._refill(event.value)

    @on(SearchBox.Move)
    def _move(self, event: SearchBox.Move) -> None:
        options = self.query_one("#codes", OptionList)
        if self.shown:
            current = options.highlighted if options.highlighted is not None else 0
            options.highlighted = max(0, min(len(self.shown) - 1, current + event.step))

    @on(Input.Submitted, "#code-filter")
    def _submitted(self) -> None:
        options = self.query_one("#codes", OptionList)
        if self.shown and options.highlighted is not None:
            self.dismiss(self.codes[self.shown[options.highlighted]])
        else:
            self.notify(_("No code matches what you typed."), severity="warning")

    @on(OptionList.OptionSelected, "#codes")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(self.codes[int(event.option.id)])

    def action_cancel(self) -> None:
        self.dismiss(None)


UNKNOWN = 0
"""What CallerPicker returns for "none of these": an unknown caller."""


class CallerPicker(TranslatedBindings, ModalScreen[int | None]):
    """Several customers have the caller's number: pick one, or none of them."""

    DEFAULT_CSS = PICKER_CSS
    BINDINGS = KEYMAP["picker"].bindings

    def __init__(self, number: str, hits: Sequence[Hit]) -> None:
        super().__init__()
        self.number = number
        self.hits = list(hits)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = _("Who is calling from {number}?").format(number=self.number)
            yield CustomerList(id="callers")
            yield OptionList(
                Option(_("None of these: an unknown caller"), id="unknown"), id="unknown-caller"
            )
            yield Static(_("↑↓ · Enter picks · Tab: none of these · Esc cancels"), classes="hint")

    def on_mount(self) -> None:
        callers = self.query_one("#callers", CustomerList)
        callers.show(self.hits)
        callers.focus()

    @on(CustomerList.Opened)
    def _picked(self, event: CustomerList.Opened) -> None:
        event.stop()
        self.dismiss(event.customer_id)

    @on(OptionList.OptionSelected, "#unknown-caller")
    def _unknown(self) -> None:
        self.dismiss(UNKNOWN)

    def action_cancel(self) -> None:
        self.dismiss(None)
