"""QueueBoard: today's queue figures, a sparkline of the last hour, and the calls waiting.

It receives snapshots (`show`) and clock ticks (`tick`) and updates its cells in place:
rows are added and removed by call id, never rebuilt, so nothing flickers.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, Label, Sparkline, Static

from console.i18n import N_, _
from console.safe_text import safe_text
from core.calls.metrics import DEFINITIONS, Threshold
from core.calls.queue import QueueSnapshot
from core.i18n import words
from core.i18n.formats import format_duration, format_percent


def duration(seconds: float | None) -> str:
    """mm:ss, or h:mm:ss from an hour; "—" for none."""
    if seconds is None:
        return "—"
    return format_duration(seconds)


def percent(share: float | None) -> str:
    return "—" if share is None else format_percent(share)


# figure id -> (label, definition key)
FIGURES = [
    ("waiting", N_("Waiting"), "waiting"),
    ("longest_wait", N_("Longest"), "longest_wait"),
    ("service_level", N_("Svc level"), "service_level"),
    ("asa", N_("ASA"), "asa"),
    ("aht", N_("AHT"), "aht"),
    ("abandonment_rate", N_("Abandon"), "abandonment_rate"),
    ("counts", N_("Off/Ans/Ab"), "offered"),
]


class Figure(Static):
    """One figure: a label over its value, coloured by its threshold level."""

    DEFAULT_CSS = """
    Figure { width: 1fr; height: 2; margin: 0 1 0 0; }
    Figure.-warn { color: $warning; }
    Figure.-alert { color: $error; text-style: bold; }
    """

    def __init__(self, label: str, id: str) -> None:
        super().__init__(id=id)
        self.label = _(label)
        self.value = "—"

    def on_mount(self) -> None:
        self.update(Text.assemble((self.label, "dim"), "\n", self.value))

    def set(self, value: str, level: str = "ok") -> None:
        for name in ("ok", "warn", "alert"):
            self.set_class(level == name, f"-{name}")
        if value != self.value:
            self.value = value
            self.update(Text.assemble((self.label, "dim"), "\n", value))


class QueueBoard(Widget):
    DEFAULT_CSS = """
    QueueBoard { height: 1fr; layout: vertical; }
    QueueBoard #figures { height: 2; }
    QueueBoard #spark-row { height: 1; margin-top: 1; }
    QueueBoard #spark-label { width: 24; color: $text-muted; }
    QueueBoard Sparkline { width: 1fr; }
    QueueBoard DataTable { height: 1fr; margin-top: 1; }
    """

    def __init__(
        self, thresholds: dict[str, Threshold] | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.snapshot: QueueSnapshot | None = None
        self.thresholds = thresholds or {}
        """The configured colour thresholds, so that waits turn colour as they tick."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="figures"):
            for fid, label, _key in FIGURES:
                yield Figure(label, id=f"fig-{fid}")
        with Horizontal(id="spark-row"):
            yield Label(_("Waiting, last hour"), id="spark-label")
            yield Sparkline([0] * 60, id="waiting-spark")
        yield DataTable(id="waiting-calls", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#waiting-calls", DataTable)
        table.add_column(_("Call"), key="call", width=7)
        table.add_column(_("Caller"), key="caller", width=18)
        table.add_column(_("Queue"), key="queue", width=12)
        table.add_column(_("Wait"), key="wait", width=8)
        table.add_column(_("Status"), key="status", width=22)
        table.border_title = _("Calls waiting")

    def set_definitions(self, service_level_seconds: int, short_abandon_seconds: int) -> None:
        for fid, _label, key in FIGURES:
            text = words(DEFINITIONS[key]).format(
                t=service_level_seconds, short=short_abandon_seconds
            )
            if fid == "counts":
                text = _("Offered / answered / abandoned today. ") + " ".join(
                    words(DEFINITIONS[k]) for k in ("offered", "answered")
                )
            self.query_one(f"#fig-{fid}", Figure).tooltip = text
        self.query_one("#waiting-spark", Sparkline).tooltip = words(DEFINITIONS["sparkline"])

    def show(self, snapshot: QueueSnapshot) -> None:
        """Show a new snapshot: figures, sparkline and waiting calls, changed in place."""
        first = self.snapshot is None
        self.snapshot = snapshot
        if first:
            self.set_definitions(snapshot.service_level_seconds, snapshot.short_abandon_seconds)
        f = snapshot.figures
        lv = snapshot.levels
        self._fig("waiting", str(f.waiting), lv.get("waiting", "ok"))
        self._fig("service_level", percent(f.service_level), lv.get("service_level", "ok"))
        self._fig("asa", duration(f.asa), lv.get("asa", "ok"))
        self._fig("aht", duration(f.aht), lv.get("aht", "ok"))
        self._fig("abandonment_rate", percent(f.abandonment_rate), lv.get("abandonment_rate", "ok"))
        self._fig("counts", f"{f.offered}/{f.answered}/{f.abandoned}")
        spark = self.query_one("#waiting-spark", Sparkline)
        if list(spark.data or []) != snapshot.series:
            spark.data = snapshot.series
        table = self.query_one("#waiting-calls", DataTable)
        wanted = {str(w.call_id): w for w in snapshot.waiting}
        for key in [k.value for k in table.rows if k.value not in wanted]:
            table.remove_row(key)
        for key, call in wanted.items():
            status = (
                _("queued")
                if call.state == "queued"
                else _("ringing: {agent}").format(agent=call.agent)
            )
            if key in {k.value for k in table.rows}:
                table.update_cell(key, "status", safe_text(status))
            else:
                table.add_row(
                    str(call.call_id),
                    safe_text(call.caller_number),
                    safe_text(call.queue),
                    duration(call.wait_seconds),
                    safe_text(status),
                    key=key,
                )
        self.tick(snapshot.at)

    def tick(self, now: datetime) -> None:
        """Advance the waits to `now` without asking the database."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        table = self.query_one("#waiting-calls", DataTable)
        keys = {k.value for k in table.rows}
        longest: float | None = None
        for call in snapshot.waiting:
            wait = max(0.0, (now - call.queued_at).total_seconds())
            longest = wait if longest is None else max(longest, wait)
            if str(call.call_id) in keys:
                table.update_cell(str(call.call_id), "wait", duration(wait))
        threshold = self.thresholds.get("longest_wait")
        level = threshold.level(longest) if threshold is not None else "ok"
        self._fig("longest_wait", duration(longest), level)

    def _fig(self, fid: str, value: str, level: str = "ok") -> None:
        self.query_one(f"#fig-{fid}", Figure).set(value, level)
