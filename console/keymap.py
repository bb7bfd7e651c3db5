"""Every key binding of the console, in one table (KEYMAP), by id, remappable in configuration.

Each screen and widget takes its bindings from here (`BINDINGS = KEYMAP["agent"].bindings`);
help (F1) is built from the same table, so a key is documented where it is defined.

`FRONTLINE_KEYMAP` remaps keys by binding id, e.g. `answer-call=f6;end-call=f7` (entries
separated by `;` or `,`; a binding may get several keys: `help=f1,question_mark`).
Global actions use function keys or ctrl combinations so that they also work while the agent
types; single printable keys are only bound on widgets that never take text.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Scope:
    """Where a group of bindings applies, as help titles it."""

    title: str
    bindings: list[Binding]


def _b(key: str, action: str, description: str, tooltip: str, id: str, **options: bool) -> Binding:
    return Binding(key, action, description, tooltip=tooltip, id=id, **options)


PRINTABLE_KEYS = {"slash", "question_mark"}


def _priority(bindings: list[Binding]) -> list[Binding]:
    # Function keys and ctrl combinations are priority bindings: they work wherever the cursor
    # is (the notes area binds F6/F7 itself otherwise). Printable keys never are.
    return [dataclasses.replace(b, priority=b.key not in PRINTABLE_KEYS) for b in bindings]


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


def _channel_binding(key: str, channel: str | None) -> Binding:
    label = "All" if channel is None else channel.replace("_", " ").title()
    return _b(
        key,
        f"filter_channel({channel!r})",
        label,
        "Show every channel."
        if channel is None
        else f"Only {channel.replace('_', ' ')} interactions.",
        f"history-{channel or 'all'}".replace("_", "-"),
        show=channel is None,
    )


# A table: one binding a row, wrapped only where the line is full.
# fmt: off
KEYMAP: dict[str, Scope] = {
    "app": Scope("Everywhere", [
        # Not in the footer (F1 lists it): at 80 columns the call's keys need the room.
        _b("ctrl+q", "quit", "Quit",
           "Leave Frontline (the draft is written first).", "quit", show=False, priority=True),
        _b("f1", "help", "Help",
           "Every key of this screen and what the figures mean.", "help", priority=True),
        _b("question_mark", "help", "Help",
           "Help, when no text field has the cursor.", "help-question", show=False),
        # Here rather than with the supervisor's screens so that the console starts
        # without importing them (they load with the services).
        _b("f12", "toggle_supervisor", "Supervisor",
           "Switch between the supervisor's screens and the agent screen (supervisors only).",
           "toggle-supervisor"),
    ]),
    "textual": Scope("Everywhere (Textual's own keys)", [
        _b("ctrl+p", "command_palette", "Palette", "Command palette: actions by name.", "palette"),
        _b("tab", "focus_next", "Next", "Move to the next field or panel.", "focus-next"),
    ]),
    "agent": Scope("Agent screen", _priority([
        # F2 is not in the footer: it is on every pane's title and on the pane bar.
        _b("f2", "focus_search", "Search",
           "Back to the search box, from anywhere.", "search", show=False),
        _b("slash", "focus_search", "Search",
           "Back to the search box, when no text field has the cursor.", "search-slash",
           show=False),
        _b("f3", "show_pane('customer')", "Customer",
           "The customer: header, contact points, loyalty, products, offers.", "show-customer",
           show=False),
        _b("f4", "show_pane('history')", "History",
           "The interaction history across all channels, newest first.", "show-history",
           show=False),
        _b("f5", "show_pane('call')", "Call",
           "The call panel: timer, reason, outcome, notes, follow-up.", "show-call", show=False),
        _b("f6", "answer_call", "Take call",
           "Start a call with the customer on screen (or an unknown caller).", "answer-call"),
        _b("f7", "end_call", "End call", "The call is over: wrap-up starts.", "end-call"),
        _b("f8", "finish_call", "Save call",
           "Finish wrap-up: save the call in the customer's history.", "finish-call"),
        _b("f9", "pick_reason", "Reason", "Choose the call's reason code.", "pick-reason"),
        _b("f10", "pick_outcome", "Outcome", "Choose the call's outcome code.", "pick-outcome"),
        _b("ctrl+o", "focus_offers", "Offers",
           "The offer to make: a accepted, d declined, n not offered, w why.", "focus-offers"),
        _b("ctrl+n", "focus_notes", "Notes", "Type the call notes.", "focus-notes", show=False),
        _b("ctrl+l", "link_customer", "Link caller",
           "Make the customer on screen the caller of the current call.", "link-customer",
           show=False),
        _b("ctrl+g", "toggle_hold", "Hold",
           "Put the caller on hold, or take them back from hold.", "toggle-hold", show=False),
        _b("ctrl+t", "transfer_call", "Transfer",
           "Blind transfer to an available agent or a queue; the notes and reason go along.",
           "transfer-call", show=False),  # these two on the call pane's title: 80 columns
        _b("ctrl+k", "consult_call", "Consult",
           "Consult transfer: talk to an agent or a queue first while the caller waits.",
           "consult-call", show=False),
        _b("f11", "complete_consult", "Complete",
           "Complete the consult transfer: the consulted agent or queue takes the caller.",
           "complete-consult"),
        _b("ctrl+u", "cancel_consult", "Back to caller",
           "Cancel the consult: back to the caller, the consulted party left out.",
           "cancel-consult"),
        _b("ctrl+b", "take_break", "Break",
           "Go on a break: pick the reason (no calls are offered meanwhile).", "take-break"),
        _b("ctrl+r", "be_ready", "Ready",
           "Back from a break: ready for the next call.", "be-ready"),
        _b("ctrl+f", "reveal_details", "Reveal",
           "Show the masked phone, email and birth date: asks why, and the audit trail keeps it.",
           "reveal-details", show=False),
        _b("ctrl+s", "customer_record", "Record",
           "The customer's record: edit contacts and consent, a new customer for the caller,"
           " the changes (restore), duplicates (merge, undo).", "customer-record", show=False),
    ])),
    "search-box": Scope("In the search box", [
        _b("down", "move(1)", "Next result", "Move down the results.", "search-next", show=False),
        _b("up", "move(-1)", "Previous result",
           "Move up the results.", "search-previous", show=False),
        _b("pagedown", "move(5)", "Next results",
           "Five results down.", "search-page-down", show=False),
        _b("pageup", "move(-5)", "Previous results",
           "Five results up.", "search-page-up", show=False),
        _b("escape", "clear_query", "Clear", "Empty the search box.", "search-clear", show=False),
    ]),
    "results": Scope("On the results", [
        _b("down", "move(1)", "Next result", "Move down the results.", "results-next", show=False),
        _b("up", "move(-1)", "Previous result",
           "Move up the results.", "results-previous", show=False),
        _b("enter", "open", "Open", "Open the highlighted customer.", "results-open", show=False),
    ]),
    "history": Scope("On the history (F4)", [
        *(_channel_binding(key, channel) for key, channel in CHANNEL_KEYS.items()),
        _b("end", "scroll_bottom", "Oldest loaded",
           "The oldest interaction loaded.", "history-end", show=False),
        _b("home", "scroll_top", "Newest", "The newest interaction.", "history-home", show=False),
    ]),
    "history-table": Scope("On a history list", [
        _b("up", "cursor(-1)", "Newer", "The newer interaction.", "history-up", show=False),
        _b("down", "cursor(1)", "Older", "The older interaction.", "history-down", show=False),
        _b("pageup", "page(-1)", "Page newer",
           "A page of newer interactions.", "history-page-up", show=False),
        _b("pagedown", "page(1)", "Page older",
           "A page of older interactions (the next page loads by itself).", "history-page-down",
           show=False),
    ]),
    "offers": Scope("On the offer (Ctrl+O)", [
        _b("a", "respond('accepted')", "Accepted",
           "The customer accepted this offer.", "offer-accepted"),
        _b("d", "choose_decline_reason", "Declined",
           "The customer declined: pick the reason from the list.", "offer-declined"),
        _b("n", "respond('not_offered')", "Not offered",
           "You did not make this offer (not the moment, customer upset...).", "offer-not-offered"),
        _b("w", "toggle_why", "Why",
           "Show or hide each rule clause and the value it saw.", "offer-why"),
        _b("right,right_square_bracket", "next_offer", "Next offer",
           "The next offer for this customer.", "offer-next"),
        _b("left,left_square_bracket", "previous_offer", "Previous offer",
           "The previous offer for this customer.", "offer-previous"),
        _b("escape", "cancel_reason", "Cancel",
           "Close the decline reasons without answering.", "offer-cancel-reason", show=False),
    ]),
    "picker": Scope("In a list of codes or callers", [
        _b("escape", "cancel", "Cancel", "Close without choosing.", "picker-cancel"),
    ]),
    "record-menu": Scope("The customer's record (Ctrl+S)", [
        _b("e", "pick('edit')", "Edit", "Phones, emails, address, consent, do-not-call.",
           "record-edit"),
        _b("n", "pick('new')", "New customer",
           "A new customer for the caller (their number filled in).", "record-new"),
        _b("h", "pick('changes')", "Changes",
           "Every change to the record (who, when, old, new); Enter restores one.",
           "record-changes"),
        _b("m", "pick('merge')", "Duplicates",
           "Likely duplicates, what tells them apart; merge one, undo a merge.", "record-merge"),
        _b("escape", "dismiss", "Close", "Back to the agent screen.", "record-close"),
    ]),
    "record-form": Scope("Editing or creating a customer", [
        _b("ctrl+s", "save", "Save",
           "Save (a new customer: after its likely duplicates are shown).", "form-save",
           priority=True),
        _b("escape", "cancel", "Cancel", "Close without saving.", "form-cancel"),
    ]),
    "record-list": Scope("Changes and duplicates", [
        _b("u", "undo_merge", "Undo merge",
           "Undo the newest merge into this customer.", "merge-undo"),
        _b("escape", "dismiss", "Close", "Back to the agent screen.", "record-list-close"),
    ]),
    "reveal": Scope("Revealing details (Ctrl+F)", [
        _b("escape", "dismiss", "Close", "Close (the details are masked again).", "reveal-close"),
    ]),
    "help": Scope("In help", [
        _b("escape,f1,q", "dismiss", "Close", "Back to the agent screen.", "help-close"),
    ]),
    "supervisor": Scope("Supervisor screen", [
        _b("f5", "show_tab('queue-tab')", "Queue",
           "Calls waiting and today's figures.", "supervisor-queue"),
        _b("f6", "show_tab('team-tab')", "Team",
           "Every agent's state and today's calls.", "supervisor-team"),
        _b("f7", "call_review", "Review",
           "Logged calls: filter, read, score.", "supervisor-review"),
        _b("f8", "show_tab('definitions-tab')", "Definitions",
           "How each figure is computed, and when it turns colour.", "supervisor-definitions"),
        _b("f9", "offer_rules", "Rules",
           "Offer rules: the version in use, acceptance rates, errors of a broken file.",
           "supervisor-rules"),
        _b("f10", "set_agent_state", "Set state",
           "Set the state of the agent highlighted on the team board (a stuck agent).",
           "supervisor-set-state"),
    ]),
    "review": Scope("Call review", [
        _b("escape", "back", "Back", "Back to the live queue.", "review-back"),
        _b("f2", "focus_filters", "Filters", "Move to the first filter.", "review-filters"),
        _b("f3", "show_tab('calls-tab')", "Calls", "The logged calls.", "review-calls"),
        _b("f4", "show_tab('scores-tab')", "Scores", "Quality scores per agent.", "review-scores"),
    ]),
    "score-form": Scope("Scoring a call", [
        _b("ctrl+s", "save", "Save score",
           "Store this quality score.", "review-save", priority=True),
        _b("escape", "close", "Close", "Close without saving.", "review-close"),
    ]),
    "rules": Scope("Offer rules", [
        _b("f5", "refresh_rules", "Refresh",
           "Check the rules file now and reload the acceptance rates.", "rules-refresh"),
        _b("escape", "app.pop_screen", "Back", "Back to the previous screen.", "rules-back"),
    ]),
}
# fmt: on
"""Every binding of the console by where it applies. "textual" lists Textual's own keys,
for help only."""

HELP_SCOPES: dict[str, tuple[str, ...]] = {
    "AgentScreen": (
        "agent",
        "search-box",
        "results",
        "history",
        "history-table",
        "offers",
        "app",
        "textual",
    ),
    "SupervisorScreen": ("supervisor", "app", "textual"),
    "CallReviewScreen": ("review", "app", "textual"),
    "ScoreForm": ("score-form", "app", "textual"),
    "RulesScreen": ("rules", "app", "textual"),
    "RecordMenu": ("record-menu", "app", "textual"),
    "CustomerForm": ("record-form", "app", "textual"),
    "NewCustomerForm": ("record-form", "app", "textual"),
    "ChangesScreen": ("record-list", "app", "textual"),
    "MergeScreen": ("record-list", "app", "textual"),
    "RevealScreen": ("reveal", "app", "textual"),
}
"""The scopes that help lists for each screen (by class name: the screens load late)."""
