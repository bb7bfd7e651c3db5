"""CallReviewScreen: logged calls filtered, opened, and scored on the quality form.

Filters (agent, local date, reason, outcome, offer response, long handle time only) reload
the list in a worker. Enter opens a call: its codes, notes, offers and events, and the
quality form (criteria from configuration) with a coaching note; Ctrl+S stores the score.
The Scores tab lists each agent's scored calls and average, and one agent's scores.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Checkbox,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)

from console.codes import code_label
from console.failure_words import plain_reason
from console.i18n import N_, _
from console.key_names import keyed
from console.keymap import KEYMAP
from console.safe_text import clean, safe_text
from console.textual_words import TranslatedBindings
from console.widgets.cells import fit
from console.widgets.local_time import (
    compact_datetime,
    day,
    format_percent,
    format_time,
    short_datetime,
)
from console.widgets.queue_board import duration
from core.calls.review import NO_OFFER, ReviewDetail, ReviewError, ReviewFilter, ReviewService
from core.identity import Identity
from core.privacy.access import AccessDenied

REVIEW_COLUMNS = [
    ("when", N_("Answered"), 11),
    ("agent", N_("Agent"), 8),
    ("customer", N_("Customer"), 9),
    ("codes", N_("Reason/outcome"), 15),
    ("handle", N_("Handle"), 6),
    ("offer", N_("Offer"), 8),
    ("score", N_("Score"), 5),
]
"""The logged calls' columns: key, heading, width."""
REVIEW_WIDTHS = {key: width for key, _label, width in REVIEW_COLUMNS}


OFFER_CHOICES = [
    (N_("offer accepted"), "accepted"),
    (N_("offer declined"), "declined"),
    (N_("not offered"), "not_offered"),
    (N_("no offer shown"), NO_OFFER),
]


def _clock(moment: datetime, zone: tzinfo | None) -> str:
    return format_time(moment.astimezone(zone))


def _local(moment: datetime | None, zone: tzinfo | None) -> str:
    return short_datetime(moment.astimezone(zone)) if moment else "—"


