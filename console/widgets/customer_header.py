"""CustomerHeader: who is on the line and what needs attention, in three lines."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from console.codes import code_label
from console.i18n import N_, _
from console.safe_text import safe_text
from console.widgets.local_time import day
from console.widgets.tier_badge import tier_badge

if TYPE_CHECKING:  # the console starts before the services are imported
    from core.services.overview import CustomerOverview

EMPTY = N_("No customer open. Type a name, phone, email or customer number in the search box.")


class CustomerHeader(Static):
    """Name, customer number, tier badge, customer since, consent and alerts."""

    DEFAULT_CSS = """
    CustomerHeader { height: auto; padding: 0 1; }
    """

    overview: reactive[CustomerOverview | None] = reactive(None, always_update=True)

    def __init__(self, today: date | None = None, **kwargs: object) -> None:
        super().__init__(_(EMPTY), **kwargs)  # type: ignore[arg-type]
        self.today = today or date.today()

    def watch_overview(self, overview: CustomerOverview | None) -> None:
        self.update(self.render_overview(overview))

    def render_overview(self, overview: CustomerOverview | None) -> Text:
        if overview is None:
            return Text(_(EMPTY), style="dim italic")
        c = overview.customer
        tier = overview.loyalty.tier if overview.loyalty is not None else ""
        title = Text.assemble(
            safe_text(c.full_name, "bold"),
            "  ",
            safe_text(c.external_id, "bold cyan"),
            "  ",
            tier_badge(tier),
        )
        place = " ".join(p for p in (c.city, c.country) if p)
        facts = Text.assemble(
            safe_text(_("Customer since {date}").format(date=day(c.customer_since)), "dim"),
            safe_text(f" · {place}" if place else "", "dim"),
            safe_text(
                _(" · born {year}").format(year=c.birth_date.year) if c.birth_date else "", "dim"
            ),
        )
        flags: list[Text] = []
        if c.do_not_call:
            flags.append(Text(_(" DO NOT CALL "), style="bold white on red"))
        flags.append(
            Text(_("✓ marketing consent"), style="green")
            if c.marketing_consent
            else Text(_("✗ no marketing consent"), style="yellow")
        )
        if overview.open_complaint is not None:
            complaint = overview.open_complaint
            state = code_label("outcome", complaint.outcome) or _("open")
            flags.append(
                Text.assemble(
                    Text(_(" OPEN COMPLAINT "), style="bold white on dark_red"),
                    safe_text(f" {complaint.subject} ({state})", "red"),
                )
            )
        if overview.follow_up_on is not None:
            if overview.follow_up_due(self.today):
                flags.append(
                    Text(
                        _(" FOLLOW-UP DUE {date} ").format(date=day(overview.follow_up_on)),
                        style="bold black on yellow",
                    )
                )
            else:
                flags.append(
                    safe_text(
                        _("follow-up on {date}").format(date=day(overview.follow_up_on)), "yellow"
                    )
                )
        return Text("\n").join([title, facts, Text("  ").join(flags)])
