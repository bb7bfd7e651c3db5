"""The call on the agent screen: take, end, codes, save; the screen pop; the offer to make.

A mixin of AgentScreen (its actions are the screen's key bindings). The call's state is the
draft (core.calls.drafts.CallDraft): the screen sends changes down to the call panel, the
panel sends the next draft up (`CallPanel.Edited`), and the draft keeper writes it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from textual import work
from textual.widgets import Input

from console.codes import book as code_book
from console.codes import code_label
from console.failure_words import plain_reason
from console.i18n import _
from console.key_names import keyed
from console.safe_text import clean
from console.screens.agent.transfer import MESSAGES as TRANSFER_MESSAGES
from console.screens.pickers import CodePicker
from console.widgets.call_panel import CallPanel, FollowUpError, parse_follow_up

HANDED_OVER = TRANSFER_MESSAGES["handed-over"]

if TYPE_CHECKING:
    from console.screens.agent.screen import AgentScreen
    from core.calls.drafts import CallDraft

    _Base = AgentScreen
else:
    _Base = object


class CallFlow(_Base):
    """Actions and workers of the call, the screen pop and the offers."""

    _answer_once_ready = False
    """F6 was pressed while the console was still signing the agent in: the call starts then."""

    @property
    def draft(self) -> CallDraft | None:
        """The call on screen, as its newest draft; None when there is no call."""
        return self.keeper.draft

    # A handler by name, not @on: the decorator is read only on Textual's own classes.
    def on_call_panel_edited(self, event: CallPanel.Edited) -> None:
        self._keep_edit(event.draft)

    def edit_call(self, **changes: Any) -> None:
        """Change the call on screen and keep it at once. The panel announces the edit in a
        message; until that is read, `draft` would still be the one before, and a phone
        system's event read meanwhile (a transfer confirmed twice) would act on it again."""
        panel = self.query_one(CallPanel)
        panel.edit(**changes)
        if panel.draft is not None:
            self._keep_edit(panel.draft)

    def _keep_edit(self, draft: CallDraft) -> None:
        """Keep `draft`, the panel's edit of the call, unless a newer one is kept already."""
        before = self.draft
        if before is None or (draft.call_id == before.call_id and draft.version <= before.version):
            return  # overtaken: F8 flushed it already, or the call was saved meanwhile
        self._confirm_finish = False
        self.keeper.changed(draft)
        if before.phase != draft.phase:
            self._set_subtitle()
        if (before.phase, before.customer_id) != (draft.phase, draft.customer_id):
            self.refresh_bindings()

    def _show_call(self, draft: CallDraft | None) -> None:
        """A new call (or none) on the panel, kept at once."""
        self.query_one(CallPanel).show(draft)
        self.keeper.changed(draft)
        self.refresh_bindings()
        self._set_subtitle()

    # --- offers -------------------------------------------------------------------------

    @work(exclusive=True, group="offers", exit_on_error=False)
    async def load_offers(self, customer_id: int) -> None:
        from console.widgets.optional import offers_set

        offers = getattr(self.services, "offers", None)
        call = self.draft
        if offers is None or not self._offer_prompt or call is None or self.agent is None:
            return
        try:
            proposals = await offers.best_offers(
                customer_id, call_reason=call.reason, call_id=call.call_id, agent_id=self.agent.id
            )
        except Exception as error:  # noqa: BLE001
            self.log.warning(f"offers for {customer_id}: {error}")
            return
        now = self.draft
        if customer_id != self.customer_id or now is None or now.call_id != call.call_id:
            return  # another customer or call is on screen by now: not theirs to answer
        self._offers_visible = bool(proposals)
        self._offers_open |= {p.presentation_id for p in proposals}
        reasons = getattr(offers, "decline_reasons", None)
        offers_set(self.query_one("#offers"), proposals, reasons, customer_id, call.call_id)
        self.query_one("#offers").display = bool(proposals)

    @work(group="offer-response", exit_on_error=False)
    async def record_offer_response(self, presentation_id: int, response: str, reason: str) -> None:
        try:
            await self.services.offers.record_response(presentation_id, response, reason)
        except Exception as error:  # noqa: BLE001 - said; the answer can be given again
            self.log.warning(f"offer answer not recorded: {error!r}")
            self.notify(
                _("The answer was not recorded ({error}). Give it again in a moment.").format(
                    error=plain_reason(error, self.services.settings.database_url)
                ),
                severity="error",
                timeout=10,
            )
            if self._offer_prompt:
                self.query_one("#offers").answer_failed(presentation_id)  # type: ignore[attr-defined]
            return
        self._offers_open.discard(presentation_id)
        self._confirm_finish = False

    def on_offer_prompt_response_chosen(self, event: Any) -> None:
        event.stop()
        call = self.draft
        made_on = (getattr(event, "customer_id", None), getattr(event, "call_id", None))
        if call is None or made_on != (self.customer_id, call.call_id):
            # Offers on screen are always the open customer's on this call; never credit
            # an answer to another (a stale panel, a key racing an open).
            self.notify(_("That offer was not for this customer and call: nothing recorded."))
            self._hide_offers()
            return
        self.record_offer_response(
            event.presentation_id, event.response, getattr(event, "decline_reason", "")
        )

    def action_focus_offers(self) -> None:
        if not self._offers_visible:
            self.notify(_("No offer for this customer right now."))
            return
        self.action_show_pane("customer")
        self.call_after_refresh(self.query_one("#offers").focus)

    def _hide_offers(self) -> None:
        self._offers_open = set()
        self._leave_offers(None)

    def _leave_offers(self, customer_id: int | None) -> None:
        """`customer_id` opens (None: the call is over): offers made to anyone else leave
        the screen, so none is read to or answered for the wrong person. Unanswered ones
        still count for the warning on saving the call."""
        if not self._offer_prompt:
            return
        from console.widgets.optional import offers_set

        prompt = self.query_one("#offers")
        if customer_id is None or getattr(prompt, "customer_id", None) != customer_id:
            offers_set(prompt, [])
            prompt.display = False
            self._offers_visible = False

    # --- the call -----------------------------------------------------------------------

    def action_answer_call(self) -> None:
        if self.draft is not None:
            self.notify(_("You are already on a call."), severity="warning")
            return
        if not self.ready:  # the caller is on the line already: not a key to press twice
            self._answer_once_ready = True
            self.notify(_("Still starting: the call starts as soon as you are signed in."))
            return
        self.take_call(self.customer_id, "", None)

    def answer_if_asked(self) -> None:
        """Signed in: take the call F6 asked for meanwhile (unless a call came back)."""
        if self._answer_once_ready:
            self._answer_once_ready = False
            if self.draft is None and self.can("TAKE_CALLS"):
                self.take_call(self.customer_id, "", None)

    @work(exclusive=True, group="call", exit_on_error=False)
    async def take_call(
        self,
        customer_id: int | None,
        caller_number: str,
        call_id: int | None,
        show_call: bool = True,
    ) -> None:
        if self.agent is None or self.agent.id is None:
            self.notify(_("Still starting: try again in a moment."), severity="warning")
            return
        try:
            call = await self.services.calls.start(
                self.agent.id, customer_id, caller_number, call_id
            )
        except Exception as error:  # noqa: BLE001
            self.notify(
                _("Could not start the call: {error}").format(error=plain_reason(error)),
                severity="error",
                markup=False,
            )
            return
        from core.calls.drafts import CallDraft  # loaded with the services by now

        assert call.answered_at is not None
        known = customer_id is not None and customer_id == self.customer_id
        self._hide_offers()
        self._show_call(
            CallDraft(
                call_id=call.id,
                customer_id=customer_id,
                caller=self._caller_label() if known else _("Unknown caller"),
                caller_number=call.caller_number,
                started_at=call.answered_at,
                notes=call.notes,  # a transferred call's hand-off: the notes so far…
                reason=call.reason,  # …and its reason
            )
        )
        if call.notes or call.reason:
            reason = (
                _(" and the reason “{reason}”").format(reason=code_label("reason", call.reason))
                if call.reason
                else ""
            )
            self.notify(
                _(HANDED_OVER).format(reason=reason), title=_("Transferred call"), markup=False
            )
        if known and customer_id is not None:
            self.load_offers(customer_id)
        # On a small screen a popped caller's record stays in view (F5 for the notes).
        if show_call or not self.narrow or customer_id is None:
            self.action_show_pane("call")

    def action_end_call(self) -> None:
        call = self.draft
        if call is None or call.phase != "on_call":
            return
        self.edit_call(phase="wrap_up", ended_at=self.now())
        self.end_call(call.call_id)
        if not call.reason:
            self.action_pick_reason()

    @work(group="call-end", exit_on_error=False)
    async def end_call(self, call_id: int | None) -> None:
        if call_id is None:
            return
        try:
            await self.services.calls.end(call_id)
        except Exception as error:  # noqa: BLE001 - saving the call later still works
            self.notify(
                _("Wrap-up started here, not yet in the database: {error}").format(
                    error=plain_reason(error)
                ),
                severity="warning",
            )

    def action_pick_reason(self) -> None:
        self._pick("reason", _("Reason for the call"), self.settings.call_reasons)

    def action_pick_outcome(self) -> None:
        self._pick("outcome", _("Outcome of the call"), self.settings.call_outcomes)

    def _pick(self, field: str, title: str, codes: tuple[str, ...]) -> None:
        if self.draft is None:
            return

        def chosen(code: str | None) -> None:
            if code is None:
                return
            self.edit_call(**{field: code})
            call = self.draft  # the panel's next draft is still on its way: the phase holds
            if field == "reason" and call is not None and call.phase == "wrap_up":
                if not call.outcome:
                    self.action_pick_outcome()

        current = getattr(self.draft, field)
        picker = CodePicker.for_codes(title, field, codes, code_book(self._services), current)
        self.app.push_screen(picker, chosen)

    def action_finish_call(self) -> None:
        call = self.query_one(CallPanel).flush()
        if call is None:
            return
        self.keeper.changed(call)
        if not call.reason:
            self.notify(
                keyed(self, _("Choose a reason first ({pick-reason}).")), severity="warning"
            )
            self.action_pick_reason()
            return
        if not call.outcome:
            self.notify(
                keyed(self, _("Choose an outcome first ({pick-outcome}).")), severity="warning"
            )
            self.action_pick_outcome()
            return
        try:
            follow_up = parse_follow_up(call.follow_up, self._today())
        except FollowUpError as error:
            self.notify(str(error), severity="error")
            self.action_show_pane("call")
            self.query_one("#follow-up", Input).focus()
            return
        if self._offers_open and not self._confirm_finish:
            self._confirm_finish = True
            self.notify(
                keyed(
                    self,
                    _(
                        "An offer was shown but no answer was recorded. Record it in the offer "
                        "panel ({focus-offers}), or press {finish-call} again to save the call "
                        "anyway."
                    ),
                ),
                severity="warning",
                timeout=8,
            )
            return
        self._confirm_finish = False
        self.complete_call(call, follow_up)

    @work(exclusive=True, group="call", exit_on_error=False)
    async def complete_call(self, call: CallDraft, follow_up: date | None) -> None:
        assert call.call_id is not None and self.agent is not None and self.agent.id is not None
        self.keeper.stop()
        calls = self.services.calls
        try:
            if call.handed_to:  # the agent's part of a call they passed on
                interaction = await calls.finish_part(
                    call.call_id, self.agent.id, call.reason, call.outcome, call.notes, follow_up
                )
            else:
                interaction = await calls.complete(
                    call.call_id, call.reason, call.outcome, call.notes, follow_up
                )
        except Exception as error:  # noqa: BLE001 - the draft keeps everything; try again
            self.log.warning(f"call not saved: {error!r}")
            self.notify(
                keyed(
                    self,
                    _(
                        "The call was not saved ({error}). Nothing is lost: press {finish-call} "
                        "to try again."
                    ),
                    error=plain_reason(error, self.services.settings.database_url),
                ),
                severity="error",
                timeout=15,
            )
            self.keeper.schedule()
            return
        self._show_call(None)
        self._hide_offers()
        try:
            await self.services.drafts.clear_local(self.agent.id)
        except OSError as error:
            self.log.warning(f"draft file not removed: {error}")
        who = (
            call.caller
            if call.customer_id is not None
            else _("unknown caller {number}").format(number=call.caller_number).strip()
        )
        self.notify(_("Call saved: {who}.").format(who=clean(who)), title=_("Saved"), markup=False)
        if interaction is not None and interaction.customer_id == self.customer_id:
            self.open_customer(interaction.customer_id, with_offers=False)

    def action_link_customer(self) -> None:
        call = self.draft
        if call is None or self.customer_id is None:
            return
        self.link_customer(call, self.customer_id)

    @work(group="call-link", exit_on_error=False)
    async def link_customer(self, call: CallDraft, customer_id: int) -> None:
        if await self._link(call, customer_id):
            self.load_offers(customer_id)  # the caller now: their offers

    async def _link(self, call: CallDraft, customer_id: int) -> bool:
        """Make the customer on screen the caller; False when the database refused."""
        assert call.call_id is not None and self.overview is not None
        try:
            await self.services.calls.identify(call.call_id, customer_id)
        except Exception as error:  # noqa: BLE001
            self.notify(
                _("Could not link the caller: {error}").format(error=plain_reason(error)),
                severity="error",
                markup=False,
            )
            return False
        self.edit_call(customer_id=customer_id, caller=self._caller_label())
        return True

    def _caller_label(self) -> str:
        if self.overview is None:
            return _("Unknown caller")
        c = self.overview.customer
        return f"{c.full_name} ({c.external_id})"