class ScoreForm(TranslatedBindings, ModalScreen[bool]):
    """One call in full, and the quality form."""

    BINDINGS = KEYMAP["score-form"].bindings
    DEFAULT_CSS = """
    ScoreForm { align: center middle; }
    ScoreForm > VerticalScroll {
        width: 90; max-width: 100%; height: 100%; border: thick $primary; background: $surface;
        padding: 0 1;
    }
    ScoreForm .criterion { height: 3; }
    ScoreForm .criterion Label { width: 1fr; padding-top: 1; }
    ScoreForm .criterion Input { width: 12; }
    ScoreForm TextArea { height: 4; }
    ScoreForm .title { text-style: bold; margin-top: 1; }
    """

    def __init__(
        self, reviews: ReviewService, reviewer: Identity, detail: ReviewDetail, zone: tzinfo | None
    ) -> None:
        super().__init__()
        self.reviews = reviews
        self.reviewer = reviewer
        self.detail = detail
        self.zone = zone

    def compose(self) -> ComposeResult:
        d = self.detail
        r = d.row
        mine = next((s for s in d.scores if s.reviewer == self.reviewer.name), None)
        with VerticalScroll() as box:
            box.border_title = keyed(
                self, _("Call {call} · {review-save} saves · {review-close} closes"), call=r.call_id
            )
            summary = Text.assemble(
                (_("Agent") + " ", "dim"),
                clean(r.agent),
                ("   " + _("Customer") + " ", "dim"),
                clean(r.customer),
                ("   " + _("Number") + " ", "dim"),
                clean(r.caller_number),
                "\n",
                (_("Answered") + " ", "dim"),
                _local(r.answered_at, self.zone),
                ("   " + _("Handle") + " ", "dim"),
                duration(r.handle_seconds),
                ("   " + _("Queue") + " ", "dim"),
                clean(d.queue or "—"),
                "\n",
                (_("Reason") + " ", "dim"),
                clean(code_label("reason", r.reason) or "—"),
                ("   " + _("Outcome") + " ", "dim"),
                clean(code_label("outcome", r.outcome) or "—"),
                ("   " + _("Follow-up") + " ", "dim"),
                day(d.follow_up_on),
            )
            yield Static(summary, id="review-summary")
            yield Static(_("Notes"), classes="title")
            yield Static(safe_text(d.notes or _("(no notes)")), id="review-notes")
            if d.offers:
                yield Static(_("Offers"), classes="title")
                lines = [
                    f"{o.offer_id}: {_(o.response.replace('_', ' '))}"
                    + (f" ({code_label('decline', o.decline_reason)})" if o.decline_reason else "")
                    for o in d.offers
                ]
                yield Static(safe_text("\n".join(lines)), id="review-offers")
            if d.events:
                yield Static(_("Events"), classes="title")
                yield Static(
                    safe_text(
                        "  ".join(
                            f"{_clock(at, self.zone)} {_(kind.replace('_', ' '))}"
                            for at, kind in d.events
                        )
                    )
                )
            yield Static(_("Quality"), classes="title")
            for i, criterion in enumerate(self.reviews.criteria):
                with Horizontal(classes="criterion"):
                    yield Label(safe_text(f"{criterion.name} (0–{criterion.max_points})"))
                    value = str(mine.scores.get(criterion.name, "")) if mine else ""
                    yield Input(
                        value,
                        type="integer",
                        id=f"criterion-{i}",
                        placeholder=f"0–{criterion.max_points}",
                    )
            yield Label(_("Coaching note"))
            yield TextArea(mine.coaching_note if mine else "", id="coaching-note")
            others = [s for s in d.scores if s.reviewer != self.reviewer.name]
            if others:
                yield Static(
                    safe_text(
                        _("Other reviews: ")
                        + "; ".join(
                            f"{s.reviewer} {format_percent(s.percent / 100)}" for s in others
                        )
                    )
                )

    def on_mount(self) -> None:
        if self.reviews.criteria:
            self.query_one("#criterion-0", Input).focus()

    def action_close(self) -> None:
        self.dismiss(False)

    def action_save(self) -> None:
        points: dict[str, int] = {}
        for i, criterion in enumerate(self.reviews.criteria):
            field = self.query_one(f"#criterion-{i}", Input)
            try:
                points[criterion.name] = int(field.value)
            except ValueError:
                field.focus()
                self.notify(
                    _("Give points for {criterion}.").format(criterion=clean(criterion.name)),
                    severity="error",
                    markup=False,
                )
                return
        self.save(points, self.query_one("#coaching-note", TextArea).text)

    @work(group="review-save", exclusive=True, exit_on_error=False)
    async def save(self, points: dict[str, int], note: str) -> None:
        try:
            stored = await self.reviews.score(self.detail.row.call_id, self.reviewer, points, note)
        except (ReviewError, AccessDenied) as error:
            self.notify(clean(str(error)), severity="error")
            return
        except Exception as error:  # noqa: BLE001 - locked or gone: the form keeps it all
            self.log.warning(f"score not saved: {error!r}")
            self.notify(
                keyed(
                    self,
                    _(
                        "The score was not saved ({error}). Nothing is lost: {review-save} tries "
                        "again."
                    ),
                    error=plain_reason(error, getattr(self.reviews, "database_url", None)),
                ),
                severity="error",
                timeout=15,
            )
            return
        self.app.notify(
            _("Scored call {call}: {score}.").format(
                call=stored.call_id, score=format_percent(stored.percent / 100)
            ),
            markup=False,
        )
        self.dismiss(True)


