"""CallPanel: the current call — timer, reason and outcome codes, notes, follow-up date.

The panel shows and edits; its screen starts, ends and saves calls and keeps the draft.
Every edit is announced with `Edited` so the screen can save the draft as the agent types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static, TextArea

from console.safe_text import safe_text
from console.widgets.local_time import clock


@dataclass(frozen=True)
class ActiveCall:
    """The call the agent is on or wrapping up."""

    phase: str
    """"on_call" or "wrap_up"."""
    call_id: int | None
    customer_id: int | None
    caller: str
    """Who is calling, as shown: a name and customer number, or "Unknown caller"."""
    caller_number: str
    started_at: datetime
    ended_at: datetime | None = None
    reason: str = ""
    outcome: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "call_id": self.call_id,
            "customer_id": self.customer_id,
            "caller": self.caller,
            "caller_number": self.caller_number,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "reason": self.reason,
            "outcome": self.outcome,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ActiveCall:
        ended = data.get("ended_at")
        return cls(
            phase=str(data.get("phase") or "on_call"),
            call_id=data.get("call_id"),
            customer_id=data.get("customer_id"),
            caller=str(data.get("caller") or "Unknown caller"),
            caller_number=str(data.get("caller_number") or ""),
            started_at=datetime.fromisoformat(data["started_at"]),
            ended_at=datetime.fromisoformat(ended) if ended else None,
            reason=str(data.get("reason") or ""),
            outcome=str(data.get("outcome") or ""),
        )


class FollowUpError(ValueError):
    """The follow-up date is not a date."""


def parse_follow_up(text: str, today: date) -> date | None:
    """`2026-12-01`, `+3` (days from today), `tomorrow`, or empty for none."""
    text = text.strip().lower()
    if not text:
        return None
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text.startswith("+") and text[1:].isdigit():
        return today + timedelta(days=int(text[1:]))
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise FollowUpError(f"{text!r} is not a date: use YYYY-MM-DD or +days") from error


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
        """The agent changed something in the call panel (the draft should be saved)."""

    def __init__(self, now: Callable[[], datetime] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.now = now or (lambda: datetime.now(UTC))
        self.call: ActiveCall | None = None
        self._loading = False
        self._status_plain = ""

    def compose(self) -> ComposeResult:
        yield Static(id="call-status")
        yield Static(id="call-caller")
        yield Static(id="call-reason", classes="code")
        yield Static(id="call-outcome", classes="code")
        yield TextArea(id="notes", soft_wrap=True, disabled=True)
        with Horizontal(id="follow-row"):
            yield Label("Follow-up")
            yield Input(placeholder="YYYY-MM-DD or +days", id="follow-up", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#notes", TextArea).border_title = "Notes  ^N"
        self.set_interval(1.0, self.tick)
        self.show(None)

    @property
    def notes(self) -> str:
        return self.query_one("#notes", TextArea).text

    @property
    def follow_up_text(self) -> str:
        return self.query_one("#follow-up", Input).value

    def show(
        self, call: ActiveCall | None, notes: str | None = None, follow_up: str | None = None
    ) -> None:
        """Show `call`; `notes`/`follow_up` replace the fields' text when given."""
        self.call = call
        self._loading = True
        try:
            area = self.query_one("#notes", TextArea)
            field = self.query_one("#follow-up", Input)
            if notes is not None and area.text != notes:
                area.load_text(notes)
                area.move_cursor(area.document.end)
            if follow_up is not None and field.value != follow_up:
                field.value = follow_up
            area.disabled = call is None
            field.disabled = call is None
        finally:
            self._loading = False
        self._render_codes()
        self.tick()

    def set_codes(self, reason: str | None = None, outcome: str | None = None) -> None:
        if self.call is None:
            return
        changes: dict[str, str] = {}
        if reason is not None:
            changes["reason"] = reason
        if outcome is not None:
            changes["outcome"] = outcome
        self.call = replace(self.call, **changes)
        self._render_codes()
        self.post_message(self.Edited())

    def _render_codes(self) -> None:
        call = self.call
        caller = self.query_one("#call-caller", Static)
        if call is None:
            caller.update(
                Text(
                    "F6 takes a call with the customer on screen, or an unknown caller.",
                    style="dim italic",
                )
            )
        else:
            number = f"  {call.caller_number}" if call.caller_number else ""
            caller.update(
                Text.assemble(
                    ("Caller ", "dim"), safe_text(call.caller, "bold"), safe_text(number, "dim")
                )
            )
        for field, key, label in (("reason", "F9", "Reason "), ("outcome", "F10", "Outcome")):
            value = getattr(call, field) if call is not None else ""
            shown = safe_text(value, "bold") if value else Text("— not chosen", style="dim")
            self.query_one(f"#call-{field}", Static).update(
                Text.assemble((f"{label} ", "dim"), (f"{key:>3} ", "dim"), shown)
            )

    def tick(self) -> None:
        """Refresh the timers (every second)."""
        status = self.query_one("#call-status", Static)
        call = self.call
        if call is None:
            self._set_status(status, Text(" NO CALL ", style="bold reverse"))
            return
        now = self.now()
        if call.phase == "wrap_up":
            ended = call.ended_at or now
            self._set_status(
                status,
                Text.assemble(
                    (" WRAP-UP ", "bold black on yellow"),
                    f" {clock((now - ended).total_seconds())}",
                    (f"  call {clock((ended - call.started_at).total_seconds())}", "dim"),
                ),
            )
        else:
            self._set_status(
                status,
                Text.assemble(
                    (" ON CALL ", "bold white on dark_green"),
                    f" {clock((now - call.started_at).total_seconds())}",
                ),
            )

    def _set_status(self, status: Static, text: Text) -> None:
        # One line that never changes size: repaint it only when it changed, and without a
        # layout pass of the whole screen.
        if text.plain != self._status_plain:
            self._status_plain = text.plain
            status.update(text, layout=False)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if not self._loading and self.call is not None:
            self.post_message(self.Edited())

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if not self._loading and self.call is not None:
            self.post_message(self.Edited())
