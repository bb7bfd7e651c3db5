"""RulesScreen: the supervisor's view of the offer rules in use.

Shows the active rules version and file, each offer with its answers so far and learnt
acceptance rate, and — when the file on disk is broken — its errors, while the last good
rules stay in use. The file is checked every few seconds; a reload, good or bad, is notified.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from console.i18n import N_, _, ngettext
from console.keymap import KEYMAP
from console.safe_text import safe_text
from console.textual_words import TranslatedBindings
from console.widgets.local_time import amount, format_time, percent_1
from core.rules.service import OfferRate, OfferService
from core.rules.store import Reload

CHECK_SECONDS = 3.0


WORDS = (
    # The rules file's codes, shown in the reader's words: offer kinds, arbitration modes.
    N_("marketing"),
    N_("service"),
    N_("priority"),
    N_("expected_value"),
    N_("thompson"),
)


class RulesScreen(TranslatedBindings, Screen[None]):
    """Offer rules: version, offers with acceptance rates, and the errors of a broken file."""

    DEFAULT_CSS = """
    RulesScreen #rules-status { height: auto; padding: 0 1; }
    RulesScreen #rules-errors { height: auto; max-height: 12; padding: 0 1; color: $error; }
    RulesScreen #rules-offers { height: 1fr; }
    """

    BINDINGS = KEYMAP["rules"].bindings

    def __init__(self, offers: OfferService, check_seconds: float = CHECK_SECONDS) -> None:
        super().__init__()
        self.offers = offers
        self.check_seconds = check_seconds

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static(id="rules-status")
            yield Static(id="rules-errors")
            yield DataTable(id="rules-offers", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#rules-offers", DataTable)
        table.add_columns(
            _("offer"),
            _("title"),
            _("kind"),
            _("value"),
            _("shown"),
            _("accepted"),
            _("declined"),
            _("not offered"),
            _("rate"),
        )
        self.title = _("Offer rules")
        self.check_rules(force=True)
        self.set_interval(self.check_seconds, self.check_rules)

    def action_refresh_rules(self) -> None:
        self.check_rules(force=True)

    @work(exclusive=True, group="rules-check", exit_on_error=False)
    async def check_rules(self, force: bool = False) -> None:
        # reading and compiling a changed file is blocking work: off the event loop
        result = await asyncio.to_thread(self.offers.store.check, force)
        rates = await self.offers.rates()
        self._show(rates)
        self._tell(result)

    def _tell(self, result: Reload) -> None:
        if not result.changed:
            return
        store = self.offers.store
        if result.loaded:
            self.notify(
                _("Offer rules reloaded: version {version}").format(version=store.rules.version),
                title=_("Rules"),
                markup=False,
            )
        elif result.errors:
            count = len(result.errors)
            self.notify(
                ngettext(
                    "{file} has {count} error; the rules {version} stay in use. First: {first}",
                    "{file} has {count} errors; the rules {version} stay in use. First: {first}",
                    count,
                ).format(
                    file=store.path.name,
                    count=count,
                    version=store.rules.version,
                    first=result.errors[0].message,
                ),
                title=_("Rules file broken"),
                severity="error",
                timeout=15,
                markup=False,
            )

    def _show(self, rates: list[OfferRate]) -> None:
        store = self.offers.store
        rules = store.rules
        loaded = format_time(datetime.now().astimezone()) if store.loaded_at is not None else "—"
        status = Text.assemble(
            safe_text(_("Rules in use: "), "bold"),
            safe_text(rules.version),
            safe_text(_("   file {path}").format(path=store.path), "dim"),
            safe_text(
                _("   {offers} offers, {arbitration}, at most {most} per call").format(
                    offers=len(rules.offers),
                    arbitration=_(rules.policy.arbitration),
                    most=rules.policy.max_offers_per_call,
                ),
                "dim",
            ),
            safe_text(_("   checked {time}").format(time=loaded), "dim"),
        )
        self.query_one("#rules-status", Static).update(status)
        errors = self.query_one("#rules-errors", Static)
        if store.broken:
            lines = [
                safe_text(_("The file on disk has errors; the rules above stay in use:"), "bold")
            ]
            lines.extend(safe_text(str(error)) for error in store.errors)
            errors.update(Text("\n").join(lines))
            errors.display = True
        else:
            errors.update("")
            errors.display = False
        table = self.query_one("#rules-offers", DataTable)
        table.clear()
        by_id = {o.id: o for o in rules.offers}
        for rate in rates:
            offer = by_id.get(rate.offer_id)
            table.add_row(
                safe_text(rate.offer_id),
                safe_text(rate.title),
                safe_text(_(offer.kind) if offer else ""),
                amount(offer.value) if offer else "",
                f"{rate.shown:,}",
                f"{rate.accepted:,}",
                f"{rate.declined:,}",
                f"{rate.not_offered:,}",
                percent_1(rate.rate),
                key=rate.offer_id,
            )
