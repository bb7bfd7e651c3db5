"""The customer's record, from the agent screen: the menu (Ctrl+S) and the reveal (Ctrl+F).

Each is a modal screen of its own; it calls the services (the role is checked there too) and
tells the agent what happened. Names and values are untrusted text, shown as text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.failure_words import plain_reason
from console.i18n import N_, _
from console.keymap import KEYMAP
from console.safe_text import safe_text
from console.textual_words import TranslatedBindings
from console.widgets.local_time import day

if TYPE_CHECKING:
    from core.identity import Identity
    from core.services import Services

RECORD_CSS = """
RecordMenu, RevealScreen, CustomerForm, NewCustomerForm, ChangesScreen, MergeScreen {
    align: center middle;
}
RecordMenu > Vertical, RevealScreen > Vertical, CustomerForm > Vertical,
NewCustomerForm > Vertical, ChangesScreen > Vertical, MergeScreen > Vertical {
    width: 76; max-width: 100%; height: auto; max-height: 100%;
    border: thick $primary; background: $surface; padding: 0 1;
}
RecordMenu OptionList, ChangesScreen OptionList, MergeScreen OptionList {
    height: auto; max-height: 12;
}
.hint { color: $text-muted; height: auto; }
.problem { color: $error; height: auto; }
.found { height: auto; }
"""

MENU = (
    # The letter is the key (the same in every language), then what it does.
    ("edit", "e", N_("Edit phones, emails, address, consent, do-not-call")),
    ("new", "n", N_("New customer for the caller (their number filled in)")),
    ("changes", "h", N_("Changes to the record: who, when, old, new; restore")),
    ("merge", "m", N_("Likely duplicates: what tells them apart; merge, undo")),
)
NEEDS_CUSTOMER = frozenset({"edit", "changes", "merge"})


class RecordMenu(TranslatedBindings, ModalScreen[str | None]):
    """What to do with the record: returns "edit", "new", "changes" or "merge"."""

    DEFAULT_CSS = RECORD_CSS
    BINDINGS = KEYMAP["record-menu"].bindings

    def __init__(self, has_customer: bool) -> None:
        super().__init__()
        self.has_customer = has_customer

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = _("Customer record")
            yield OptionList(
                *(
                    Option(
                        safe_text(f"{letter}  {_(label)}"),
                        id=key,
                        disabled=key in NEEDS_CUSTOMER and not self.has_customer,
                    )
                    for key, letter, label in MENU
                ),
                id="record-options",
            )
            hint = _("Enter or the letter · Esc closes")
            if not self.has_customer:
                hint = _("Open a customer to edit, see changes or merge · ") + hint
            yield Static(safe_text(hint), classes="hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        options.highlighted = 0 if self.has_customer else 1

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.action_pick(str(event.option.id))

    def action_pick(self, key: str) -> None:
        if key in NEEDS_CUSTOMER and not self.has_customer:
            self.app.notify(_("Open a customer first (F2 to search)."))
            return
        self.dismiss(key)


class RevealScreen(TranslatedBindings, ModalScreen[None]):
    """Asks why, then shows the unmasked phone, email and birth date; the reveal is audited."""

    DEFAULT_CSS = RECORD_CSS
    BINDINGS = KEYMAP["reveal"].bindings

    def __init__(self, services: Services, who: Identity, customer_id: int, name: str) -> None:
        super().__init__()
        self.services = services
        self.who = who
        self.customer_id = customer_id
        self.name_text = name

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = _("Reveal details")
            yield Static(safe_text(self.name_text), classes="found")
            yield Input(placeholder=_("Why? (kept in the audit trail)"), id="reveal-reason")
            yield Static("", id="reveal-problem", classes="problem")
            yield Static("", id="revealed", classes="found")
            yield Static(_("Enter reveals · Esc closes (masked again)"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#reveal-reason", Input).focus()

    @on(Input.Submitted, "#reveal-reason")
    def _submitted(self, event: Input.Submitted) -> None:
        self.reveal(event.value)

    @work(exclusive=True, group="reveal", exit_on_error=False)
    async def reveal(self, reason: str) -> None:
        from core.privacy.service import ReasonRequired

        problem = self.query_one("#reveal-problem", Static)
        try:
            details = await self.services.privacy.reveal(
                self.who.name, self.customer_id, reason, self.who.place
            )
        except ReasonRequired:
            problem.update(_("Say why the details are needed (a few words): it is audited."))
            return
        except Exception as error:  # noqa: BLE001
            problem.update(Text(_("Could not reveal: {error}").format(error=plain_reason(error))))
            return
        problem.update("")
        born = day(details.birth_date) if details.birth_date else "-"
        self.query_one("#revealed", Static).update(
            Text.assemble(
                ("☎ ", "dim"),
                safe_text(details.phone or "-"),
                ("\n✉ ", "dim"),
                safe_text(details.email or "-"),
                ("\n" + _("born") + " ", "dim"),
                born,
                ("\n" + _("This reveal and its reason are in the audit trail."), "dim italic"),
            )
        )
