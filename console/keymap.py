"""Every key binding of the console, by id, so that agents can remap them in configuration.

`FRONTLINE_KEYMAP` remaps keys by binding id, e.g. `answer-call=f6;end-call=f7` (entries
separated by `;` or `,`; a binding may get several keys: `help=f1,question_mark`).
Global actions use function keys or ctrl combinations so that they also work while the agent
types; single printable keys are only bound on widgets that never take text.
"""

from __future__ import annotations

import dataclasses

from textual.binding import Binding

APP_BINDINGS = [
    # Not in the footer (F1 lists it): at 80 columns the call's keys need the room.
    Binding(
        "ctrl+q",
        "quit",
        "Quit",
        tooltip="Leave Frontline (the draft is written first).",
        id="quit",
        priority=True,
        show=False,
    ),
    Binding(
        "f1",
        "help",
        "Help",
        tooltip="Every key of this screen and what the figures mean.",
        id="help",
        priority=True,
    ),
    Binding(
        "question_mark",
        "help",
        "Help",
        tooltip="Help, when no text field has the cursor.",
        id="help-question",
        show=False,
    ),
]

PRINTABLE_KEYS = {"slash", "question_mark"}

# Function keys and ctrl combinations are priority bindings: they work wherever the cursor is
# (the notes area binds F6/F7 itself otherwise). Printable keys never are.
SUPERVISOR_TOGGLE = Binding(
    "f12",
    "toggle_supervisor",
    "Supervisor",
    tooltip="Switch between the supervisor's screens and the agent screen (supervisors only).",
    id="toggle-supervisor",
)
"""Defined here rather than with the supervisor's screens so that the console starts
without importing them (they load with the services)."""

AGENT_BINDINGS = [
    Binding(
        "f2",
        "focus_search",
        "Search",
        tooltip="Back to the search box, from anywhere.",
        id="search",
        show=False,  # on every pane's title and the pane bar already
    ),
    Binding(
        "slash",
        "focus_search",
        "Search",
        tooltip="Back to the search box, when no text field has the cursor.",
        id="search-slash",
        show=False,
    ),
    Binding(
        "f3",
        "show_pane('customer')",
        "Customer",
        tooltip="The customer: header, contact points, loyalty, products, offers.",
        id="show-customer",
        show=False,
    ),
    Binding(
        "f4",
        "show_pane('history')",
        "History",
        tooltip="The interaction history across all channels, newest first.",
        id="show-history",
        show=False,
    ),
    Binding(
        "f5",
        "show_pane('call')",
        "Call",
        tooltip="The call panel: timer, reason, outcome, notes, follow-up.",
        id="show-call",
        show=False,
    ),
    Binding(
        "f6",
        "answer_call",
        "Take call",
        tooltip="Start a call with the customer on screen (or an unknown caller).",
        id="answer-call",
    ),
    Binding(
        "f7", "end_call", "End call", tooltip="The call is over: wrap-up starts.", id="end-call"
    ),
    Binding(
        "f8",
        "finish_call",
        "Save call",
        tooltip="Finish wrap-up: save the call in the customer's history.",
        id="finish-call",
    ),
    Binding(
        "f9", "pick_reason", "Reason", tooltip="Choose the call's reason code.", id="pick-reason"
    ),
    Binding(
        "f10",
        "pick_outcome",
        "Outcome",
        tooltip="Choose the call's outcome code.",
        id="pick-outcome",
    ),
    Binding(
        "ctrl+o",
        "focus_offers",
        "Offers",
        tooltip="The offer to make: a accepted, d declined, n not offered, w why.",
        id="focus-offers",
    ),
    Binding(
        "ctrl+n",
        "focus_notes",
        "Notes",
        tooltip="Type the call notes.",
        id="focus-notes",
        show=False,
    ),
    Binding(
        "ctrl+l",
        "link_customer",
        "Link caller",
        tooltip="Make the customer on screen the caller of the current call.",
        id="link-customer",
        show=False,
    ),
]

AGENT_BINDINGS = [
    dataclasses.replace(binding, priority=binding.key not in PRINTABLE_KEYS)
    for binding in AGENT_BINDINGS
]

RESULT_BINDINGS = [
    Binding("down", "cursor_down", "Next", show=False, id="result-next"),
    Binding("up", "cursor_up", "Previous", show=False, id="result-previous"),
]

CHANNEL_KEYS = {
    "a": None,
    "p": "phone",
    "e": "email",
    "w": "web",
    "s": "store",
    "v": "sales_visit",
    "c": "chat",
}
"""Single keys that filter the history by channel while the history has focus."""

TIMELINE_BINDINGS = [
    Binding(
        key,
        f"filter_channel({channel!r})",
        "All" if channel is None else channel.replace("_", " ").title(),
        tooltip=(
            "Show every channel."
            if channel is None
            else f"Only {channel.replace('_', ' ')} interactions."
        ),
        id=f"history-{channel or 'all'}".replace("_", "-"),
        show=channel is None,
    )
    for key, channel in CHANNEL_KEYS.items()
]

PICKER_BINDINGS = [
    Binding("escape", "cancel", "Cancel", tooltip="Close without choosing.", id="picker-cancel"),
]

HELP_BINDINGS = [
    Binding(
        "escape,f1,q", "dismiss", "Close", tooltip="Back to the agent screen.", id="help-close"
    ),
]
