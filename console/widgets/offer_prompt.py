"""OfferPrompt: the best offers for the caller, the script to read, why, and the answer.

The screen hands it the proposals (`show`); the agent reads the script, presses a key for the
customer's answer, and the widget posts `OfferPrompt.ResponseChosen` for the screen to record
with OfferService. It never calls a service itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.codes import code_label
from console.i18n import N_, _
from console.key_names import keyed
from console.keymap import KEYMAP
from console.safe_text import safe_text
from console.widgets.local_time import amount
from core.rules.ruleset import DEFAULT_DECLINE_REASONS
from core.rules.service import OfferProposal

ANSWER_KEYS = N_(
    "{offer-accepted} accepted · {offer-declined} declined · {offer-not-offered} not offered"
    " · {offer-why} why"
)
"""The line under the script; `{binding-id}` is the key bound now (FRONTLINE_KEYMAP)."""
RESPONSE_LABELS = {
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "not_offered": N_("not offered"),
}


class OfferPrompt(Widget, can_focus=True):
    """The offers panel of the agent screen."""

    DEFAULT_CSS = """
    OfferPrompt { height: auto; border: round $primary; padding: 0 1; }
    OfferPrompt:focus-within, OfferPrompt:focus { border: round $accent; }
    OfferPrompt #offer-title { text-style: bold; }
    OfferPrompt #offer-script { margin: 1 0; }
    OfferPrompt #offer-why { color: $text-muted; }
    OfferPrompt #decline-reasons { height: auto; max-height: 10; display: none; }
    OfferPrompt.choosing-reason #decline-reasons { display: block; }
    """

    BINDINGS = KEYMAP["offers"].bindings

    @dataclass
    class ResponseChosen(Message):
        """The agent recorded the customer's answer to an offer shown."""

        presentation_id: int
        response: str
        """accepted, declined or not_offered."""
        decline_reason: str = ""
        customer_id: int | None = None
        """The customer the offer was made to (as `show` was told)."""
        call_id: int | None = None
        """The call it was made on (as `show` was told)."""

    index: reactive[int] = reactive(0)
    why: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.proposals: list[OfferProposal] = []
        self.answers: dict[int, str] = {}
        """presentation id -> response recorded while this customer is on screen."""
        self.decline_reasons: tuple[str, ...] = DEFAULT_DECLINE_REASONS
        self.customer_id: int | None = None
        """The customer these offers are for; None when there are none."""
        self.call_id: int | None = None
        """The call they were made on."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(id="offer-title")
            yield Static(id="offer-script")
            yield Static(id="offer-status")
            yield Static(id="offer-why")
            yield OptionList(id="decline-reasons")

    def on_mount(self) -> None:
        self._render_offer()

    def show(
        self,
        proposals: Sequence[OfferProposal],
        decline_reasons: Sequence[str] | None = None,
        customer_id: int | None = None,
        call_id: int | None = None,
    ) -> None:
        """Show these offers (best first), made to `customer_id` on `call_id`; clears the
        offers and answers of a previous customer (`show([])`: no offer on screen)."""
        self.proposals = list(proposals)
        self.answers = {}
        self.customer_id = customer_id if proposals else None
        self.call_id = call_id if proposals else None
        if decline_reasons:
            self.decline_reasons = tuple(decline_reasons)
        self.remove_class("choosing-reason")
        self.index = 0
        self._render_offer()

    @property
    def current(self) -> OfferProposal | None:
        if 0 <= self.index < len(self.proposals):
            return self.proposals[self.index]
        return None

    @property
    def unanswered(self) -> list[OfferProposal]:
        """Offers shown with no answer yet (wrap-up warns about them)."""
        return [p for p in self.proposals if p.presentation_id not in self.answers]

    def watch_index(self) -> None:
        self._render_offer()

    def watch_why(self) -> None:
        self._render_offer()

    def _render_offer(self) -> None:
        if not self.is_mounted:
            return
        title = self.query_one("#offer-title", Static)
        script = self.query_one("#offer-script", Static)
        status = self.query_one("#offer-status", Static)
        why = self.query_one("#offer-why", Static)
        offer = self.current
        if offer is None:
            title.update(Text(_("No offer for this customer now."), style="dim italic"))
            for part in (script, status, why):
                part.update("")
            return
        title.update(
            Text.assemble(
                safe_text(
                    _("Offer {n} of {total}: ").format(n=self.index + 1, total=len(self.proposals)),
                    "dim",
                ),
                safe_text(offer.title, "bold"),
                safe_text(_("   value {amount}").format(amount=amount(offer.value)), "dim"),
            )
        )
        script.update(safe_text(offer.script))
        answer = self.answers.get(offer.presentation_id or -1)
        if answer:
            status.update(
                safe_text(
                    _("Recorded: {answer}").format(answer=_(RESPONSE_LABELS.get(answer, answer))),
                    "bold",
                )
            )
        else:
            status.update(safe_text(keyed(self, _(ANSWER_KEYS)), "dim"))
        why.update(self._why_text(offer) if self.why else "")

    @staticmethod
    def _why_text(offer: OfferProposal) -> Text:
        lines = [safe_text(_("Why (rules {version}):").format(version=offer.rules_version), "bold")]
        for name, expression, passed, seen in offer.explanation:
            lines.append(
                Text.assemble(
                    safe_text("✓ " if passed else "✗ ", "green" if passed else "red"),
                    safe_text(name, "bold"),
                    safe_text(f"  {expression}"),
                    safe_text(_("  saw {value}").format(value=seen), "italic"),
                )
            )
        return Text("\n").join(lines)

    def action_toggle_why(self) -> None:
        self.why = not self.why

    def action_next_offer(self) -> None:
        if self.index + 1 < len(self.proposals):
            self.index += 1

    def action_previous_offer(self) -> None:
        if self.index > 0:
            self.index -= 1

    def action_respond(self, response: str) -> None:
        offer = self.current
        if offer is None or offer.presentation_id is None:
            return
        self._answer(offer.presentation_id, response, "")

    def answer_failed(self, presentation_id: int) -> None:
        """The answer to this offer was not stored: it can be given again."""
        if self.answers.pop(presentation_id, None) is not None:
            target = next(
                (i for i, p in enumerate(self.proposals) if p.presentation_id == presentation_id),
                self.index,
            )
            if target != self.index:
                self.index = target
            else:
                self._render_offer()

    def action_choose_decline_reason(self) -> None:
        offer = self.current
        if offer is None or offer.presentation_id is None:
            return
        reasons = self.query_one("#decline-reasons", OptionList)
        reasons.clear_options()
        reasons.add_options(
            Option(safe_text(f"{n}. {code_label('decline', reason)}"), id=str(n - 1))
            for n, reason in enumerate(self.decline_reasons, start=1)
        )
        self.add_class("choosing-reason")
        reasons.highlighted = 0
        reasons.focus(scroll_visible=False)
        # Shown only now: once laid out, scroll the pane so that every reason is in view
        # (at 80×24 they are below the offer, out of sight otherwise).
        self.call_after_refresh(reasons.scroll_visible, animate=False)

    def action_cancel_reason(self) -> None:
        if self.has_class("choosing-reason"):
            self.remove_class("choosing-reason")
            self.focus()

    def on_key(self, event: events.Key) -> None:
        key = event.key
        if self.has_class("choosing-reason") and key.isdigit() and key != "0":
            number = int(key)
            if number <= len(self.decline_reasons):
                event.stop()
                self._decline(self.decline_reasons[number - 1])

    @on(OptionList.OptionSelected, "#decline-reasons")
    def on_reason_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self._decline(self.decline_reasons[int(event.option.id)])

    def _decline(self, reason: str) -> None:
        offer = self.current
        self.remove_class("choosing-reason")
        self.focus()
        if offer is not None and offer.presentation_id is not None:
            self._answer(offer.presentation_id, "declined", reason)

    def _answer(self, presentation_id: int, response: str, reason: str) -> None:
        self.answers[presentation_id] = response
        self.post_message(
            self.ResponseChosen(presentation_id, response, reason, self.customer_id, self.call_id)
        )
        following = [
            i
            for i, p in enumerate(self.proposals)
            if i > self.index and p.presentation_id not in self.answers
        ]
        if following:
            self.index = following[0]
        else:
            self._render_offer()
