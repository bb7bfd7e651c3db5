"""The result list shows its scroll bar when the results do not fit, and only then."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App, ComposeResult

from console.widgets.customer_list import CustomerList


@dataclass
class FakeHit:
    customer_id: int
    external_id: str
    name: str
    city: str = "Madrid"
    birth_year: int | None = 1980
    phone_tail: str = "…1234"
    tier: str = "Gold"


class ListApp(App[None]):
    CSS = "CustomerList { height: 8; }"

    def compose(self) -> ComposeResult:
        yield CustomerList()


async def test_the_scroll_bar_follows_the_number_of_results() -> None:
    app = ListApp()
    async with app.run_test(size=(60, 12)) as pilot:
        results = app.query_one(CustomerList)
        many = [FakeHit(n, f"C{n:08}", f"Customer {n}") for n in range(10)]
        results.show(many)
        await pilot.pause()
        assert results.show_vertical_scrollbar
        assert results.vertical_scrollbar.window_virtual_size == results.virtual_size.height
        results.move(9)  # the last one, scrolled into view
        await pilot.pause()
        assert results.scroll_offset.y > 0
        results.show(many[:1])
        await pilot.pause()
        assert not results.show_vertical_scrollbar
