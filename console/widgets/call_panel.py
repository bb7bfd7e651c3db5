"""CallPanel: the current call — timer, reason and outcome codes, notes, follow-up date.

The panel shows and edits the call's draft; its screen starts, ends and saves calls and keeps
the draft. Every edit makes the next version of the draft and sends it up in `Edited`, so the
screen never reads the fields back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Input, Label, Static, TextArea

from console.codes import code_label
from console.i18n import _
from console.key_names import keyed, keys_for
from console.safe_text import safe_text
from console.widgets.local_time import clock

if TYPE_CHECKING:  # drafts are made once the services load: the screen is drawn first
    from core.calls.drafts import CallDraft


class FollowUpError(ValueError):
    """The follow-up date is not a date."""


def parse_follow_up(text: str, today: date) -> date | None:
    """`mañana`, `lunes`, `15/12`, `+3`, `2026-12-01` … read the agent's way, or empty for none
    (core.i18n.parsing: one parser for every front end)."""
    from core.i18n import parsing  # here, not at import: the console draws before core loads

    try:
        return parsing.parse_follow_up(text, today)
    except parsing.FollowUpError as error:
        raise FollowUpError(str(error)) from None


class CallPanel(Vertical):
    """The call panel; `call` None means no call."""

    DEFAULT_CSS = """
    CallPanel { height: 1fr; padding: 0 1; }
    CallPanel > #call-status { height: 1; }
    CallPanel > #call-caller { height: auto; }
    CallPanel > .code { height: 1; }
    CallPanel > #notes { height: 1fr; min-height: 4; border: round $primary-muted; }
    CallPanel > #notes:focus { border: round $primary; }
    CallPanel > #follow-row { height: 1; margin-top: 1; }
    CallPanel #follow-row > Label { width: 11; }
    CallPanel #follow-up { width: 1fr; border: none; height: 1; padding: 0 1; }
    """

    @dataclass
    class Edited(Message):
        """The agent changed the call: here is its next draft (to be saved)."""

        draft: CallDraft

        def can_replace(self, message: Message) -> bool:
            # A burst of keystrokes collapses to its last draft, which holds all of them.
            return isinstance(message, CallPanel.Edited)

    @dataclass
    class WrapUpOverdue(Message):
        """After-call work has just passed its limit (sent once per call)."""

        limit_seconds: int

    def __init__(
        self,
        now: Callable[[], datetime] | None = None,
        wrap_up_limit: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.now = now or (lambda: datetime.now(UTC))
        self.wrap_up_limit = wrap_up_limit
        """Seconds of after-call work before the status turns red; 0: no limit."""
        self.draft: CallDraft | None = None
        """The call on screen and what was typed for it; None means no call."""
        self.line = ""
        """What the phone system says of the call when it is not plain talk: "held", or
        "closed" (completed elsewhere; the agent's codes and notes still go onto it)."""
        self._overdue_for: int | None = None
        self._status_plain = ""
        self._examples = ""

    def compose(self) -> ComposeResult:
        yield Static(id="call-status")
        yield Static(id="call-caller")
        yield Static(id="call-reason", classes="code")
        yield Static(id="call-outcome", classes="code")
        yield TextArea(id="notes", soft_wrap=True, disabled=True)
        with Horizontal(id="follow-row"):
            yield Label(_("Follow-up"))
            yield Input(placeholder=_("YYYY-MM-DD or +days"), id="follow-up", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#notes", TextArea).border_title = _("Notes  ^N")
        self.set_interval(1.0, self.tick)
        self.show(None)

    def show(self, draft: CallDraft | None) -> None:
        """Show `draft` (the fields take its text); None clears the panel."""
        if draft is None or self.draft is None or draft.call_id != self.draft.call_id:
            self.line = ""
        self.draft = draft
        area = self.query_one("#notes", TextArea)
        field = self.query_one("#follow-up", Input)
        notes = draft.notes if draft is not None else ""
        if area.text != notes:
            area.load_text(notes)
            area.move_cursor(area.document.end)
        follow_up = draft.follow_up if draft is not None else ""
        if field.value != follow_up:
            field.value = follow_up
        area.disabled = draft is None
        field.disabled = draft is None
        if draft is not None and not self._examples:
            self._show_examples(field)
        self._render_codes()
        self.tick()

    def _show_examples(self, field: Input) -> None:
        # What the field takes in the agent's words and date order (`mañana`, `15/12`; `12/15`
        # in en_US). Read with the first call: the parser comes with core, after the first frame.
        from core.i18n.parsing import follow_up_examples

        self._examples = follow_up_examples()
        field.placeholder = self._examples
        field.tooltip = _("Follow-up date, for example: {examples}").format(examples=self._examples)

    def edit(self, **changes: Any) -> None:
        """Change the call (codes, phase, caller) and announce its next draft."""
        if self.draft is None:
            return
        self.draft = self.draft.edited(**changes)
        if changes.keys() - {"notes", "follow_up"}:  # typing redraws nothing of the panel
            self._render_codes()
            self.tick()
        self.post_message(self.Edited(self.draft))

    def flush(self) -> CallDraft | None:
        """The draft with whatever the fields hold this instant, announced if it moved on.

        A paste followed by F8 can arrive in one read: the text area's Changed is then still
        queued when the screen saves, so the save asks for the fields' own text.
        """
        if self.draft is None:
            return None
        notes = self.query_one("#notes", TextArea).text
        follow_up = self.query_one("#follow-up", Input).value
        if (notes, follow_up) != (self.draft.notes, self.draft.follow_up):
            self.edit(notes=notes, follow_up=follow_up)
        return self.draft

    def _render_codes(self) -> None:
        call = self.draft
        caller = self.query_one("#call-caller", Static)
        if call is None:
            caller.update(
                Text(
                    keyed(
                        self,
                        _(
                            "{answer-call} takes a call with the customer on screen, or an "
                            "unknown caller."
                        ),
                    ),
                    style="dim italic",
                )
            )
        else:
            number = f"  {call.caller_number}" if call.caller_number else ""
            caller.update(
                Text.assemble(
                    (_("Caller") + " ", "dim"),
                    safe_text(call.caller, "bold"),
                    safe_text(number, "dim"),
                )
            )
        labels = {"reason": _("Reason"), "outcome": _("Outcome")}
        width = max(len(label) for label in labels.values())
        for field, binding_id in (("reason", "pick-reason"), ("outcome", "pick-outcome")):
            label = labels[field].ljust(width)
            key = keys_for(self, binding_id)
            value = code_label(field, getattr(call, field)) if call is not None else ""
            shown = safe_text(value, "bold") if value else Text(_("— not chosen"), style="dim")
            self.query_one(f"#call-{field}", Static).update(
                Text.assemble((f"{label} ", "dim"), (f"{key:>3} ", "dim"), shown)
            )

    def tick(self) -> None:
        """Refresh the timers (every second)."""
        try:
            status = self.query_one("#call-status", Static)
        except NoMatches:  # closing: at exit the children go first, and a tick can still come
            return
        call = self.draft
        if call is None:
            self._set_status(status, Text(_(" NO CALL "), style="bold reverse"))
            return
        now = self.now()
        closed = (_("  closed by the phone system"), "dim") if self.line == "closed" else ""
        if call.handed_to:
            closed = (_("  passed to {agent}").format(agent=call.handed_to), "dim")
        if call.phase == "wrap_up":
            ended = call.ended_at or now
            wrapping = (now - ended).total_seconds()
            over = bool(self.wrap_up_limit) and wrapping > self.wrap_up_limit
            if over and self._overdue_for != call.call_id:
                self._overdue_for = call.call_id
                self.post_message(self.WrapUpOverdue(self.wrap_up_limit))
            self._set_status(
                status,
                Text.assemble(
                    (_(" WRAP-UP "), "bold white on red" if over else "bold black on yellow"),
                    (f" {clock(wrapping)}", "bold red" if over else ""),
                    (_(" over {limit}").format(limit=clock(self.wrap_up_limit)), "bold red")
                    if over
                    else "",
                    (
                        _("  call {time}").format(
                            time=clock((ended - call.started_at).total_seconds())
                        ),
                        "dim",
                    ),
                    closed,
                ),
            )
        elif self.line in ("held", "consulting"):
            label = _(" ON HOLD ") if self.line == "held" else _(" CONSULTING ")
            self._set_status(
                status,
                Text.assemble(
                    (label, "bold black on cyan"),
                    f" {clock((now - call.started_at).total_seconds())}",
                ),
            )
        else:
            self._set_status(
                status,
                Text.assemble(
                    (_(" ON CALL "), "bold white on dark_green"),
                    f" {clock((now - call.started_at).total_seconds())}",
                    closed,
                ),
            )

    def set_line(self, line: str) -> None:
        """What the phone system says of the call ("", "held", "closed", "consulting")."""
        self.line = line
        self.tick()

    def _set_status(self, status: Static, text: Text) -> None:
        # One line that never changes size: repaint it only when it changed, and without a
        # layout pass of the whole screen.
        if text.plain != self._status_plain:
            self._status_plain = text.plain
            status.update(text, layout=False)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        # Loading a draft's text changes the area too: only a difference is an edit.
        if self.draft is not None and event.text_area.text != self.draft.notes:
            self.edit(notes=event.text_area.text)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.draft is not None and event.value != self.draft.follow_up:
            self.edit(follow_up=event.value)
