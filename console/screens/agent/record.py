"""Roles on the agent screen, the reveal and the customer's record. A mixin of AgentScreen.

What a role may do comes from core.privacy.access (LEAST_ROLE): branch staff get a look-up
console (search and a masked card; no calls, offers or record changes); agents everything on
this screen; supervisors their screens too. Actions a role may not take are not offered
(`role_allows`, read by the screen's check_action, hides them from the footer and palette),
and the services refuse them anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from console.i18n import _
from console.widgets.contact_points import ContactPoints

if TYPE_CHECKING:
    from console.screens.agent.screen import AgentScreen
    from core.identity import Identity
    from core.services.duplicates import Duplicate

    _Base = AgentScreen
else:
    _Base = object

CALL_ACTIONS = frozenset(
    "answer_call end_call finish_call pick_reason pick_outcome focus_notes link_customer"
    " toggle_hold transfer_call take_break be_ready".split()
)


class RecordActions(_Base):
    """The role's gate, the reveal key and the record menu."""

    role_name: str = ""
    """The signed-in person's role ("" until known: only look-ups are offered meanwhile)."""
    _who: Identity | None = None

    @property
    def who(self) -> Identity:
        """The console's user, as the services check them (the OS login or SSH key's name)."""
        if self._who is None:
            from core.identity import Identity, IdentitySource, place

            self._who = Identity(self.agent_name, IdentitySource.OS, place())
        return self._who

    def can(self, what: str) -> bool:
        """Whether the role may do `what` (a core.privacy.access.Can name)."""
        if not self.role_name:
            return what in ("LOOK_UP", "REVEAL")
        from core.models import Role
        from core.privacy.access import Can, may

        try:
            return may(Role(self.role_name), Can[what])
        except ValueError:
            return False

    def role_allows(self, action: str, parameters: tuple[object, ...]) -> bool:
        if action in CALL_ACTIONS or (action == "show_pane" and parameters == ("call",)):
            return self.can("TAKE_CALLS")
        if action == "focus_offers":
            return self.can("OFFERS")
        if action == "customer_record":
            return self.can("EDIT_CUSTOMERS")
        if action == "reveal_details":
            return self.customer_id is not None
        return True

    @dataclass
    class RoleChanged(Message):
        """A supervisor changed this person's role: the app adds or takes away its screens."""

        role: str

    @work(exclusive=True, group="role", exit_on_error=False)
    async def follow_role(self, role: str) -> None:
        """The role changed while the console is open (the change feed brought the agent's
        row): what is offered follows at once, as the services already do at each action."""
        if not self.role_name or role == self.role_name or self.agent is None:
            return
        could_take_calls = self.can("TAKE_CALLS")
        self.role_name = role
        branch = not self.can("TAKE_CALLS")
        self.set_class(branch, "-lookup")
        points = self.query_one(ContactPoints)
        points.masked = branch
        points.points = points.points  # drawn again, masked or not
        assert self.agent.id is not None
        try:
            if could_take_calls and branch:  # never offered a call again
                await self.services.calls.sign_out(self.agent.id)
            elif not could_take_calls and not branch:  # an agent now: available for calls
                await self.services.calls.sign_in(self.agent.id)
        except Exception as error:  # noqa: BLE001 - the role is followed all the same
            self.log.warning(f"state after the role change: {error}")
        if not self.can("MERGE_CUSTOMERS"):
            self._show_duplicates(None)
        self.refresh_bindings()
        self.post_message(self.RoleChanged(role))
        lookup = " (a look-up console: masked, Ctrl+F reveals with a reason)" if branch else ""
        self.notify(
            f"A supervisor made you {role}{lookup}.", title="Your role", timeout=10, markup=False
        )

    async def sign_in_as_role(self) -> None:
        """Learn the role; agents and supervisors are signed in for calls, branch staff not."""
        assert self.agent is not None and self.agent.id is not None
        self.role_name = self.agent.role
        branch = not self.can("TAKE_CALLS")
        self.set_class(branch, "-lookup")  # agent.tcss hides the call pane
        self.query_one(ContactPoints).masked = branch
        if branch:
            self.notify(
                _(
                    "Look-up console: phones and emails are masked (Ctrl+F reveals, with a reason)."
                    " A supervisor gives the agent role with `frontline agents set-role`."
                ),
                title=_("Branch staff"),
                timeout=10,
            )
        else:
            await self.services.calls.sign_in(self.agent.id)
        self.refresh_bindings()

    # --- reveal -------------------------------------------------------------------------

    def action_reveal_details(self) -> None:
        from console.screens.customer_record import RevealScreen

        if self.customer_id is None or self.overview is None:
            self.notify(_("Open a customer first (F2 to search)."))
            return
        name = self.overview.customer.full_name
        self.app.push_screen(RevealScreen(self.services, self.who, self.customer_id, name))

    # --- the record menu ----------------------------------------------------------------

    def action_customer_record(self) -> None:
        from console.screens.customer_record import RecordMenu

        self.app.push_screen(RecordMenu(self.customer_id is not None), self._record_picked)

    def _record_picked(self, choice: str | None) -> None:
        from console.screens.customer_changes import ChangesScreen, MergeScreen
        from console.screens.customer_edit import CustomerForm, NewCustomerForm

        cid, overview = self.customer_id, self.overview
        if choice == "new":
            call = self.draft
            number = call.caller_number if call is not None and call.customer_id is None else ""
            self.app.push_screen(NewCustomerForm(self.services, self.who, number), self._created)
        elif cid is None or overview is None:
            return
        elif choice == "edit":
            form = CustomerForm(self.services, self.who, overview.customer, overview.contact_points)
            self.app.push_screen(form, self._changed)
        elif choice == "changes":
            self.app.push_screen(ChangesScreen(self.services, self.who, cid), self._changed)
        elif choice == "merge":
            name = overview.customer.full_name
            self.app.push_screen(MergeScreen(self.services, self.who, cid, name), self._changed)

    def _changed(self, changed: bool | None) -> None:
        if changed and self.customer_id is not None:
            self.open_customer(self.customer_id, with_offers=False)

    def _created(self, customer_id: int | None) -> None:
        if customer_id is not None:  # opened; an unknown caller's call is linked to them
            self.open_customer(customer_id)

    # --- duplicates, once the customer is drawn -----------------------------------------

    @work(exclusive=True, group="duplicates", exit_on_error=False)
    async def check_duplicates(self, customer_id: int) -> None:
        """When the customer just opened (or popped) likely has a duplicate, say so on the card,
        with what tells them apart, until another customer is opened (after the draw)."""
        self._show_duplicates(None)
        if not self.can("MERGE_CUSTOMERS"):
            return
        try:
            found = await self.services.record.duplicates(self.who, customer_id)
        except Exception as error:  # noqa: BLE001 - a hint, never in the agent's way
            self.log.warning(f"duplicates of {customer_id}: {error}")
            return
        if not found or customer_id != self.customer_id:
            return
        first = found[0]
        more = _(" and {n} more").format(n=len(found) - 1) if len(found) > 1 else ""
        self._show_duplicates(found)
        self.notify(
            _(
                "Likely duplicate: {number} {name} (shares {shared}){more}."
                " Ctrl+S, m compares and merges."
            ).format(
                number=first.external_id,
                name=first.name,
                shared="; ".join(first.shared),
                more=more,
            ),
            title=_("Duplicate?"),
            timeout=8,
        )

    def _show_duplicates(self, found: list[Duplicate] | None) -> None:
        """The card's duplicate line: each likely duplicate, what they share, what differs."""
        from rich.text import Text
        from textual.widgets import Static

        from console.safe_text import safe_text

        hints = self.query("#duplicate-hint")
        if not found:
            for hint in hints:
                hint.display = False
            return
        lines = [
            Text.assemble(
                Text(" " + _("LIKELY DUPLICATE") + " ", style="bold black on yellow"),
                safe_text(
                    _(" {number} {name}: shares {shared}").format(
                        number=d.external_id, name=d.name, shared="; ".join(d.shared)
                    ),
                    "yellow",
                ),
                safe_text(
                    _("; differs: {differs}").format(differs="; ".join(d.differs))
                    if d.differs
                    else "",
                    "dim",
                ),
            )
            for d in found[:2]
        ]
        if len(found) > 2:
            lines.append(Text(_("… and {n} more").format(n=len(found) - 2), style="dim"))
        lines.append(Text(_("Ctrl+S, m compares and merges."), style="dim"))
        content = Text("\n").join(lines)
        if hints:
            hint = hints.first(Static)
            hint.update(content)
            hint.display = True
            return
        header = self.query_one("#customer-header")
        header.parent.mount(Static(content, id="duplicate-hint"), after=header)  # type: ignore[union-attr]
