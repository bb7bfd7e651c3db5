"""TeamBoard: every agent's state and time in it, current call, today's calls, AHT, offers.

Rows are keyed by agent and updated cell by cell; time in state and call duration tick
locally every second between snapshots.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import DataTable, Label

from console.codes import code_label
from console.i18n import N_, _
from console.safe_text import clean, safe_text
from console.widgets.cells import fit, who_cell
from console.widgets.queue_board import duration, percent
from core.calls.metrics import DEFINITIONS, Threshold
from core.calls.queue import AgentRow, TeamSnapshot
from core.i18n import words

STATE_LABELS = {
    "available": N_("available"),
    "on_call": N_("on a call"),
    "wrap_up": N_("wrap-up"),
    "break": N_("break"),
    "offline": N_("offline"),
}

# Fits 80 columns: 61 characters of cells and 16 of padding. Text longer than its column is
# cut with an ellipsis; the customer column widens for a caller's number rather than cut a
# digit off it (a compact 12-digit number still fits in 80).
WIDTHS = {"agent": 10, "state": 12, "customer": 11}
COLUMNS = [
    ("agent", N_("Agent"), 10),
    ("state", N_("State"), 12),
    ("in_state", N_("In"), 6),
    ("call", N_("Call"), 6),
    ("customer", N_("Customer"), 11),
    ("today", N_("Today"), 5),
    ("aht", N_("AHT"), 5),
    ("offers", N_("Offers"), 6),
]


class TeamBoard(Widget):
    DEFAULT_CSS = """
    TeamBoard { height: 1fr; layout: vertical; }
    TeamBoard #occupancy { height: 1; color: $text-muted; }
    TeamBoard #occupancy.-warn { color: $warning; }
    TeamBoard #occupancy.-alert { color: $error; text-style: bold; }
    TeamBoard DataTable { height: 1fr; }
    """

    def __init__(
        self,
        thresholds: dict[str, Threshold] | None = None,
        id: str | None = None,
        wrap_up_limit: int = 0,
    ) -> None:
        super().__init__(id=id)
        self.snapshot: TeamSnapshot | None = None
        self.thresholds = thresholds or {}
        self.wrap_up_limit = wrap_up_limit
        """Seconds of after-call work before an agent's row is flagged; 0: no limit."""

    def highlighted(self) -> AgentRow | None:
        """The agent on the highlighted row, if any."""
        table = self.query_one("#team", DataTable)
        if self.snapshot is None or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((a for a in self.snapshot.agents if str(a.agent_id) == key), None)

    def compose(self) -> ComposeResult:
        yield Label(Text(_("Occupancy now: {share}").format(share="—")), id="occupancy")
        yield DataTable(id="team", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#team", DataTable)
        for key, label, width in COLUMNS:
            heading = _(label)  # text: headings of COLUMNS
            table.add_column(
                Text(heading),
                key=key,
                width=None if key == "customer" else max(width, len(heading)),
            )
        self.query_one("#occupancy", Label).tooltip = words(DEFINITIONS["occupancy"])

    def show(self, snapshot: TeamSnapshot) -> None:
        """Show a new snapshot, changing only the cells that differ."""
        self.snapshot = snapshot
        occupancy = self.query_one("#occupancy", Label)
        level = snapshot.levels.get("occupancy", "ok")
        occupancy.update(
            Text(_("Occupancy now: {share}").format(share=percent(snapshot.occupancy)))
        )
        for name in ("warn", "alert"):
            occupancy.set_class(level == name, f"-{name}")
        table = self.query_one("#team", DataTable)
        wanted = {str(a.agent_id): a for a in snapshot.agents}
        existing = {k.value for k in table.rows}
        for key in existing - wanted.keys():
            table.remove_row(key)
        added = False
        for key, agent in wanted.items():
            cells = self._cells(agent, snapshot.at)
            if key in existing:
                for (column, _label, _width), value in zip(COLUMNS, cells, strict=True):
                    table.update_cell(
                        key, column, value, update_width=column == "customer"
                    )  # text: _cells
            else:
                table.add_row(*cells, key=key)  # text: _cells: Text, numbers
                added = True
        if added:  # keep a stable order by name: rows only move when agents join
            table.sort("agent", key=lambda cell: str(cell).lower())

    def tick(self, now: datetime) -> None:
        """Advance time in state and call durations to `now` without asking the database."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        table = self.query_one("#team", DataTable)
        keys = {k.value for k in table.rows}
        elapsed = (now - snapshot.at).total_seconds()
        for agent in snapshot.agents:
            key = str(agent.agent_id)
            if key not in keys:
                continue
            seconds = agent.seconds_in_state + elapsed
            table.update_cell(key, "in_state", self._in_state(agent, seconds))
            if agent.state == "wrap_up":
                table.update_cell(key, "state", fit(self._state(agent, seconds), WIDTHS["state"]))
            if agent.call_seconds is not None:
                table.update_cell(key, "call", duration(agent.call_seconds + elapsed))

    def _over_limit(self, agent: AgentRow, seconds: float) -> bool:
        return (
            agent.state == "wrap_up" and bool(self.wrap_up_limit) and seconds > self.wrap_up_limit
        )

    def _state(self, agent: AgentRow, seconds: float) -> Text:
        state = _(STATE_LABELS.get(agent.state, agent.state))
        if agent.state == "break" and agent.reason:
            state = _("break: {reason}").format(reason=code_label("break", agent.reason))
        if agent.call_state == "offered":
            state = _("ringing")
        if self._over_limit(agent, seconds):
            return Text.assemble(safe_text(state), ("!", "bold red"), style="bold red")
        return safe_text(state)

    def _in_state(self, agent: AgentRow, seconds: float) -> Text:
        if self._over_limit(agent, seconds):
            return Text(duration(seconds), style="bold red")
        threshold = self.thresholds.get("time_in_state")
        # a long call or wrap-up is worth a look; a long break or idle time is someone else's
        watched = agent.state in ("on_call", "wrap_up", "break")
        level = threshold.level(seconds) if threshold is not None and watched else "ok"
        style = {"warn": "bold yellow", "alert": "bold red"}.get(level, "")
        return Text(duration(seconds), style=style)

    def _cells(self, agent: AgentRow, now: datetime) -> list[object]:
        seconds = max((now - agent.since).total_seconds(), agent.seconds_in_state)
        return [
            fit(agent.display_name, WIDTHS["agent"]),
            fit(self._state(agent, seconds), WIDTHS["state"]),
            self._in_state(agent, seconds),
            duration(agent.call_seconds) if agent.call_seconds is not None else "",
            who_cell(clean(agent.customer), WIDTHS["customer"]),
            str(agent.handled_today),
            duration(agent.aht_today) if agent.aht_today is not None else "—",
            str(agent.offers_accepted_today),
        ]
