"""LoyaltyPanel: the caller's loyalty status and value at a glance, from a CustomerProfile."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from console.i18n import N_, _, ngettext
from console.safe_text import safe_text
from console.widgets.local_time import amount, decimal, format_number, format_percent
from console.widgets.tier_badge import tier_style
from core.analytics.config import DEFAULT_TIER_THRESHOLDS
from core.analytics.loyalty import tier_progress
from core.analytics.profile import CustomerProfile
from core.analytics.rfm import NO_PURCHASES, NOT_SCORED

HELP_TEXT = N_("""\
Tier and points: the loyalty programme's tier (Bronze, Silver, Gold, Platinum by default; 1 point \
per 1.00 spent) and the points still needed for the next tier; the bar shows the way from this \
tier's threshold to the next.
Segment: the RFM segment, from how recently (R), how often (F) and how much (M) the customer \
bought, each scored 1-5 against all customers (5 = best). R and F name the segment: Champions, \
Loyal Customers, Potential Loyalists, New Customers, Promising, Need Attention, About to Sleep, \
At Risk, Can't Lose Them, Hibernating.
Value 12m (expected value): what the customer is expected to spend with us over the next 12 months \
(configurable): expected purchases (BG/NBD model) times expected spend per purchase \
(Gamma-Gamma model), fitted on all customers' purchases at the last refresh.
Spend 12m: what they spent with us in the last 365 days. Share of wallet: that spend over an \
estimate of what a household spends on the categories we sell.
Churn risk: the chance that the customer has already stopped buying from us, 1 - P(alive) of \
the BG/NBD model. It rises the longer a regular buyer goes without buying, faster for customers \
who used to buy often. Low under 30%; high from 60%. The model cannot judge a customer \
who bought only once (it shows 0%): look at the days since their purchase instead.
NPS: their latest answer to "how likely are you to recommend us" (0-10): 9-10 promoter, \
7-8 passive, 0-6 detractor.
"Not scored yet" means no analytics refresh has run: `frontline analytics refresh`.""")
"""What each figure means, for the help screen."""

LOW_RISK = 0.3
HIGH_RISK = 0.6
BAR_WIDTH = 12
LABEL_WIDTH = 11

WORDS = (
    # Shown from data: the default tiers, the churn levels, the NPS categories.
    N_("Bronze"),
    N_("Silver"),
    N_("Gold"),
    N_("Platinum"),
    N_("low"),
    N_("medium"),
    N_("high"),
    N_("promoter"),
    N_("passive"),
    N_("detractor"),
)


_SEGMENT_STYLES = {
    N_("Champions"): "bold green",
    N_("Loyal Customers"): "green",
    N_("Potential Loyalists"): "green",
    N_("New Customers"): "cyan",
    N_("Promising"): "cyan",
    N_("Need Attention"): "yellow",
    N_("About to Sleep"): "yellow",
    N_("At Risk"): "bold red",
    N_("Can't Lose Them"): "bold red",
    N_("Hibernating"): "red",
}


def _money(value: float) -> str:
    return amount(value)


def progress_bar(done: float, width: int = BAR_WIDTH) -> list[tuple[str, str]]:
    """A bar in half cells, drawn as Rich's progress bar draws it (as text, not a table)."""
    halves = max(0, min(2 * width, int(2 * width * done)))
    full, half = divmod(halves, 2)
    rest = width - full - half
    ends = "╺" if rest and not half and full else ""
    return [
        ("━" * full + ("╸" if half else ""), "magenta"),
        (ends + "━" * (rest - len(ends)), "grey23"),
    ]


def churn_level(risk: float) -> str:
    """low, medium or high, for the colour and the words next to the percentage."""
    if risk >= HIGH_RISK:
        return "high"
    return "medium" if risk >= LOW_RISK else "low"


