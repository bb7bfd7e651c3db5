"""Editing a customer (phones, emails, address, consent, do-not-call) and creating one for an
unknown caller, with the likely duplicates shown before it is saved.

Bad input is named, field by field, and nothing typed is lost. Saving goes through
`services.record` (role-checked, field history, audit).
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Static

from console.failure_words import plain_reason
from console.i18n import _
from console.key_names import keyed
from console.keymap import KEYMAP
from console.safe_text import clean, safe_text
from console.screens.customer_record import RECORD_CSS
from console.textual_words import TranslatedBindings

if TYPE_CHECKING:
    from core.identity import Identity
    from core.models import ContactPoint, Customer
    from core.services import Services
    from core.services.duplicates import Duplicate

FORM_CSS = (
    RECORD_CSS
    + """
CustomerForm Horizontal, NewCustomerForm Horizontal { height: auto; }
CustomerForm Label, NewCustomerForm Label { width: 12; }
CustomerForm Input, NewCustomerForm Input { width: 1fr; }
CustomerForm Checkbox { width: auto; }
"""
)


class FormProblem(ValueError):
    """What is wrong with one field, said so that the agent can fix it."""


def split_list(text: str) -> list[str]:
    """ "a, b; c" -> ["a", "b", "c"]: phones or emails as typed, the first the main one."""
    return [part.strip() for part in re.split(r"[,;]", text) if part.strip()]


def check_phones(text: str) -> list[str]:
    phones = split_list(text)
    for phone in phones:
        digits = sum(ch.isdigit() for ch in phone)
        if digits < 6 or re.search(r"[^\d\s+().-]", phone):
            raise FormProblem(
                _("Phones: {value} is not a phone number (6 digits or more)").format(
                    value=repr(phone)
                )
            )
    return phones


def check_emails(text: str) -> list[str]:
    emails = split_list(text)
    for email in emails:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise FormProblem(
                _("Emails: {value} is not an email address (name@domain)").format(value=repr(email))
            )
    return emails


def check_country(text: str) -> str:
    code = text.strip().upper()
    if code and not re.fullmatch(r"[A-Z]{2}", code):
        raise FormProblem(
            _("Country: {value} is not a two-letter code (ES, PT, FR…)").format(value=repr(text))
        )
    return code


def check_birth_date(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        born = date.fromisoformat(text.strip())
    except ValueError:
        raise FormProblem(
            _("Born: {value} is not a date (YYYY-MM-DD)").format(value=repr(text))
        ) from None
    if born > date.today() or born.year < 1900:
        raise FormProblem(_("Born: {value} is not a possible birth date").format(value=repr(text)))
    return born


def not_saved(form: Any, error: BaseException, url: str) -> str:
    """Why a form's save failed, in plain words, and that the form keeps what was typed."""
    return keyed(
        form,
        _(
            "Not saved ({error}). Nothing is lost: the form keeps what you typed; {form-save} "
            "tries again."
        ),
        error=plain_reason(error, url),
    )


def _row(label: str, widget: Input | Checkbox) -> Horizontal:
    return Horizontal(Label(safe_text(label)), widget)


def _input(value: str = "", **options: Any) -> Input:
    return Input(value, compact=True, **options)  # one line each: the form fits at 80×24


