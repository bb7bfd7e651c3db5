"""ProductList: the products a customer holds, by product line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from console.i18n import N_, _
from console.safe_text import safe_text

if TYPE_CHECKING:  # the console starts before the services are imported
    from core.services.overview import CustomerOverview, HeldProduct


PRODUCT_LINES = (
    N_("mobile"),
    N_("fibre"),
    N_("tv"),
    N_("energy"),
    N_("insurance"),
    N_("devices"),
)
"""The catalogue's product lines, shown in the reader's words."""


class ProductList(Static):
    """One line per product line: `fibre  Fibre 600 (2021)`."""

    DEFAULT_CSS = """
    ProductList { height: auto; }
    """

    overview: reactive[CustomerOverview | None] = reactive(None, always_update=True)

    def watch_overview(self, overview: CustomerOverview | None) -> None:
        if overview is None:
            self.update("")
            return
        lines_held = overview.products_by_line()
        if not lines_held:
            self.update(Text(_("No products held."), style="dim italic"))
            return
        out = []
        for line, products in lines_held.items():
            out.append(safe_text(_(line).upper(), "bold"))
            out.extend(self._product(p) for p in products)
        self.update(Text("\n").join(out))

    @staticmethod
    def _product(product: HeldProduct) -> Text:
        return Text.assemble(
            "  ",
            safe_text(product.name or product.code),
            safe_text(_(" since {year}").format(year=product.since.year), "dim"),
        )