class LoyaltyPanel(Static):
    """Tier badge, points and the way to the next tier, segment, value, churn risk, NPS.

    Set `profile` (a CustomerProfile, or None to clear); the panel never calls a service.
    """

    DEFAULT_CSS = """
    LoyaltyPanel { height: auto; padding: 0 1; }
    """

    profile: reactive[CustomerProfile | None] = reactive(None, always_update=True)

    def __init__(
        self,
        *,
        thresholds: Sequence[tuple[str, int]] = DEFAULT_TIER_THRESHOLDS,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name for it
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.thresholds = tuple(thresholds)

    def watch_profile(self, profile: CustomerProfile | None) -> None:
        self.update("" if profile is None else self.render_profile(profile))

    def render_profile(self, profile: CustomerProfile) -> Text:
        """The panel's content for one profile (also used by tests and snapshots).

        Plain lines of text with the labels padded, not Rich tables: the panel is redrawn
        with every customer opened, and tables cost more to lay out than all the rest.
        """
        return Text("\n").join([*self._tier(profile), *self._figures(profile)])

    def _tier(self, p: CustomerProfile) -> list[Text]:
        if not p.tier:
            return [Text(_("Not a loyalty member"), style="dim italic")]
        badge = safe_text(f" {_(p.tier).upper()} ", tier_style(p.tier))
        head = Text.assemble(
            badge, "  ", (_("{points} pts").format(points=format_number(p.points)), "bold")
        )
        if p.next_tier is None or p.points_to_next_tier is None:
            return [head, Text(_("Top tier"), style="dim")]
        line = Text.assemble(
            *progress_bar(self._progress(p)),
            " ",
            (format_number(p.points_to_next_tier), "bold"),
            _(" to "),
            safe_text(_(p.next_tier)),
        )
        return [head, line]

    def _progress(self, p: CustomerProfile) -> float:
        names = [name.lower() for name, _points in self.thresholds]
        if p.tier.lower() in names:
            return tier_progress(p.points, p.tier, self.thresholds)
        total = p.points + (p.points_to_next_tier or 0)
        return p.points / total if total else 0.0

    def _figures(self, p: CustomerProfile) -> list[Text]:
        rows = [
            (_("Segment"), self._segment(p)),
            # The scores on a line of their own: beside the longest segment names they
            # would not fit the card and wrap under the labels.
            *(
                [(_("RFM"), Text(f"R{p.r_score} F{p.f_score} M{p.m_score}"))]
                if p.rfm_segment not in (NOT_SCORED, NO_PURCHASES)
                else []
            ),
            (_("Value 12m"), self._value(p)),
            (
                _("Spend 12m"),
                Text(
                    _("{spend}  ·  wallet {share}").format(
                        spend=_money(p.spend_12m), share=format_percent(p.depth)
                    )
                ),
            ),
            (_("Churn risk"), self._churn(p)),
            (_("NPS"), self._nps(p)),
            (
                _("Customer"),
                Text(
                    _("{years} yrs · {lines}").format(
                        years=decimal(p.tenure_years),
                        lines=ngettext("{n} line", "{n} lines", p.scope).format(n=p.scope),
                    )
                ),
            ),
        ]
        width = max(LABEL_WIDTH, *(len(label) + 1 for label, _value in rows))
        return [Text.assemble((label.ljust(width), "dim"), value) for label, value in rows]

    @staticmethod
    def _segment(p: CustomerProfile) -> Text:
        if p.rfm_segment == NOT_SCORED:
            return Text(_("not scored yet"), style="dim italic")
        if p.rfm_segment == NO_PURCHASES:
            return Text(_("no purchases"), style="dim")
        return safe_text(_(p.rfm_segment), _SEGMENT_STYLES.get(p.rfm_segment, "bold"))

    @staticmethod
    def _value(p: CustomerProfile) -> Text:
        if p.rfm_segment in (NOT_SCORED, NO_PURCHASES):
            return Text("—", style="dim")
        return Text.assemble(
            (_money(p.expected_value), "bold"),
            (
                _(" · {n} buys").format(n=decimal(p.expected_purchases)),
                "dim",
            ),
        )

    @staticmethod
    def _churn(p: CustomerProfile) -> Text:
        if p.rfm_segment in (NOT_SCORED, NO_PURCHASES):
            return Text("—", style="dim")
        level = churn_level(p.churn_risk)
        style = {"high": "bold red", "medium": "yellow", "low": "green"}[level]
        return Text.assemble((format_percent(p.churn_risk), style), (f" {_(level)}", style))

    @staticmethod
    def _nps(p: CustomerProfile) -> Text:
        if p.nps_score is None:
            return Text(_("no answer"), style="dim")
        style = {"promoter": "green", "passive": "yellow", "detractor": "red"}.get(
            p.nps_category or "", ""
        )
        return Text.assemble(
            (str(p.nps_score), "bold"), " ", (_(p.nps_category) if p.nps_category else "", style)
        )