class CallReviewScreen(TranslatedBindings, Screen[None]):
    """Logged calls to review and score, and quality per agent."""

    BINDINGS = KEYMAP["review"].bindings
    DEFAULT_CSS = """
    CallReviewScreen .filters { height: 3; }
    CallReviewScreen .filters Input { width: 1fr; }
    CallReviewScreen .filters Select { width: 1fr; }
    CallReviewScreen .filters Checkbox { width: auto; }
    CallReviewScreen #review-table { height: 1fr; }
    CallReviewScreen #agent-quality { height: 1fr; }
    CallReviewScreen #agent-lines { height: 1fr; }
    """

    def __init__(
        self,
        reviews: ReviewService,
        reviewer: Identity,
        reasons: tuple[str, ...],
        outcomes: tuple[str, ...],
        zone: tzinfo | None = None,
        today: date | None = None,
    ) -> None:
        super().__init__()
        self.reviews = reviews
        self.reviewer = reviewer
        self.reasons = reasons
        self.outcomes = outcomes
        self.zone = zone
        self.today = today
        self.loads = 0
        """How many times the list was loaded (tests wait on it)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="review-tabs", initial="calls-tab"):
            with TabPane(keyed(self, _("Calls ({review-calls})")), id="calls-tab"):
                with Horizontal(classes="filters"):
                    yield Input(placeholder=_("Agent (user name)"), id="filter-agent")
                    yield Input(
                        self.today.isoformat() if self.today else "",
                        placeholder=_("Date YYYY-MM-DD"),
                        id="filter-day",
                    )
                    yield Select(
                        [(clean(code_label("reason", r)), r) for r in self.reasons],
                        prompt=_("Any reason"),
                        id="filter-reason",
                    )
                with Horizontal(classes="filters"):
                    yield Select(
                        [(clean(code_label("outcome", o)), o) for o in self.outcomes],
                        prompt=_("Any outcome"),
                        id="filter-outcome",
                    )
                    yield Select(
                        [(_(label), value) for label, value in OFFER_CHOICES],
                        prompt=_("Any offer response"),
                        id="filter-offer",
                    )
                    yield Checkbox(
                        _("Long (> {time})").format(
                            time=duration(self.reviews.long_handle_seconds)
                        ),
                        id="filter-long",
                    )
                yield DataTable(id="review-table", cursor_type="row", zebra_stripes=True)
            with TabPane(keyed(self, _("Scores ({review-scores})")), id="scores-tab"):
                yield DataTable(id="agent-quality", cursor_type="row")
                yield DataTable(id="agent-lines", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.title = _("Frontline · call review")
        table = self.query_one("#review-table", DataTable)
        # Fits 80 columns: 62 characters of cells and 14 of padding; longer text shows cut
        # with an ellipsis (the cells keep all of it).
        for key, label, width in REVIEW_COLUMNS:
            table.add_column(_(label), key=key, width=width)  # text: headings of REVIEW_COLUMNS
        quality = self.query_one("#agent-quality", DataTable)
        for label in (N_("Agent"), N_("Scored calls"), N_("Average"), N_("Last scored")):
            quality.add_column(_(label), key=label.lower())  # text: literal headings
        lines = self.query_one("#agent-lines", DataTable)
        for label in (N_("Call"), N_("Score"), N_("Reviewer"), N_("Coaching note")):
            lines.add_column(_(label), key=label.lower())  # text: literal headings
        self.query_one("#filter-agent", Input).tooltip = _(
            "Only this agent's calls; empty for all."
        )
        self.query_one("#filter-day", Input).tooltip = _("A local date; empty for any day.")
        self.query_one("#filter-long", Checkbox).tooltip = _(
            "Only calls whose talk + hold + wrap-up is over FRONTLINE_LONG_HANDLE_SECONDS."
        )
        self.reload()
        table.focus()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_focus_filters(self) -> None:
        self.action_show_tab("calls-tab")
        self.query_one("#filter-agent", Input).focus()

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#review-tabs", TabbedContent).active = tab
        if tab == "scores-tab":
            self.load_quality()

    def current_filter(self) -> ReviewFilter | None:
        raw_day = self.query_one("#filter-day", Input).value.strip()
        day = None
        if raw_day:
            try:
                day = date.fromisoformat(raw_day)
            except ValueError:
                return None

        def chosen(selector: str) -> str:
            value = self.query_one(selector, Select).value
            return "" if value is Select.NULL else str(value)

        return ReviewFilter(
            agent=self.query_one("#filter-agent", Input).value.strip(),
            day=day,
            reason=chosen("#filter-reason"),
            outcome=chosen("#filter-outcome"),
            offer_response=chosen("#filter-offer"),
            long_handle_only=self.query_one("#filter-long", Checkbox).value,
        )

    @on(Input.Changed, ".filters Input")
    @on(Select.Changed, ".filters Select")
    @on(Checkbox.Changed, "#filter-long")
    def _filters_changed(self) -> None:
        self.reload()

    def reload(self) -> None:
        wanted = self.current_filter()
        day_input = self.query_one("#filter-day", Input)
        day_input.set_class(wanted is None, "-invalid")
        if wanted is not None:
            self.load_calls(wanted)

    @work(group="review-calls", exclusive=True, exit_on_error=False)
    async def load_calls(self, wanted: ReviewFilter) -> None:
        try:
            rows = await self.reviews.calls(wanted)
        except Exception as error:  # noqa: BLE001 - say so, keep the last list
            self.notify(
                _("Could not load calls: {error}").format(error=clean(error)),
                severity="error",
                markup=False,
            )
            return
        if wanted != self.current_filter():  # drop stale answers
            return
        table = self.query_one("#review-table", DataTable)
        table.clear()
        for r in rows:
            table.add_row(
                compact_datetime(r.answered_at.astimezone(self.zone)) if r.answered_at else "—",
                fit(r.agent, REVIEW_WIDTHS["agent"]),
                fit(r.customer, REVIEW_WIDTHS["customer"]),
                fit(
                    f"{code_label('reason', r.reason) or '—'} / "
                    f"{code_label('outcome', r.outcome) or '—'}",
                    REVIEW_WIDTHS["codes"],
                ),
                Text(duration(r.handle_seconds), style="bold" if r.long_handle else ""),
                fit(r.offers or "—", REVIEW_WIDTHS["offer"]),
                f"{r.score:.0f}%" if r.score is not None else "",
                key=str(r.call_id),
            )
        self.loads += 1

    @on(DataTable.RowSelected, "#review-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_call(int(event.row_key.value))

    @work(group="review-open", exclusive=True, exit_on_error=False)
    async def open_call(self, call_id: int) -> None:
        try:
            detail = await self.reviews.detail(call_id)
        except (ReviewError, AccessDenied) as error:
            self.notify(clean(str(error)), severity="error")
            return

        def closed(saved: bool | None) -> None:
            if saved:
                self.reload()

        self.app.push_screen(ScoreForm(self.reviews, self.reviewer, detail, self.zone), closed)

    @work(group="review-quality", exclusive=True, exit_on_error=False)
    async def load_quality(self) -> None:
        summary = await self.reviews.by_agent()
        table = self.query_one("#agent-quality", DataTable)
        table.clear()
        for a in summary:
            table.add_row(
                safe_text(a.agent),
                str(a.scored_calls),
                f"{a.average_percent:.0f}%",
                _local(a.last_scored_at, self.zone),
                key=a.agent,
            )
        if summary:
            self.load_agent_lines(summary[0].agent)

    @on(DataTable.RowHighlighted, "#agent-quality")
    def _agent_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.load_agent_lines(event.row_key.value)

    @work(group="review-agent-lines", exclusive=True, exit_on_error=False)
    async def load_agent_lines(self, agent: str) -> None:
        lines = await self.reviews.scores_for(agent)
        table = self.query_one("#agent-lines", DataTable)
        table.clear()
        table.border_title = _("Scores of {agent}").format(agent=clean(agent))
        for s in lines:
            table.add_row(
                str(s.call_id),
                f"{s.percent:.0f}%",
                safe_text(s.reviewer),
                safe_text(s.coaching_note.replace("\n", " ")[:60]),
            )