class CustomerForm(TranslatedBindings, ModalScreen[bool]):
    """Phones, emails, city, country, consent and do-not-call of the customer on screen."""

    DEFAULT_CSS = FORM_CSS
    BINDINGS = KEYMAP["record-form"].bindings

    def __init__(
        self, services: Services, who: Identity, customer: Customer, points: list[ContactPoint]
    ) -> None:
        super().__init__()
        self.services = services
        self.who = who
        self.customer = customer
        self.phones = [p.value for p in points if p.kind == "phone"]
        self.emails = [p.value for p in points if p.kind == "email"]

    def compose(self) -> ComposeResult:
        c = self.customer
        with Vertical() as box:
            box.border_title = clean(
                _("Edit {name} · {number}").format(name=c.full_name, number=c.external_id)
            )
            yield _row(_("Phones"), _input(", ".join(self.phones), id="edit-phones"))
            yield _row(_("Emails"), _input(", ".join(self.emails), id="edit-emails"))
            yield _row(_("City"), _input(c.city, id="edit-city"))
            yield _row(_("Country"), _input(c.country, id="edit-country", max_length=2))
            with Horizontal():
                yield Checkbox(
                    _("Marketing consent"), c.marketing_consent, id="edit-consent", compact=True
                )
                yield Checkbox(_("Do not call"), c.do_not_call, id="edit-dnc", compact=True)
            yield Static("", id="form-problem", classes="problem")
            yield Static(
                _(
                    "Comma between phones or emails, the first is the main one · Ctrl+S or Enter"
                    " saves (every change is kept, with who and when) · Esc cancels"
                ),
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#edit-phones", Input).focus()

    @on(Input.Submitted)
    def _enter(self) -> None:
        self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_save(self) -> None:
        problem = self.query_one("#form-problem", Static)
        try:
            phones = check_phones(self.query_one("#edit-phones", Input).value)
            emails = check_emails(self.query_one("#edit-emails", Input).value)
            country = check_country(self.query_one("#edit-country", Input).value)
        except FormProblem as bad:
            problem.update(Text(str(bad)))
            return
        problem.update("")
        changes = {
            "city": self.query_one("#edit-city", Input).value.strip(),
            "country": country,
            "marketing_consent": self.query_one("#edit-consent", Checkbox).value,
            "do_not_call": self.query_one("#edit-dnc", Checkbox).value,
        }
        self.save(phones, emails, changes)

    @work(exclusive=True, group="record-save", exit_on_error=False)
    async def save(self, phones: list[str], emails: list[str], changes: dict[str, Any]) -> None:
        record, cid = self.services.record, self.customer.id
        assert cid is not None
        try:
            if phones != self.phones:
                await record.set_contacts(self.who, cid, "phone", phones)
            if emails != self.emails:
                await record.set_contacts(self.who, cid, "email", emails)
            await record.update(self.who, cid, **changes)  # text: a service call, no widget
        except Exception as error:  # noqa: BLE001 - say why; the form keeps what was typed
            self.query_one("#form-problem", Static).update(
                Text(not_saved(self, error, self.services.settings.database_url))
            )
            return
        self.app.notify(_("Saved. Ctrl+S, h shows every change and restores an old value."))
        self.dismiss(True)


class NewCustomerForm(TranslatedBindings, ModalScreen[int | None]):
    """A new customer for the caller; the first save shows likely duplicates, the second saves.

    Returns the new customer's id, or the id of a duplicate the agent chose to open instead.
    """

    DEFAULT_CSS = FORM_CSS
    BINDINGS = KEYMAP["record-form"].bindings

    def __init__(self, services: Services, who: Identity, caller_number: str = "") -> None:
        super().__init__()
        self.services = services
        self.who = who
        self.caller_number = caller_number
        self.checked: tuple[object, ...] | None = None
        """The form as it was when its duplicates were shown: saving it again saves."""

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = _("New customer")
            yield _row(_("First name"), _input(id="new-first"))
            yield _row(_("Last name"), _input(id="new-last"))
            yield _row(_("Phone"), _input(self.caller_number, id="new-phone"))
            yield _row(_("Email"), _input(id="new-email"))
            yield _row(_("Born"), _input(placeholder=_("YYYY-MM-DD"), id="new-born"))
            yield _row(_("City"), _input(id="new-city"))
            yield Static("", id="form-problem", classes="problem")
            yield Static("", id="new-duplicates", classes="found")
            yield Static(
                _("Ctrl+S or Enter: likely duplicates first, then again to save · Esc cancels"),
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#new-first", Input).focus()

    @on(Input.Submitted)
    def _enter(self) -> None:
        self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _form(self) -> dict[str, Any]:
        value = {name: self.query_one(f"#new-{name}", Input).value.strip() for name in (
            "first", "last", "phone", "email", "born", "city")}  # fmt: skip
        if not (value["first"] or value["last"]):
            raise FormProblem(_("First name or last name: a customer needs a name"))
        return {
            "first_name": value["first"],
            "last_name": value["last"],
            "phones": check_phones(value["phone"]),
            "emails": check_emails(value["email"]),
            "birth_date": check_birth_date(value["born"]),
            "city": value["city"],
        }

    def action_save(self) -> None:
        problem = self.query_one("#form-problem", Static)
        try:
            form = self._form()
        except FormProblem as bad:
            problem.update(Text(str(bad)))
            return
        problem.update("")
        self.save(form, tuple(map(str, form.values())) == self.checked)

    @work(exclusive=True, group="record-save", exit_on_error=False)
    async def save(self, form: dict[str, Any], confirmed: bool) -> None:
        record = self.services.record
        try:
            if not confirmed:
                found = await record.likely_duplicates(self.who, **form)
                self.checked = tuple(map(str, form.values()))
                if found:
                    self._show(found)
                    return
            customer = await record.create(
                self.who,
                form["first_name"],
                form["last_name"],
                form["phones"],
                form["emails"],
                birth_date=form["birth_date"],
                city=form["city"],
            )
        except Exception as error:  # noqa: BLE001 - say why; the form keeps what was typed
            self.query_one("#form-problem", Static).update(
                Text(not_saved(self, error, self.services.settings.database_url))
            )
            return
        self.app.notify(_("Customer {number} created.").format(number=customer.external_id))
        self.dismiss(customer.id)

    def _show(self, found: list[Duplicate]) -> None:
        lines = [Text(_("Likely the same person already on file:"), style="bold yellow")]
        for d in found[:4]:
            differs = "; ".join(d.differs) or "nothing"
            lines.append(
                Text(
                    clean(
                        _("{number} {name}: shares {shared}").format(
                            number=d.external_id, name=d.name, shared="; ".join(d.shared)
                        )
                    )
                )
                + Text(clean(_("; differs: {what}").format(what=differs)), style="dim")
            )
        lines.append(Text(_("Save again to create anyway, or Esc and open them."), style="dim"))
        self.query_one("#new-duplicates", Static).update(Text("\n").join(lines))
