"""The offers panel and the rules screen, driven with the keyboard through Pilot."""

from __future__ import annotations

import os
from pathlib import Path

from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Static

from console.screens.rules import RulesScreen
from console.widgets.offer_prompt import OfferPrompt
from core.rules.engine import Clause
from core.rules.service import OfferProposal, OfferRate
from core.rules.store import RulesStore
from tests.console.conftest import running
from tests.core.rules_fixtures import RULES, write_rules


def proposal(pid: int, offer_id: str, title: str, script: str) -> OfferProposal:
    return OfferProposal(
        presentation_id=pid,
        offer_id=offer_id,
        title=title,
        script=script,
        value=120.0,
        rules_version="test@abc",
        rate=0.1,
        score=12.0,
        explanation=[
            Clause("policy: consent", "customer.consent", True, "customer.consent = true"),
            Clause(
                "holds_fibre_300",
                '"FIBRE_300" in customer.products',
                True,
                'customer.products = ["FIBRE_300", "TV_ESSENTIAL"]',
            ),
        ],
    )


PROPOSALS = [
    proposal(11, "fibre-upgrade", "Upgrade to 1 Gb fibre", "Ana, 1 Gb is only 9.90 more."),
    proposal(12, "tv-sports", "TV Sports [b]now[/b]", "Ana, add TV Sports."),
]


class PromptApp(App[None]):
    def compose(self) -> ComposeResult:
        yield OfferPrompt()

    def on_mount(self) -> None:
        prompt = self.query_one(OfferPrompt)
        prompt.show(PROPOSALS, decline_reasons=["not interested", "too expensive", "other"])
        prompt.focus()


def text_of(app: App[None], selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def chosen(messages: list[Message]) -> list[tuple[int, str, str]]:
    unique = {id(m): m for m in messages if isinstance(m, OfferPrompt.ResponseChosen)}  # bubbling
    return [(m.presentation_id, m.response, m.decline_reason) for m in unique.values()]


async def test_the_best_offer_and_its_script_are_shown() -> None:
    app = PromptApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert "Upgrade to 1 Gb fibre" in text_of(app, "#offer-title")
        assert "Offer 1 of 2" in text_of(app, "#offer-title")
        assert text_of(app, "#offer-script") == "Ana, 1 Gb is only 9.90 more."
        await pilot.press("right")
        assert "TV Sports [b]now[/b]" in text_of(app, "#offer-title")  # shown as text, not markup


async def test_why_lists_each_clause_with_the_value_it_saw() -> None:
    app = PromptApp()
    async with app.run_test() as pilot:
        assert text_of(app, "#offer-why") == ""
        await pilot.press("w")
        why = text_of(app, "#offer-why")
        assert '✓ holds_fibre_300  "FIBRE_300" in customer.products' in why
        assert 'saw customer.products = ["FIBRE_300", "TV_ESSENTIAL"]' in why
        await pilot.press("w")
        assert text_of(app, "#offer-why") == ""


async def test_accepted_and_not_offered_are_sent_and_move_on() -> None:
    messages: list[Message] = []
    app = PromptApp()
    async with app.run_test(message_hook=messages.append) as pilot:
        await pilot.press("a")
        await pilot.pause()
        assert "TV Sports" in text_of(app, "#offer-title")  # on to the next unanswered
        await pilot.press("n")
        await pilot.pause()
        assert chosen(messages) == [(11, "accepted", ""), (12, "not_offered", "")]
        assert "Recorded: not offered" in text_of(app, "#offer-status")
        assert app.query_one(OfferPrompt).unanswered == []


async def test_declined_asks_for_a_reason_from_the_list() -> None:
    messages: list[Message] = []
    app = PromptApp()
    async with app.run_test(message_hook=messages.append) as pilot:
        await pilot.press("d")
        await pilot.pause()
        assert app.query_one(OfferPrompt).has_class("choosing-reason")
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("d", "down", "down", "enter")
        await pilot.pause()
        assert chosen(messages) == [(11, "declined", "too expensive"), (12, "declined", "other")]


async def test_escape_closes_the_reasons_without_an_answer() -> None:
    messages: list[Message] = []
    app = PromptApp()
    async with app.run_test(message_hook=messages.append) as pilot:
        await pilot.press("d", "escape")
        await pilot.pause()
        assert not app.query_one(OfferPrompt).has_class("choosing-reason")
        assert chosen(messages) == []


async def test_no_offer_says_so() -> None:
    app = PromptApp()
    async with app.run_test() as pilot:
        app.query_one(OfferPrompt).show([])
        await pilot.pause()
        assert text_of(app, "#offer-title") == "No offer for this customer now."
        await pilot.press("a")  # nothing to answer: nothing happens


class FakeOffers:
    def __init__(self, store: RulesStore) -> None:
        self.store = store

    async def rates(self) -> list[OfferRate]:
        return [
            OfferRate(o.id, o.title, 10, 3, 5, 2, (o.prior.rate * o.prior.weight + 3) / 58)
            for o in self.store.rules.offers
        ]


class RulesApp(App[None]):
    def __init__(self, offers: FakeOffers) -> None:
        super().__init__()
        self.offers = offers

    def on_mount(self) -> None:
        self.push_screen(RulesScreen(self.offers, check_seconds=60))  # type: ignore[arg-type]


async def test_the_rules_screen_shows_offers_and_a_broken_file(tmp_path: Path) -> None:
    path = write_rules(tmp_path)
    offers = FakeOffers(RulesStore(path, min_interval=0))
    app = RulesApp(offers)
    async with running(app) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one("#rules-offers", DataTable)
        assert table.row_count == 3
        assert "fibre-upgrade" in str(table.get_row_at(0)[0])
        assert offers.store.rules.version in text_of(app.screen, "#rules-status")  # type: ignore[arg-type]
        good = offers.store.rules.version
        path.write_text(RULES.replace("value = 90.0", 'value = "ninety"'), encoding="utf-8")
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
        await pilot.press("f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        errors = text_of(app.screen, "#rules-errors")  # type: ignore[arg-type]
        assert "value must be a number, not text 'ninety'" in errors
        assert good in text_of(app.screen, "#rules-status")  # type: ignore[arg-type]
        notes = [n.message for n in pilot.notes]
        assert any("has 1 error" in n and good in n for n in notes)
