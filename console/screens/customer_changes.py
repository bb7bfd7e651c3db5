"""The record's changes (restore an old value) and its likely duplicates (merge, undo)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.failure_words import plain_reason
from console.i18n import N_, _
from console.keymap import KEYMAP
from console.safe_text import clean, safe_text
from console.screens.customer_record import RECORD_CSS
from console.textual_words import TranslatedBindings
from console.widgets.local_time import short_datetime

if TYPE_CHECKING:
    from core.identity import Identity
    from core.models import CustomerMerge, FieldChange
    from core.services import Services
    from core.services.duplicates import Duplicate

FIELD_NAMES = {
    "marketing_consent": N_("consent"),
    "do_not_call": N_("do-not-call"),
    "birth_date": N_("born"),
    "customer_since": N_("since"),
}
FIELD_WORDS = (
    N_("city"),
    N_("country"),
    N_("phones"),
    N_("emails"),
    N_("first name"),
    N_("last name"),
)
"""The other fields a change names (`first_name` reads "first name")."""


def _field(name: str) -> str:
    return _(FIELD_NAMES.get(name, name.replace("_", " ")))


def _value(raw: str) -> str:
    value = json.loads(raw)
    if isinstance(value, list):
        return ", ".join(map(str, value)) or _("(none)")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return _("(empty)") if value in (None, "") else str(value)


def describe(change: FieldChange) -> str:
    """ "2026-12-02 10:04 maria · city: Madrid → Sevilla" """
    field = _field(change.field)
    restored = _(" (restore)") if change.restored_from else ""
    return clean(
        f"{short_datetime(change.at)} {change.actor} · {field}: "
        f"{_value(change.old)} → {_value(change.new)}{restored}"
    )


class ChangesScreen(TranslatedBindings, ModalScreen[bool]):
    """Every change to the record, newest first; Enter puts back the value a change replaced."""

    DEFAULT_CSS = RECORD_CSS
    BINDINGS = [b for b in KEYMAP["record-list"].bindings if b.action != "undo_merge"]

    def __init__(self, services: Services, who: Identity, customer_id: int) -> None:
        super().__init__()
        self.services = services
        self.who = who
        self.customer_id = customer_id
        self.changes: list[FieldChange] = []
        self.restored = False

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = _("Changes to the record")
            yield OptionList(id="changes")
            yield Static("", id="changes-note", classes="found")
            yield Static(_("Enter restores the old value of a change · Esc closes"), classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load()

    @work(exclusive=True, group="changes", exit_on_error=False)
    async def load(self) -> None:
        self.changes = await self.services.record.field_history(self.who, self.customer_id)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(Text(describe(c))) for c in self.changes])
        if not self.changes:
            note = _("No change since the customer was added.")
            self.query_one("#changes-note", Static).update(note)
        else:
            options.highlighted = 0

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.restore(self.changes[event.option_index])

    @work(exclusive=True, group="restore", exit_on_error=False)
    async def restore(self, change: FieldChange) -> None:
        note = self.query_one("#changes-note", Static)
        try:
            await self.services.record.restore(self.who, change.id or 0)
        except Exception as error:  # noqa: BLE001
            note.update(Text(_("Not restored: {error}").format(error=plain_reason(error))))
            return
        self.restored = True
        field = _field(change.field)
        note.update(
            Text(
                clean(_("Restored {field}: {value}").format(field=field, value=_value(change.old)))
            )
        )
        self.load()

    def action_dismiss(self, result: bool | None = None) -> None:  # type: ignore[override]
        self.dismiss(self.restored)


class MergeScreen(TranslatedBindings, ModalScreen[bool]):
    """Likely duplicates of the customer on screen: Enter twice merges one into them; `u`
    undoes the newest merge into them."""

    DEFAULT_CSS = RECORD_CSS
    BINDINGS = KEYMAP["record-list"].bindings

    def __init__(self, services: Services, who: Identity, customer_id: int, name: str) -> None:
        super().__init__()
        self.services = services
        self.who = who
        self.customer_id = customer_id
        self.name_text = name
        self.found: list[Duplicate] = []
        self.merges: list[CustomerMerge] = []
        self.armed: int | None = None
        """The duplicate a first Enter picked: a second Enter on it merges."""
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = clean(_("Duplicates of {name}").format(name=self.name_text))
            yield OptionList(id="duplicates")
            yield Static("", id="merge-note", classes="found")
            yield Static(
                _(
                    "Enter, then Enter again, merges into the customer on screen (every contact"
                    " and interaction kept) · u undoes the newest merge · Esc closes"
                ),
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load()

    @work(exclusive=True, group="duplicates", exit_on_error=False)
    async def load(self) -> None:
        record = self.services.record
        self.found = await record.duplicates(self.who, self.customer_id)
        merges = await record.merges(self.who, self.customer_id)
        self.merges = [m for m in merges if not m.undone_at]
        options = self.query_one(OptionList)
        options.clear_options()
        for d in self.found:
            differs = "; ".join(d.differs) or "nothing"
            options.add_option(
                Option(
                    Text.assemble(
                        Text(
                            clean(
                                _("{number} {name} · shares {shared}").format(
                                    number=d.external_id, name=d.name, shared="; ".join(d.shared)
                                )
                            )
                        ),
                        Text(clean(_(" · differs: {what}").format(what=differs)), style="dim"),
                    )
                )
            )
        note = "" if self.found else _("No likely duplicate.")
        if self.merges:
            last = self.merges[0]
            note += clean(
                _(" Merged here: {number} by {actor} (u undoes).").format(
                    number=last.merged_number, actor=last.actor
                )
            )
        self.query_one("#merge-note", Static).update(safe_text(note.strip()))
        if self.found:
            options.highlighted = 0

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        other = self.found[event.option_index]
        if self.armed != other.customer_id:
            self.armed = other.customer_id
            self.query_one("#merge-note", Static).update(
                Text(
                    clean(
                        _("Enter again to merge {number} {name} into this one.").format(
                            number=other.external_id, name=other.name
                        )
                    )
                )
            )
            return
        self.armed = None
        self.merge(other)

    @work(exclusive=True, group="merge", exit_on_error=False)
    async def merge(self, other: Duplicate) -> None:
        note = self.query_one("#merge-note", Static)
        try:
            await self.services.record.merge(self.who, self.customer_id, other.customer_id)
        except Exception as error:  # noqa: BLE001
            note.update(Text(_("Not merged: {error}").format(error=plain_reason(error))))
            return
        self.changed = True
        self.app.notify(
            clean(
                _("{number} merged into this customer; u undoes it.").format(
                    number=other.external_id
                )
            )
        )
        self.load()

    def action_undo_merge(self) -> None:
        if not self.merges:
            self.app.notify(_("No merge into this customer to undo."))
            return
        self.undo(self.merges[0])

    @work(exclusive=True, group="merge", exit_on_error=False)
    async def undo(self, merge: CustomerMerge) -> None:
        try:
            await self.services.record.undo_merge(self.who, merge.id or 0)
        except Exception as error:  # noqa: BLE001
            self.query_one("#merge-note", Static).update(
                Text(_("Not undone: {error}").format(error=plain_reason(error)))
            )
            return
        self.changed = True
        self.app.notify(
            clean(_("Merge undone: {number} is back.").format(number=merge.merged_number))
        )
        self.load()

    def action_dismiss(self, result: bool | None = None) -> None:  # type: ignore[override]
        self.dismiss(self.changed)
